"""Waiting between optimistic retries on one gateway's control state.

Ingest, top-ups, manual power changes and settings roll-outs all read the bus's
state item, change it and write it back on condition that nobody else did. Writers
that collided and retry at once collide again (the soak saw a top-up lose six times
in a row to three ingests and two other top-ups): a random wait, growing with each
attempt ("full jitter"), spreads them out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from ..data.errors import StaleStateError
from ..data.telemetry_store import TelemetryStore
from .context import BusContext
from .control import MeterState
from .errors import ControlContentionError

BASE_WAIT_S = 0.01
MAX_WAIT_S = 0.5

_T = TypeVar("_T")


def backoff(attempt: int, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait before retry number ``attempt`` (0 for the first retry)."""
    sleep(random.uniform(0, min(MAX_WAIT_S, BASE_WAIT_S * 2**attempt)))


def update_meter_state(
    telemetry: TelemetryStore,
    bus: BusContext,
    meter_id: str,
    now: datetime,
    change: Callable[[MeterState], _T | None],
    attempts: int,
) -> _T | None:
    """Read the bus's control state, let ``change`` alter one meter's entry, and write it
    back on condition that nobody else did; re-read and retry when someone did. ``change``
    answers what the caller wants back, or None when there is nothing to write."""
    for attempt in range(attempts):
        if attempt:
            backoff(attempt - 1)
        state = telemetry.get_state(bus.company_id, bus.gateway.gateway_id)
        mstate: MeterState = dict((state.meters or {}).get(meter_id, {}))
        result = change(mstate)
        if result is None:
            return None
        state.meters = {**(state.meters or {}), meter_id: mstate}
        try:
            telemetry.save_state(state, now)
        except StaleStateError:
            continue
        return result
    raise ControlContentionError(f"gateway state of {bus.gateway.gateway_id} kept changing")
