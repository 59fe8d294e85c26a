"""Sign-in throttling policy: how many failures per account and per client
before the sign-in screens refuse to even ask Cognito."""

from __future__ import annotations

from datetime import datetime

from ..auth.errors import SignInThrottledError
from ..data.throttle import SCOPE_ACCOUNT, SCOPE_CLIENT, SignInThrottleStore


class SignInThrottle:
    def __init__(
        self, store: SignInThrottleStore, max_per_account: int, max_per_client: int
    ) -> None:
        self._store = store
        self._limits = {SCOPE_ACCOUNT: max_per_account, SCOPE_CLIENT: max_per_client}

    def check(self, email: str, client: str, now: datetime) -> None:
        for scope, subject in ((SCOPE_ACCOUNT, email), (SCOPE_CLIENT, client)):
            count = self._store.count(scope, subject, now)
            if count.failures >= self._limits[scope]:
                retry_after = max(1, count.window_ends_at_s - int(now.timestamp()))
                raise SignInThrottledError(f"too many failed sign-ins ({scope})", retry_after)

    def failed(self, email: str, client: str, now: datetime) -> None:
        self._store.record_failure(SCOPE_ACCOUNT, email, now)
        self._store.record_failure(SCOPE_CLIENT, client, now)

    def succeeded(self, email: str, now: datetime) -> None:
        # The client's count stays: one good account must not launder a
        # client that is guessing other accounts' passwords.
        self._store.clear(SCOPE_ACCOUNT, email, now)
