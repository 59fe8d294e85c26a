"""Waiting before retrying a contended write, for every optimistic writer of the table.

Writers that collided and retry at once collide again (the soak saw a top-up lose six
times in a row to three ingests and two other top-ups): a random wait, growing with
each attempt up to a cap ("full jitter"), spreads them out. Ledger appends, settlements
and the gateways' control state all wait this way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

BASE_WAIT_S = 0.01
MAX_WAIT_S = 0.5


def backoff(attempt: int, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait before retry number ``attempt`` (0 for the first retry)."""
    sleep(random.uniform(0, min(MAX_WAIT_S, BASE_WAIT_S * 2**attempt)))
