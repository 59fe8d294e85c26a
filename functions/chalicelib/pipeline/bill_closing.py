"""A period's closing reading, from the valid readings around its end (docs/pipeline.md).

In this order:

1. **actual**: the meter's last valid reading in the ``CLOSING_WINDOW`` (2 h) before the
   period end;
2. **interpolated**: else, when a valid reading after the end has arrived (within
   ``AFTER_WINDOW``), the register at the end between the last valid reading before it
   (in the period, else the last real reading known at the opening) and that one;
3. **estimated**: else, that last reading plus the unit's average daily use over the
   ``HISTORY`` (30 days) of valid readings before it, times the time to the end. No
   history (under a day of it): nothing is added. An estimate that follows an estimate
   with no new reading keeps the first one's base and rate; at most
   ``MAX_ESTIMATES_IN_A_ROW`` in a row, then the bill waits for a real reading. The
   history is the tenancy's own: a new tenant is not billed on the last one's habits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from ..domain import (
    Closing,
    ClosingKind,
    InvalidReadingError,
    Reading,
    daily_usage_kwh,
    estimate,
    interpolate,
)
from ..domain.energy import ZERO_KWH
from .bill_cursor import Opening
from .bill_exchanges import Swap
from .bill_readings import CLOSING_WINDOW, HISTORY, BillReadings
from .errors import EstimateLimitError, RegisterBackwardsError

# Three months running on made-up readings is as far as a bill should go without a human.
MAX_ESTIMATES_IN_A_ROW = 3


@dataclass(frozen=True)
class MeterAt:
    """Which meter, on which gateway, and the period whose end is sought."""

    gateway_id: str
    meter_id: str
    start: datetime  # the period's readings are read from here (its start less the window)
    end: datetime
    tenancy_start: datetime  # history is the tenant's own: nothing before this counts


def on_register(where: MeterAt, swaps: Sequence[Swap]) -> MeterAt:
    """After a meter exchange the closing's history (for an estimate) is the new
    register's alone: a rate across the swap would mix two registers."""
    if not swaps:
        return where
    return replace(where, tenancy_start=max(where.tenancy_start, swaps[-1].at))


def find_closing(readings: BillReadings, where: MeterAt, opening: Opening) -> Closing:
    anchor = opening.anchor
    last = readings.last_before(where.gateway_id, where.meter_id, where.start, where.end)
    if last is not None and last.at <= anchor.at:
        last = None  # nothing newer than what the opening already knows
    if last is not None and last.at >= where.end - CLOSING_WINDOW:
        return _checked(Closing(last, ClosingKind.ACTUAL), opening)
    before = last or anchor
    after = readings.first_after(where.gateway_id, where.meter_id, where.end)
    if after is not None:
        try:
            reading = interpolate(before, after, where.end)
        except InvalidReadingError as exc:
            raise RegisterBackwardsError(f"{where.meter_id}: {exc}") from exc
        return _checked(Closing(reading, ClosingKind.INTERPOLATED), opening)
    if opening.estimated and len(opening.estimates) >= MAX_ESTIMATES_IN_A_ROW:
        raise EstimateLimitError(
            f"{where.meter_id}: no reading at {where.end.isoformat()} after "
            f"{len(opening.estimates)} estimates"
        )
    if last is None and opening.estimated and opening.daily_kwh is not None:
        daily = opening.daily_kwh  # nothing new since the last estimate: same base, same rate
    else:
        daily = _daily(readings, where, before, opening)
    return estimate(before, daily, where.end, opening.reading.cumulative_kwh)


def _daily(readings: BillReadings, where: MeterAt, last: Reading, opening: Opening) -> Decimal:
    since = max(last.at - HISTORY, where.tenancy_start)
    first = (
        readings.first_since(where.gateway_id, where.meter_id, since, last.at)
        if since < last.at
        else None
    )
    if first is None and not opening.estimated and opening.reading.at < last.at:
        first = opening.reading  # the history's cycles are gone: the period's own use
    return ZERO_KWH if first is None else daily_usage_kwh(first, last)


def _checked(closing: Closing, opening: Opening) -> Closing:
    """After an estimate, a real closing below the real reading the estimate extended is
    a reset or a replaced meter: no over-estimate could explain it, so no credit is made
    up. (From a real opening the readings in between show a reset: the domain leaves the
    reset interval uncharged, and the bucket fallback refuses.)"""
    anchor = opening.anchor
    if opening.estimated and closing.reading.cumulative_kwh < anchor.cumulative_kwh:
        raise RegisterBackwardsError(
            f"closing {closing.reading.cumulative_kwh} kWh is below the reading "
            f"{anchor.cumulative_kwh} kWh of {anchor.at.isoformat()}"
        )
    return closing
