"""The readings a meter has not been charged for, read back from its bus's cycles.

Settlement normally runs inside ingest, on the message that makes it due. A top-up
(``meter_control.py``) and a tariff change (``settings_rollout.py``) must settle
outside a message, first, so the policy weighs the credit against what was really
used and the old price covers exactly the energy used under it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..data.telemetry_store import TelemetryStore
from ..domain import Reading
from .context import BusContext, MeterContext
from .gaps import complete_readings
from .ingest import bus_history

# A cursor is at most a settlement period old while the meter reports; look back
# further only to a limit, and a little ahead, as gateway clocks drift.
MAX_UNSETTLED_LOOKBACK = timedelta(days=2)
CLOCK_SKEW = timedelta(minutes=5)


def unsettled_readings(
    telemetry: TelemetryStore,
    bus: BusContext,
    meter_ctx: MeterContext,
    cursor_at: datetime,
    now: datetime,
    upto: datetime | None = None,
) -> list[Reading]:
    """Every reading since the cursor, up to a cycle still on its way (pipeline/gaps.py):
    time-of-use splits each interval over its bands, a reset must not swallow the energy
    used before it, and for the rest the charge is the same as from the last one.

    ``upto``: only the readings until then (a meter exchange recorded days after it
    happened charges the old register up to the exchange): the look-back limit counts
    back from it, not from ``now``, or the readings just before the exchange would be
    left out and a time-of-use interval up to it split over the bands by time."""
    until = now if upto is None else min(upto, now)
    start = max(cursor_at, until - MAX_UNSETTLED_LOOKBACK)
    cycles, by_meter = bus_history(telemetry, bus, start, until + CLOCK_SKEW)
    return complete_readings(
        cycles, by_meter, meter_ctx.meter.meter_id, cursor_at, until + CLOCK_SKEW, now
    )
