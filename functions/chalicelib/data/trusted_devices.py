"""Browsers that have signed in to an account (OWASP's "device cookie"): the cookie holds
a random token, the table its sha256 and the account it proved itself on.

A sign-in from a trusted browser is counted on the browser's own budget, so neither an
attacker failing on the account nor a busy shared address (a building behind one NAT)
locks the owner out. One GetItem per sign-in attempt that carries the cookie; one
PutItem the first time a browser signs in to an account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from . import keys
from .models import TrustedDevice
from .throttle import subject_digest

MAX_TOKEN_CHARS = 128


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TrustedDevices:
    def __init__(self, lifetime_s: int) -> None:
        self._lifetime_s = lifetime_s

    def trusts(self, token: str | None, account: str, now: datetime) -> bool:
        """Whether this browser signed in to ``account`` before (and not too long ago)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return False
        try:
            item = TrustedDevice.get(keys.trusted_device_pk(_digest(token)), keys.TRUSTED_DEVICE_SK)
        except DoesNotExist:
            return False
        fresh = int(item.expires_at_s) > int(now.timestamp())
        return fresh and item.account_digest == subject_digest(account)

    def issue(self, account: str, now: datetime) -> str:
        """A new device token for a browser that just signed in to ``account``."""
        token = secrets.token_urlsafe(32)
        TrustedDevice(
            keys.trusted_device_pk(_digest(token)),
            keys.TRUSTED_DEVICE_SK,
            account_digest=subject_digest(account),
            expires_at_s=int(now.timestamp()) + self._lifetime_s,
        ).save()
        return token
