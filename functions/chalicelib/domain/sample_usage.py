"""The consumption a tariff editor's preview prices: hourly readings over a billing cycle.

The preview prices a cycle with the same function as a postpaid bill
(``billing.postpaid_bill``), from readings made here:

- **the stated sample**: 10 kWh a day (300 kWh in a 30-day month), shaped over the local
  hours of each day like a household's use (low at night, a morning rise, the evening
  peak), so a time-of-use tariff is previewed on a plausible day;
- **the unit's own days**: each local day's metered energy (the bus's day roll-ups),
  shaped over the day's hours the same way, since a day roll-up has no hours.

Readings are hourly, at every hour of the property's wall clock, so every season,
version and band boundary (all on local hours) falls between two readings exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, timedelta
from decimal import Decimal

from chalicelib.domain.allocation import allocate_units
from chalicelib.domain.calendar import local_midnight, zone
from chalicelib.domain.consumption import Reading
from chalicelib.domain.energy import from_milli, to_milli
from chalicelib.domain.periods import BillingPeriod

# Wh in each local hour of the sample day, 00:00-01:00 first: 10 kWh a day.
SAMPLE_DAY_WH: tuple[int, ...] = (
    (250,) * 6  # 00-06 night
    + (450,) * 3  # 06-09 morning
    + (300,) * 8  # 09-17 day
    + (700,) * 5  # 17-22 evening peak
    + (625,) * 2  # 22-24
)
SAMPLE_DAY_KWH = from_milli(sum(SAMPLE_DAY_WH))
_HOUR = timedelta(hours=1)


def sample_readings(
    billed: BillingPeriod,
    tz: str,
    daily_kwh: Mapping[date, Decimal] | None = None,
    *,
    hourly: bool = True,
) -> list[Reading]:
    """Readings over the ``billed`` days from 0 kWh: the sample day every day, or with
    ``daily_kwh`` each day's own energy (a day not in it used nothing) shaped like it.

    Hourly; or with ``hourly=False`` one at each local midnight, which prices a flat or
    tiered tariff exactly as the hourly ones do (its spans begin and end at local
    midnights, so no interval crosses one) in a 24th of the time."""
    wall = zone(tz)
    at = local_midnight(billed.start, tz).astimezone(UTC)
    end = local_midnight(billed.end, tz).astimezone(UTC)
    day_shares: dict[date, list[int]] = {}
    cumulative_wh = 0
    readings = [Reading(at, from_milli(0), reading_id="sample-0")]
    while at < end:
        local = at.astimezone(wall)
        day = local.date()
        if day not in day_shares:
            day_shares[day] = _day_wh(day, daily_kwh)
        cumulative_wh += day_shares[day][local.hour]
        at += _HOUR
        if hourly or at == end or at.astimezone(wall).date() != day:
            readings.append(
                Reading(at, from_milli(cumulative_wh), reading_id=f"sample-{len(readings)}")
            )
    return readings


def _day_wh(day: date, daily_kwh: Mapping[date, Decimal] | None) -> list[int]:
    """Wh per local hour of ``day``. A day of 23 or 25 hours (daylight saving) keeps the
    24-hour shape by hour of the clock, so its energy is a little less or more."""
    if daily_kwh is None:
        return list(SAMPLE_DAY_WH)
    return allocate_units(to_milli(daily_kwh.get(day, Decimal(0))), SAMPLE_DAY_WH)
