"""How reseller routes authenticate: an API key, not a user's token.

``reseller_key_authorizer`` verifies ``Authorization: Bearer plr_<id>_<secret>``
with one consistent GetItem and caches nothing (``ttl_seconds=0``), so a
revoked key fails on its very next request. ``reseller_route`` registers a
route in the same ``ROUTE_ACCESS`` registry as every other route; the view
then calls ``current_reseller`` which applies the per-key rate limit.
Company admins' tokens are not API keys: they get 403 here.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from chalice import AuthResponse, Blueprint, Response
from chalice.app import AuthRequest
from pydantic import BaseModel

from ..application.reseller.errors import (
    IdempotencyInProgressError,
    IdempotencyKeyMismatchError,
    IdempotencyKeyMissingError,
    NoResellerKeyError,
    RateLimitedError,
)
from ..auth.principal import Role
from ..routing.access import declare
from ..routing.dependencies import deps
from ..routing.errors import map_errors
from ..routing.responses import CREATED, OK, Answers, conform

reseller_auth_bp = Blueprint(__name__)

RESELLER = frozenset({Role.RESELLER})
IDEMPOTENCY_HEADER = "idempotency-key"
MAX_IDEMPOTENCY_KEY_CHARS = 255
# Secrets are shown once: a replayed answer carries everything but these.
WITHHELD_ON_REPLAY = ("private_key", "api_key")

_F = TypeVar("_F", bound=Callable[..., Any])


@reseller_auth_bp.authorizer(name="reseller_key_authorizer", ttl_seconds=0)
def reseller_key_authorizer(auth_request: AuthRequest) -> AuthResponse:
    raw = (auth_request.token or "").strip()
    scheme, _, rest = raw.partition(" ")
    key = rest.strip() if scheme.lower() == "bearer" else raw
    verified = deps().reseller_keys.verify(key)
    if verified is None:  # not a key, a wrong secret, revoked, or its reseller is not active
        # Let it through unverified: only the route sees the caller's address, and counts
        # the failure against it there (``_verified_keys_only`` refuses it, always).
        guess = {"key_refused": "1"} if deps().reseller_keys.is_key_shaped(key) else {}
        return AuthResponse(routes=["*"], principal_id="anonymous", context=guess)
    return AuthResponse(
        routes=["*"],
        principal_id=f"reseller:{verified.reseller_id}",
        context={"reseller_id": verified.reseller_id, "key_id": verified.key_id},
    )


def reseller_route(
    bp: Blueprint,
    path: str,
    methods: tuple[str, ...] = ("GET",),
    body: type[BaseModel] | None = None,
    idempotent: bool = False,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    **kw: Any,
) -> Callable[[_F], _F]:
    def register(func: _F) -> _F:
        answers = Answers(response, CREATED if idempotent else OK, errors)
        declare(path, methods, RESELLER, body, idempotent, query, answers)
        kw["authorizer"] = reseller_key_authorizer
        bp.route(path, methods=list(methods), **kw)(
            map_errors(conform(_verified_keys_only(bp, func), response), bp)
        )
        return func

    return register


def _verified_keys_only(bp: Blueprint, view: _F) -> _F:
    """Refuse a request whose key the authorizer could not verify (403), counting a
    key-shaped failure against the source address (429 once its budget is spent)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        request = bp.current_request
        authorizer = request.context.get("authorizer") or {}
        if not authorizer.get("reseller_id"):
            if authorizer.get("key_refused"):  # a key with a wrong secret: count the guess
                identity = request.context.get("identity") or {}
                source = str(identity.get("sourceIp") or "unknown")
                deps().failed_key_checks.failed(source, datetime.now(UTC))
            raise NoResellerKeyError("no valid reseller API key")
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


@dataclass(frozen=True)
class ResellerPrincipal:
    reseller_id: str
    key_id: str


def current_reseller(bp: Blueprint, now: datetime | None = None) -> ResellerPrincipal:
    ctx = bp.current_request.context.get("authorizer") or {}
    reseller_id, key_id = ctx.get("reseller_id"), ctx.get("key_id")
    if not reseller_id or not key_id:
        raise NoResellerKeyError("no verified reseller key on the request")
    svc = deps()
    count, retry_after_s = svc.rate_windows.hit(key_id, now or datetime.now(UTC))
    if count > svc.reseller_settings.rate_per_minute:
        raise RateLimitedError("too many requests for this API key", retry_after_s)
    return ResellerPrincipal(str(reseller_id), str(key_id))


def request_fingerprint(method: str, path: str, raw_body: bytes | str | None) -> dict[str, Any]:
    """What a replay must repeat: the route and the JSON (Powertools hashes it with
    sorted keys, so key order and spacing do not count)."""
    body = raw_body.encode() if isinstance(raw_body, str) else (raw_body or b"")
    try:
        content: Any = json.loads(body or b"null")
    except ValueError:  # not JSON: the bytes themselves must match
        content = {"sha256": hashlib.sha256(body).hexdigest()}
    return {"method": method, "path": path, "body": content}


def idempotent_create(
    bp: Blueprint, reseller: ResellerPrincipal, create: Callable[[], dict[str, Any]]
) -> Response:
    """Run ``create`` once per (reseller, idempotency key); a replay gets the first
    answer. Powertools' refusals become the reseller API's own errors, answered in
    ``routing/errors.py`` like every other failure."""
    request = bp.current_request
    key = request.headers.get(IDEMPOTENCY_HEADER) if request.headers else None
    key = key or ""
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
        raise IdempotencyKeyMissingError("an Idempotency-Key header (1-255 characters) is required")
    fingerprint = request_fingerprint(
        request.method, request.context.get("path") or request.path, request.raw_body
    )
    try:
        answer = deps().idempotency.run(
            reseller.reseller_id, key, fingerprint, create, withheld=WITHHELD_ON_REPLAY
        )
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyMismatchError(
            "this Idempotency-Key was used with another request body"
        ) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgressError(
            "the first request with this key is still running"
        ) from exc
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body=answer.body, status_code=201, headers=headers)
