"""Which periods a postpaid unit is billed for, and when (the unit's billing cycles).

Every completed period since the account's last bill (or since the tenancy began) is
billed as its own period, oldest first, each with its own tier bounds and its own
closing reading: a cycle the job could not bill is never merged into the next. A
period is complete once its end is ``BILL_GRACE`` past, so readings a gateway spooled
while offline over the cycle end arrive before the bill is made. A period is a cycle of
the unit's ``BillingCycle`` (domain/cycles.py; the calendar month when none is set). A
cycle changed after the last bill takes effect at the next boundary of the new cycle:
the days from the last bill to it are billed as one bridging period.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ..domain import BillingPeriod
from ..domain.calendar import local_midnight, zone
from ..domain.cycles import MONTHLY, BillingCycle
from .charging import month_of

# A day after the month ends: a gateway that lost its link on the last evening and came
# back the next day is still billed on its real readings. The schedule runs daily, so a
# bill comes one to two days after its month; an estimate is for real outages only.
BILL_GRACE = timedelta(hours=24)
# "Put a limit on everything": a unit at most a year behind is caught up in one run; one
# further behind is caught up twelve months a run, oldest first, by the next daily runs.
MAX_PERIODS_PER_RUN = 12


def last_completed_month(now: datetime, tz: str) -> BillingPeriod:
    """The calendar month before the one ``now`` is in (the property's zone)."""
    today = now.astimezone(zone(tz)).date()
    return month_of(month_of(today).start - timedelta(days=1))


def due_periods(
    first_day: date,
    now: datetime,
    tz: str,
    grace: timedelta = BILL_GRACE,
    limit: int = MAX_PERIODS_PER_RUN,
    cycle: BillingCycle = MONTHLY,
    continues: bool = False,
) -> list[BillingPeriod]:
    """The cycles from the one holding ``first_day`` whose end is ``grace`` past at
    ``now``, oldest first, at most ``limit``.

    ``continues``: ``first_day`` is where the last bill ended, so a cycle holding it that
    began earlier (the cycle was changed since) is billed from ``first_day`` only."""
    periods: list[BillingPeriod] = []
    period = cycle.cycle_of(first_day)
    if continues and period.start < first_day:
        period = BillingPeriod(first_day, period.end)
    while len(periods) < limit and local_midnight(period.end, tz) + grace <= now:
        periods.append(period)
        period = cycle.cycle_of(period.end)
    return periods
