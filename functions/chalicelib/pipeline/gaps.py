"""Which readings a settlement must see, and where a bus's cycles stop being complete.

Most settlements need only the newest reading: registers are cumulative. Two need
every reading since the cursor:

- time-of-use attributes each interval between readings to its band;
- a reading below the cursor (a meter replaced or reset) is not charged, and the
  energy used between the cursor and the reset would vanish with it unless the
  readings before the reset are priced first;
- an interval across a local midnight may cross a boundary of what accumulates the
  energy (a billing cycle, a tariff version, a season: docs/tariffs.md), and its energy is
  split there by time, so the readings on either side must be priced as they are (the
  soak found a reordered message at a tariff-version change charging one minor unit
  less than the readings said). Once a day per meter, so it costs one history read a
  day per bus.

Both also go wrong when a cycle is still on its way (overtaken by the next one, or
in flight when the link dropped): the interval around it is longer, so its energy
is split over the bands by time, or swallowed by the reset, for good. So such a
settlement stops before the first gap in the sequence numbers and waits for the
missing cycle (the soak found both: docs/reliability.md).

A cycle that never comes (a spool that was full and thinned, a wiped spool) must
not hold settlement forever: a gap older than ``GAP_WAIT`` is taken as final and
the interval across it is priced by time, as the only thing left to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..data.control_state import MeterControlState, from_ms
from ..domain import Reading
from .context import MeterContext

if TYPE_CHECKING:
    from ..data.rows import GatewayCycleRow as GatewayCycle

# A reordered message arrives seconds after its successor; a spool backlog is sent in
# order. An hour covers both with room to spare and bounds how long a lost cycle
# delays a time-of-use bus's settlement (the offline cutoff keeps protecting credit).
GAP_WAIT = timedelta(hours=1)
# The cycle holding the cursor's reading started at most this long before the reading.
ANCHOR_MARGIN = timedelta(minutes=10)
_MICROSECOND = timedelta(microseconds=1)


def complete_before(
    cycles: Iterable[GatewayCycle], after: datetime, now: datetime
) -> datetime | None:
    """The cycle time before which a meter's readings after ``after`` are complete, or
    None if nothing is missing. ``cycles`` must reach back to the cycle of ``after``."""
    previous: GatewayCycle | None = None
    for cycle in sorted(cycles, key=lambda c: int(c.cycle_at_ms)):
        if (
            previous is not None
            and cycle.spool_id == previous.spool_id
            and int(cycle.seq) > int(previous.seq) + 1
        ):
            later = from_ms(int(cycle.cycle_at_ms))
            recent = now - from_ms(int(cycle.received_at_ms)) < GAP_WAIT
            if later > after and recent:
                return later
        previous = cycle
    return None


def needs_every_reading(
    meter_ctx: MeterContext, state: MeterControlState, reading: Reading, tz: str
) -> bool:
    tou = meter_ctx.tariff is not None and meter_ctx.tariff.kind == "tou"
    return (
        tou
        or reading.cumulative_kwh < state.settled_kwh
        or (state.settled_at is not None and crosses_midnight(state.settled_at, reading.at, tz))
    )


def crosses_midnight(start: datetime, end: datetime, tz: str) -> bool:
    """A local midnight lies strictly inside (start, end)."""
    from .charging import local_day  # charging imports the tariff models: see settler.py

    return local_day(start, tz) < local_day(end - _MICROSECOND, tz)


def complete_readings(
    cycles: list[GatewayCycle],
    by_meter: dict[str, list[Reading]],
    meter_id: str,
    cursor_at: datetime,
    upto: datetime,
    now: datetime,
) -> list[Reading]:
    """A meter's readings after the cursor, up to ``upto`` and before the first recent
    gap (empty: wait for the missing cycle)."""
    horizon = complete_before(cycles, cursor_at, now)
    return [
        r
        for r in by_meter.get(meter_id, [])
        if cursor_at < r.at <= upto and (horizon is None or r.at < horizon)
    ]
