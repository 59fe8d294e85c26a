"""Failed reseller API key checks, counted per source address (issue 16: key guessing was
not throttled). A source past its budget is answered 429 for the rest of the window,
before its key is looked at again; a valid key costs nothing here.

API Gateway's TOKEN authorizer sees the key but not the caller's address, so the
authorizer lets a refused key through as unverified and the reseller routes' wrapper
(``api/reseller_access.py``) counts and refuses it with the address from the request.
The count is one conditional ``ADD`` per failure (``data/throttle.py``), atomic across
containers.
"""

from __future__ import annotations

from datetime import datetime

from ...data.throttle import SignInThrottleStore
from .errors import RateLimitedError

SCOPE_RESELLER_KEY = "reseller_key"


class FailedKeyChecks:
    def __init__(self, store: SignInThrottleStore, max_per_source: int) -> None:
        self._store = store
        self._limit = max_per_source

    def failed(self, source: str, now: datetime) -> None:
        """Count a failed check from ``source``; RateLimitedError once its budget is spent."""
        full = self._store.reserve(SCOPE_RESELLER_KEY, source, now, self._limit)
        if full is not None:
            retry_after = max(1, full.window_ends_at_s - int(now.timestamp()))
            raise RateLimitedError("too many failed API key checks from this address", retry_after)
