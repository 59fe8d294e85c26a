"""Sign-in throttling policy: how many attempts per account and per client before the
sign-in screens refuse to even ask Cognito.

An attempt is reserved before Cognito is asked (``data/throttle.py``: check and count
in one conditional write), so parallel guesses cannot overrun the limit. A sign-in that
succeeds clears the account's window and gives the client back its attempt; a failure
keeps both. The account is the e-mail, normalised (trimmed, lower case): the only
username the screens pass on, so a Cognito alias (the ``sub``) cannot open a second
counter for the same person (``is_username``).
"""

from __future__ import annotations

import re
from datetime import datetime

from ..auth.errors import SignInThrottledError
from ..data.throttle import SCOPE_ACCOUNT, SCOPE_CLIENT, SignInThrottleStore

# What the screens accept as a username: an address, not Cognito's other aliases.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def is_username(email: str) -> bool:
    return bool(_EMAIL.match(email))


class SignInThrottle:
    def __init__(
        self, store: SignInThrottleStore, max_per_account: int, max_per_client: int
    ) -> None:
        self._store = store
        self._limits = {SCOPE_ACCOUNT: max_per_account, SCOPE_CLIENT: max_per_client}

    def reserve(self, email: str, client: str, now: datetime) -> None:
        """Count this attempt against the client and the account, or refuse it."""
        full = self._store.reserve(SCOPE_CLIENT, client, now, self._limits[SCOPE_CLIENT])
        if full is None:
            full = self._store.reserve(SCOPE_ACCOUNT, email, now, self._limits[SCOPE_ACCOUNT])
            if full is not None:  # the account refused: the client's attempt never ran
                self._store.release(SCOPE_CLIENT, client, now)
        if full is not None:
            retry_after = max(1, full.window_ends_at_s - int(now.timestamp()))
            raise SignInThrottledError(f"too many failed sign-ins ({full.scope})", retry_after)

    def succeeded(self, email: str, client: str, now: datetime) -> None:
        # The client's earlier failures stay: one good account must not launder a
        # client that is guessing other accounts' passwords. Only this attempt returns.
        self._store.clear(SCOPE_ACCOUNT, email, now)
        self._store.release(SCOPE_CLIENT, client, now)
