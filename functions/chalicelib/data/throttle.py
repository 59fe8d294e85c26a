"""Sign-in attempt counters in DynamoDB, per account and per client.

Fixed windows: one item per (scope, hashed subject, window index). An attempt is
*reserved* before Cognito is asked, with one conditional ``ADD`` that succeeds only
while the window is under its limit, so check and count are one atomic step: twelve
parallel wrong passwords reach Cognito at most ``limit`` times, whatever the number of
Lambda containers (a read-then-write check let all twelve through). Items
carry a TTL (``ttl``, unix seconds) so the table forgets old windows by itself;
reads ignore an expired window anyway, because DynamoDB deletes TTL'd items
lazily (up to days later).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import UpdateError

from . import keys
from .conditions import conditional_check_failed
from .models import SignInFailures

SCOPE_ACCOUNT = "account"
SCOPE_CLIENT = "client"
SCOPE_DEVICE = "device"
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

    def reserve(self, scope: str, subject: str, now: datetime, limit: int) -> WindowCount | None:
        """Count one attempt if the window has fewer than ``limit``; None if it was
        counted, else the full window (the caller refuses without asking Cognito)."""
        index = self._window(now)
        item = SignInFailures(
            keys.sign_in_throttle_pk(scope, subject_digest(subject)),
            keys.sign_in_window_sk(index),
        )
        try:
            item.update(
                actions=[
                    SignInFailures.failures.add(1),
                    SignInFailures.scope.set(scope),
                    SignInFailures.window_index.set(index),
                    SignInFailures.expires_at.set((index + 2) * self._window_s),
                ],
                condition=SignInFailures.failures.does_not_exist()
                | (SignInFailures.failures < limit),
            )
        except UpdateError as exc:
            if not conditional_check_failed(exc):
                raise
            return WindowCount(scope, limit, (index + 1) * self._window_s)
        return None

    def release(self, scope: str, subject: str, now: datetime) -> None:
        """Give back one reserved attempt (it was not a failure)."""
        index = self._window(now)
        item = SignInFailures(
            keys.sign_in_throttle_pk(scope, subject_digest(subject)),
            keys.sign_in_window_sk(index),
        )
        try:
            item.update(
                actions=[SignInFailures.failures.add(-1)],
                condition=SignInFailures.failures > 0,
            )
        except UpdateError as exc:
            if not conditional_check_failed(exc):
                raise

    def clear(self, scope: str, subject: str, now: datetime) -> None:
        """A successful sign-in forgets the account's failures in this window."""
        SignInFailures(
            keys.sign_in_throttle_pk(scope, subject_digest(subject)),
            keys.sign_in_window_sk(self._window(now)),
        ).delete()
