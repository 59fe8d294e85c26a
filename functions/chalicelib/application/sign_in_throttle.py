"""Sign-in throttling policy: how many attempts per account, per client address and per
trusted browser before the sign-in screens refuse to even ask Cognito.

An attempt is reserved before Cognito is asked (``data/throttle.py``: check and count
in one conditional write), so parallel guesses cannot overrun the limit. Budgets:

- **The account**, keyed on the canonical user (the Cognito ``sub`` the e-mail resolves
  to; the normalised e-mail when no such user exists), so no alias or spelling opens a
  second counter. Strict: ``max_per_account`` per window.
- **The client address**, soft: a high limit (a building's residents share one NAT
  address), and it never applies to a trusted browser.
- **A trusted browser** (``data/trusted_devices.py``: it signed in to this account
  before) is counted on its own budget instead of the account's and the address's: an
  attacker's failures on the account, or a busy address, never lock the owner out on
  their own browser.

A sign-in that succeeds clears the account's window and gives the client back its
attempt; a failure keeps them.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..auth.errors import SignInThrottledError
from ..data.throttle import SCOPE_ACCOUNT, SCOPE_CLIENT, SCOPE_DEVICE, SignInThrottleStore
from ..data.trusted_devices import TrustedDevices

# What the screens accept as a username: an address, not Cognito's other aliases.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def is_username(email: str) -> bool:
    return bool(_EMAIL.match(email))


class SignInThrottle:
    def __init__(
        self,
        store: SignInThrottleStore,
        max_per_account: int,
        max_per_client: int,
        devices: TrustedDevices | None = None,
    ) -> None:
        self._store = store
        self._devices = devices
        self._limits = {
            SCOPE_ACCOUNT: max_per_account,
            SCOPE_CLIENT: max_per_client,
            SCOPE_DEVICE: max_per_account,
        }

    def reserve(self, account: str, client: str, now: datetime, device: str | None = None) -> bool:
        """Count this attempt, or refuse it (SignInThrottledError). True: it was counted
        on the trusted browser ``device`` (pass the same to ``succeeded``)."""
        if device and self._devices is not None and self._devices.trusts(device, account, now):
            self._reserve_or_refuse(SCOPE_DEVICE, device, now)
            return True
        full = self._store.reserve(SCOPE_CLIENT, client, now, self._limits[SCOPE_CLIENT])
        if full is None:
            full = self._store.reserve(SCOPE_ACCOUNT, account, now, self._limits[SCOPE_ACCOUNT])
            if full is not None:  # the account refused: the client's attempt never ran
                self._store.release(SCOPE_CLIENT, client, now)
        if full is not None:
            raise _throttled(full.scope, full.window_ends_at_s, now)
        return False

    def succeeded(
        self, account: str, client: str, now: datetime, trusted_device: str | None = None
    ) -> str | None:
        """Forget the account's failures; a device token for a browser not yet trusted."""
        if trusted_device is not None:
            self._store.clear(SCOPE_DEVICE, trusted_device, now)
            return None
        # The client's earlier failures stay: one good account must not launder a
        # client that is guessing other accounts' passwords. Only this attempt returns.
        self._store.clear(SCOPE_ACCOUNT, account, now)
        self._store.release(SCOPE_CLIENT, client, now)
        return self._devices.issue(account, now) if self._devices is not None else None

    def _reserve_or_refuse(self, scope: str, subject: str, now: datetime) -> None:
        full = self._store.reserve(scope, subject, now, self._limits[scope])
        if full is not None:
            raise _throttled(scope, full.window_ends_at_s, now)


def _throttled(scope: str, window_ends_at_s: int, now: datetime) -> SignInThrottledError:
    retry_after = max(1, window_ends_at_s - int(now.timestamp()))
    return SignInThrottledError(f"too many failed sign-ins ({scope})", retry_after)
