"""Reseller API keys and their rate windows. (The idempotency records of
reseller creates are Powertools': ``reseller_idempotency.py``.)

API keys: ``plr_<key_id>_<secret>``. Only the key id is stored in the clear
(it is the item's key: verification is one GetItem, never a Scan); the secret
is kept as sha256(salt || secret) with a per-key random salt. The secret is
256 random bits, so a fast hash is enough: nobody can brute-force it offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from . import keys
from .conditions import conditional_check_failed
from .models import ApiKey, ApiRateWindow

KEY_PREFIX = "plr"
KEY_ID_CHARS = 12
MAX_KEY_CHARS = 128


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    reseller_id: str
    secret: str  # the whole key, shown once

    def __repr__(self) -> str:  # never log the secret by accident
        return f"IssuedKey(key_id={self.key_id!r}, reseller_id={self.reseller_id!r})"


@dataclass(frozen=True)
class VerifiedKey:
    key_id: str
    reseller_id: str


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """``plr_<key_id>_<secret>`` -> (key_id, secret); None if it is not one."""
    if not raw or len(raw) > MAX_KEY_CHARS:
        return None
    prefix, _, rest = raw.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or len(key_id) != KEY_ID_CHARS or not key_id.isalnum() or not secret:
        return None
    return key_id, secret


class ApiKeyStore:
    def issue(self, reseller_id: str, now: datetime, label: str = "") -> IssuedKey:
        key_id = secrets.token_hex(KEY_ID_CHARS // 2)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        item = ApiKey(
            keys.api_key_pk(key_id),
            keys.API_KEY_SK,
            gsi1pk=keys.keys_of_reseller_gsi1pk(reseller_id),
            gsi1sk=keys.api_key_pk(key_id),
            key_id=key_id,
            reseller_id=reseller_id,
            salt=salt,
            secret_sha256=_digest(salt, secret),
            label=label[:100],
            created_at=now,
        )
        item.save(condition=ApiKey.pk.does_not_exist())
        return IssuedKey(key_id, reseller_id, f"{KEY_PREFIX}_{key_id}_{secret}")

    def verify(self, raw: str) -> VerifiedKey | None:
        """One consistent GetItem: a revocation is seen by the very next request."""
        parts = split_key(raw)
        if parts is None:
            return None
        key_id, secret = parts
        try:
            item = ApiKey.get(keys.api_key_pk(key_id), keys.API_KEY_SK, consistent_read=True)
        except DoesNotExist:
            return None
        if not hmac.compare_digest(_digest(item.salt, secret), item.secret_sha256):
            return None
        if item.status != "active":
            return None
        return VerifiedKey(key_id, str(item.reseller_id))

    def revoke(self, reseller_id: str, key_id: str, now: datetime) -> bool:
        """Revoke one of the reseller's own keys; False if it has no such key."""
        item = ApiKey(keys.api_key_pk(key_id), keys.API_KEY_SK)
        try:
            item.update(
                actions=[ApiKey.status.set("revoked"), ApiKey.revoked_at.set(now)],
                condition=ApiKey.reseller_id == reseller_id,
            )
        except UpdateError as exc:  # no such key, or another reseller's
            if conditional_check_failed(exc):
                return False
            raise
        return True


class RateWindows:
    """Fixed one-minute windows per key, counted with an atomic ADD."""

    def __init__(self, window_s: int = 60) -> None:
        self._window_s = window_s

    def hit(self, key_id: str, now: datetime) -> tuple[int, int]:
        """Count one request; return (requests in this window, seconds left)."""
        index = int(now.timestamp()) // self._window_s
        item = ApiRateWindow(keys.api_rate_pk(key_id), keys.sign_in_window_sk(index))
        item.update(
            actions=[
                ApiRateWindow.requests.add(1),
                ApiRateWindow.expires_at.set((index + 2) * self._window_s),
            ]
        )
        left = (index + 1) * self._window_s - int(now.timestamp())
        return int(item.requests), left
