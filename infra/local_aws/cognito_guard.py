"""What the stand-in adds in front of moto's Cognito: it refuses what Cognito refuses
and moto lets through, where the product's security depends on the refusal.

- **Auth flows.** Cognito answers ``InvalidParameterException: <flow> flow not enabled
  for this client`` when ``InitiateAuth`` or ``AdminInitiateAuth`` asks for a flow the
  app client's ``ExplicitAuthFlows`` do not allow (a client without the setting allows
  SRP, custom auth and refresh). moto ignores the setting, so a test could sign in with
  ``USER_PASSWORD_AUTH`` on a client that Cognito would refuse it on.
- **SRP.** moto answers the ``PASSWORD_VERIFIER`` challenge without checking the
  proof: any password would do. The guard refuses the flow outright (never weaker than
  Cognito); the product's own sign-in does not use it.
- **Writable attributes.** Cognito refuses ``UpdateUserAttributes`` for an attribute
  that is not in the client's ``WriteAttributes`` (``NotAuthorizedException: A client
  attempted to write unauthorized attribute``); moto writes it. The portal client may
  write no attribute at all, so a user cannot change their own e-mail (issue 16's
  e-mail squatting).
- **CloudTrail.** Each successful call that ends a user's sessions in AWS (through
  CloudTrail and EventBridge) is recorded in the same event shape
  (``cloudtrail_events.py``), so tests drive ``cognito_account_changes`` with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jwt

from . import cloudtrail_events
from .dynamodb_guard import WsgiApp, read_body

_TARGET = "AWSCognitoIdentityProviderService."
# Cognito's default when a client sets no ExplicitAuthFlows.
DEFAULT_FLOWS = frozenset({"ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"})
_NEEDS = {
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "ADMIN_USER_PASSWORD_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
}


class CognitoGuard:
    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == cloudtrail_events.CLOUDTRAIL_PATH:
            return cloudtrail_events.serve_events(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(_TARGET):
            return self._app(environ, start_response)
        operation = target[len(_TARGET) :]
        if operation in cloudtrail_events.RECORDED_CALLS:
            return self._recorded(operation, environ, start_response)
        if operation in {"InitiateAuth", "AdminInitiateAuth", "RespondToAuthChallenge"}:
            refusal = _auth_refusal(operation, _json(environ))
        elif operation == "UpdateUserAttributes":
            refusal = _attribute_refusal(_json(environ))
        else:
            refusal = None
        if refusal is not None:
            return _error(start_response, *refusal)
        return self._app(environ, start_response)

    def _recorded(
        self, operation: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        """Run the call; when it succeeded, record what CloudTrail would have."""
        body = _json(environ)
        user_sub, pool_region = cloudtrail_events.user_of(operation, body)
        if operation == "GlobalSignOut" and pool_region:
            # Cognito finds any access token; moto's GlobalSignOut looks only in the
            # request's region, which an unsigned call to the one-address stand-in
            # does not carry (its ChangePassword searches every region).
            environ["HTTP_USER_AGENT"] = (
                f"{environ.get('HTTP_USER_AGENT', '')} region/{pool_region}"
            )
        status: list[str] = []

        def seen(code: str, headers: Any, *exc_info: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *exc_info)

        answer = list(self._app(environ, seen))
        if status and status[0].startswith("200"):
            region = pool_region or _region_of(environ)
            cloudtrail_events.record(operation, body, user_sub, region)
        return answer


def _region_of(environ: dict[str, Any]) -> str:
    """From the SigV4 credential scope (``.../<date>/<region>/cognito-idp/aws4_request``)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return scope[2] if len(scope) > 2 else "us-east-1"


def _auth_refusal(operation: str, body: dict[str, Any]) -> tuple[str, str] | None:
    if operation == "RespondToAuthChallenge":
        if body.get("ChallengeName") == "PASSWORD_VERIFIER":
            return ("InvalidParameterException", "the stand-in cannot check an SRP proof")
        return None
    flow = str(body.get("AuthFlow", ""))
    if flow == "USER_SRP_AUTH":
        return ("InvalidParameterException", "the stand-in cannot check an SRP proof")
    client = client_config(str(body.get("ClientId", "")))
    if client is None:
        return None  # moto answers ResourceNotFoundException itself
    allowed = frozenset(client.get("ExplicitAuthFlows") or DEFAULT_FLOWS)
    if _NEEDS.get(flow) not in allowed:
        return ("InvalidParameterException", f"{flow} flow not enabled for this client")
    return None


def _attribute_refusal(body: dict[str, Any]) -> tuple[str, str] | None:
    try:
        claims = jwt.decode(str(body.get("AccessToken", "")), options={"verify_signature": False})
    except jwt.PyJWTError:
        return None  # moto refuses an unknown token itself
    client = client_config(str(claims.get("client_id", "")))
    if client is None:
        return None
    writable = set(client.get("WriteAttributes") or ())
    names = {str(a.get("Name")) for a in body.get("UserAttributes") or ()}
    if not names <= writable:
        return ("NotAuthorizedException", "A client attempted to write unauthorized attribute")
    return None


def client_config(client_id: str) -> dict[str, Any] | None:
    """The app client's settings as moto keeps them (the guard runs in moto's process)."""
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in cognitoidp_backends.values():
        for backend in regions.values():
            for pool in backend.user_pools.values():
                client = pool.clients.get(client_id)
                if client is not None:
                    return dict(client.extended_config)
    return None


def _json(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        parsed = json.loads(read_body(environ) or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error(start_response: Callable[..., Any], code: str, message: str) -> list[bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]
