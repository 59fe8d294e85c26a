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
) -> list[Reading]:
    """Every reading since the cursor, up to a cycle still on its way (pipeline/gaps.py):
    time-of-use splits each interval over its bands, a reset must not swallow the energy
    used before it, and for the rest the charge is the same as from the last one."""
    start = max(cursor_at, now - MAX_UNSETTLED_LOOKBACK)
    cycles, by_meter = bus_history(telemetry, bus, start, now + CLOCK_SKEW)
    return complete_readings(
        cycles, by_meter, meter_ctx.meter.meter_id, cursor_at, now + CLOCK_SKEW, now
    )
