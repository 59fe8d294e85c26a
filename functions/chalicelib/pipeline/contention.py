"""Optimistic updates of one gateway's control state.

Ingest, top-ups, manual power changes and settings roll-outs all read the bus's
state item, change it and write it back on condition that nobody else did; a writer
that lost waits (``data/backoff.py``) and tries again from a fresh read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from ..data.backoff import backoff
from ..data.errors import StaleStateError
from ..data.telemetry_store import TelemetryStore
from .context import BusContext
from .control import MeterState
from .errors import ControlContentionError

_T = TypeVar("_T")


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
