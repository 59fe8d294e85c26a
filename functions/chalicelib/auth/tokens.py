"""Verify Cognito tokens by signature against the user pool's JWKS.

One verifier serves the custom authorizer in AWS and under ``chalice local``
(Chalice's own Cognito authorizer verifies nothing locally). The JWKS address
follows the Cognito endpoint: botocore's ``AWS_ENDPOINT_URL_COGNITO_IDP`` or
``AWS_ENDPOINT_URL`` when set (the local stand-in serves the pool's JWKS at
``/<pool_id>/.well-known/jwks.json``), else the public Cognito address. The
issuer is always the AWS form, which the stand-in also uses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from .attributes import COMPANY_ATTRIBUTE
from .errors import InvalidTokenError

JWKS_CACHE_S = 3600
LEEWAY_S = 30
MAX_TOKEN_CHARS = 8192
ID_TOKEN_COMPANY_CLAIM = COMPANY_ATTRIBUTE  # the attribute appears as a claim of that name


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a verified ID token says: the only source of company scope."""

    user_sub: str
    company_id: str
    email: str
    # When the user authenticated (``auth_time``; a refreshed token keeps it), checked
    # against the user's session epoch on every request (``auth/principals.py``).
    authenticated_at_s: int = 0
    # Only a verified address is an identity: an unverified ``email`` claim is dropped.
    email_verified: bool = False


def issuer_for(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def jwks_url_for(region: str, user_pool_id: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    endpoint = env.get("AWS_ENDPOINT_URL_COGNITO_IDP") or env.get("AWS_ENDPOINT_URL")
    base = endpoint.rstrip("/") if endpoint else issuer_for(region, user_pool_id).rsplit("/", 1)[0]
    return f"{base}/{user_pool_id}/.well-known/jwks.json"


class TokenVerifier:
    def __init__(
        self,
        region: str,
        user_pool_id: str,
        client_id: str,
        jwks_client: jwt.PyJWKClient | None = None,
    ) -> None:
        self._issuer = issuer_for(region, user_pool_id)
        self._client_id = client_id
        self._jwks = jwks_client or jwt.PyJWKClient(
            jwks_url_for(region, user_pool_id), cache_keys=True, lifespan=JWKS_CACHE_S
        )

    def verify_id_token(self, token: str) -> VerifiedIdentity:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidTokenError("missing or oversized token")
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=self._issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"token rejected: {exc}") from exc
        if claims.get("token_use") != "id":
            raise InvalidTokenError("an ID token is required")
        company_id = claims.get(ID_TOKEN_COMPANY_CLAIM)
        if not isinstance(company_id, str) or not company_id:
            raise InvalidTokenError("token carries no company")
        verified = claims.get("email_verified") in (True, "true")
        authenticated = claims.get("auth_time", claims["iat"])
        return VerifiedIdentity(
            user_sub=str(claims["sub"]),
            company_id=company_id,
            email=str(claims.get("email", "")) if verified else "",
            authenticated_at_s=authenticated if isinstance(authenticated, int) else 0,
            email_verified=verified,
        )


def bearer_token(header_value: str | None) -> str:
    if not header_value:
        raise InvalidTokenError("no Authorization header")
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidTokenError("Authorization must be 'Bearer <token>'")
    return token.strip()
