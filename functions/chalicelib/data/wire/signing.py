"""AWS Signature Version 4 for the DynamoDB wire client, on hashlib and hmac only.

The algorithm is AWS's ("Create a signed AWS API request", IAM User Guide): a canonical
request (method, path, sorted query, sorted lower-case headers, the signed-header list,
the body's SHA-256), a string to sign over it with the credential scope, and an HMAC
chain from the secret through date, region and service. The key that chain ends in
depends on the secret and the day only, so it is kept per (secret, day): a message's
signature then costs two SHA-256 and one HMAC. botocore's ``SigV4Auth`` is the oracle
its tests compare against (tests/unit/data/test_wire_signing.py).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from .errors import MissingCredentialsError

ALGORITHM = "AWS4-HMAC-SHA256"
ENV_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a variable's name
ENV_SESSION_TOKEN = "AWS_SESSION_TOKEN"  # noqa: S105 - a variable's name
# Headers a proxy or the HTTP layer may change on the way: never signed (botocore's list).
_UNSIGNED = frozenset({"connection", "expect", "keep-alive", "user-agent", "x-amzn-trace-id"})


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"Credentials({self.access_key_id!r}, session={self.session_token is not None})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        """The variables the Lambda runtime sets for the function's role (and the local
        stand-in sets for its dummy user). Raises MissingCredentialsError without them."""
        source = os.environ if env is None else env
        key, secret = source.get(ENV_ACCESS_KEY_ID), source.get(ENV_SECRET_ACCESS_KEY)
        if not key or not secret:
            raise MissingCredentialsError(
                f"no AWS credentials: {ENV_ACCESS_KEY_ID} and {ENV_SECRET_ACCESS_KEY} are unset"
            )
        return cls(key, secret, source.get(ENV_SESSION_TOKEN) or None)


def amz_date(at: datetime) -> str:
    """The request time as SigV4 wants it (UTC, basic ISO 8601): ``20261206T182000Z``."""
    return at.strftime("%Y%m%dT%H%M%SZ")


class Signer:
    """Signs requests to one service in one region."""

    def __init__(self, region: str, service: str) -> None:
        self.region = region
        self.service = service
        self._keys: dict[tuple[str, str], bytes] = {}

    def authorization(
        self,
        credentials: Credentials,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        timestamp: str,
    ) -> str:
        """The Authorization header for a request carrying exactly ``headers`` (which
        must include ``host`` and ``x-amz-date`` = ``timestamp``, and the session token
        header when the credentials have one)."""
        canonical, signed = canonical_request(method, path, query, headers, body)
        return self.sign(credentials, timestamp, canonical, signed)

    def sign(self, credentials: Credentials, timestamp: str, canonical: str, signed: str) -> str:
        """The Authorization header for a canonical request and its signed-header list."""
        day = timestamp[:8]
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"
        key = self._signing_key(credentials.secret_access_key, day)
        signature = hmac.digest(key, to_sign.encode(), "sha256").hex()
        return (
            f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached = self._keys.get((secret, day))
        if cached is None:
            key = _hmac(f"AWS4{secret}".encode(), day)
            for part in (self.region, self.service, "aws4_request"):
                key = _hmac(key, part)
            self._keys.clear()  # one day, one secret at a time: the cache never grows
            self._keys[(secret, day)] = cached = key
        return cached


class JsonPostSigner:
    """SigV4 for one endpoint's JSON-protocol requests: ``POST`` to one path with the
    headers the wire client sends (Content-Type, Host, X-Amz-Date, the session token when
    there is one, X-Amz-Target). The canonical request's fixed parts are built once, so
    a request costs its body's SHA-256, the canonical request's SHA-256 and one HMAC;
    tests check it against ``canonical_request`` and botocore's SigV4Auth."""

    def __init__(self, signer: Signer, host: str, path: str, content_type: str) -> None:
        self._signer = signer
        head = f"POST\n{quote(path or '/', safe='/~')}\n\n"
        self._before_date = f"{head}content-type:{_normal(content_type)}\nhost:{_normal(host)}\n"

    def authorization(
        self, credentials: Credentials, timestamp: str, target: str, body: bytes
    ) -> str:
        token = credentials.session_token
        if token:
            names = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
            token_line = f"x-amz-security-token:{_normal(token)}\n"
        else:
            names = "content-type;host;x-amz-date;x-amz-target"
            token_line = ""
        canonical = (
            f"{self._before_date}x-amz-date:{timestamp}\n{token_line}"
            f"x-amz-target:{_normal(target)}\n\n{names}\n{hashlib.sha256(body).hexdigest()}"
        )
        return self._signer.sign(credentials, timestamp, canonical, names)


def _normal(value: str) -> str:
    """A header value as SigV4 canonicalises it: trimmed, inner runs of spaces as one."""
    return " ".join(value.split())


def canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> tuple[str, str]:
    """The canonical request and its signed-header list."""
    lowered = {
        name.lower(): _normal(str(value))
        for name, value in headers.items()
        if name.lower() not in _UNSIGNED
    }
    names = sorted(lowered)
    signed = ";".join(names)
    canonical = "\n".join(
        (
            method.upper(),
            quote(path or "/", safe="/~"),
            canonical_query(query),
            "".join(f"{name}:{lowered[name]}\n" for name in names),
            signed,
            hashlib.sha256(body).hexdigest(),
        )
    )
    return canonical, signed


def canonical_query(query: Mapping[str, str]) -> str:
    pairs = sorted((quote(k, safe="-_.~"), quote(str(v), safe="-_.~")) for k, v in query.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode(), "sha256")
