"""Failed sign-in counters in DynamoDB, per account and per client.

Fixed windows: one item per (scope, hashed subject, window index), incremented
with an atomic ``ADD`` so concurrent Lambda containers count together. Items
carry a TTL (``ttl``, unix seconds) so the table forgets old windows by itself;
reads ignore an expired window anyway, because DynamoDB deletes TTL'd items
lazily (up to days later).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from . import keys
from .models import SignInFailures

SCOPE_ACCOUNT = "account"
SCOPE_CLIENT = "client"
MAX_SUBJECT_CHARS = 320  # an e-mail address at most


def subject_digest(subject: str) -> str:
    """Emails and client addresses are hashed: the table needs equality, not the value."""
    return hashlib.sha256(subject.strip().lower()[:MAX_SUBJECT_CHARS].encode()).hexdigest()[:40]


@dataclass(frozen=True)
class WindowCount:
    scope: str
    failures: int
    window_ends_at_s: int


class SignInThrottleStore:
    def __init__(self, window_s: int) -> None:
        if not 60 <= window_s <= 86_400:
            raise ValueError("window_s must be between 60 and 86400")
        self._window_s = window_s

    def _window(self, now: datetime) -> int:
        return int(now.timestamp()) // self._window_s

    def count(self, scope: str, subject: str, now: datetime) -> WindowCount:
        index = self._window(now)
        ends = (index + 1) * self._window_s
        try:
            item = SignInFailures.get(
                keys.sign_in_throttle_pk(scope, subject_digest(subject)),
                keys.sign_in_window_sk(index),
                consistent_read=True,
            )
        except DoesNotExist:
            return WindowCount(scope, 0, ends)
        return WindowCount(scope, int(item.failures or 0), ends)

    def record_failure(self, scope: str, subject: str, now: datetime) -> int:
        index = self._window(now)
        item = SignInFailures(
            keys.sign_in_throttle_pk(scope, subject_digest(subject)),
            keys.sign_in_window_sk(index),
        )
        item.update(
            actions=[
                SignInFailures.failures.add(1),
                SignInFailures.scope.set(scope),
                SignInFailures.window_index.set(index),
                # keep the item one extra window so a read at the edge still sees it
                SignInFailures.expires_at.set((index + 2) * self._window_s),
            ]
        )
        return int(item.failures)  # update() reads back ALL_NEW into the item

    def clear(self, scope: str, subject: str, now: datetime) -> None:
        """A successful sign-in forgets the account's failures in this window."""
        SignInFailures(
            keys.sign_in_throttle_pk(scope, subject_digest(subject)),
            keys.sign_in_window_sk(self._window(now)),
        ).delete()
