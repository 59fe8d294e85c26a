"""Chart periods of consumption (day, week, month, billing cycle, year) in a property's
time zone. The ``cycle`` period is the unit's billing cycle holding the day (a two-month
Taipower period, the 15th to the 14th), so "this period" is the one the bill covers.

A period is a run of whole local days [start, end). Its bars ("slots") are
local hours for a day (so a London day has 23, 24 or 25 of them), local days
for a week or a month, and local months for a year. Slot bounds are UTC
instants computed from local midnights with ``zoneinfo``, never by adding
24-hour steps, so daylight-saving days come out right.

Energy stays ``Decimal`` kWh with three decimals throughout.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from .cycles import MONTHLY, BillingCycle
from .errors import DomainError

KWH_STEP = Decimal("0.001")
PERCENT_STEP = Decimal("0.1")
ZERO = Decimal("0.000")
EARLIEST_DAY = date(2000, 1, 1)  # nothing older was ever metered by this system


class InvalidChartPeriodError(DomainError, ValueError):
    """A chart's ``period`` or ``at`` is not one we draw (answered 400, with the reason)."""


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CYCLE = "cycle"  # the unit's billing cycle
    YEAR = "year"


@dataclass(frozen=True)
class ChartPeriod:
    """Local days [start, end) of one period of ``kind``."""

    kind: PeriodKind
    start: date
    end: date
    cycle: BillingCycle = field(default=MONTHLY, compare=False, repr=False)

    @classmethod
    def containing(cls, kind: PeriodKind, at: date, cycle: BillingCycle = MONTHLY) -> ChartPeriod:
        if not isinstance(at, date) or isinstance(at, datetime):
            raise InvalidChartPeriodError("a period is anchored on a date")
        if kind is PeriodKind.CYCLE:
            billed = cycle.cycle_of(at)
            return cls(kind, billed.start, billed.end, cycle)
        if kind is PeriodKind.DAY:
            return cls(kind, at, at + timedelta(days=1))
        if kind is PeriodKind.WEEK:  # ISO weeks: Monday first, in every language
            start = at - timedelta(days=at.weekday())
            return cls(kind, start, start + timedelta(days=7))
        if kind is PeriodKind.MONTH:
            start = at.replace(day=1)
            return cls(kind, start, _add_months(start, 1))
        start = at.replace(month=1, day=1)
        return cls(kind, start, start.replace(year=start.year + 1))

    def previous(self) -> ChartPeriod:
        return ChartPeriod.containing(self.kind, self.start - timedelta(days=1), self.cycle)

    def following(self) -> ChartPeriod:
        return ChartPeriod.containing(self.kind, self.end, self.cycle)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class Slot:
    """One bar: UTC bounds [start, end), its local start and its local days."""

    start: datetime
    end: datetime
    local_start: datetime
    first_day: date
    end_day: date  # first local day after the slot (== first_day for an hour)
    repeated_hour: bool = False  # the second of two equal wall-clock hours (DST ends)


def parse_kind(text: str) -> PeriodKind:
    try:
        return PeriodKind(text)
    except ValueError as exc:
        choices = ", ".join(k.value for k in PeriodKind)
        raise InvalidChartPeriodError(f"period must be one of {choices}") from exc


def parse_day(text: str, latest: date) -> date:
    """An ISO date (YYYY-MM-DD) between 2000-01-01 and ``latest``."""
    if not isinstance(text, str) or len(text) != 10:
        raise InvalidChartPeriodError("at must be a date written YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidChartPeriodError("at must be a date written YYYY-MM-DD") from exc
    if day < EARLIEST_DAY:
        raise InvalidChartPeriodError(f"at must not be before {EARLIEST_DAY.isoformat()}")
    if day > latest:
        raise InvalidChartPeriodError(f"at must not be after {latest.isoformat()} (today)")
    return day


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` starts on the property's wall clock."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def slots(period: ChartPeriod, zone: ZoneInfo) -> list[Slot]:
    if period.kind is PeriodKind.DAY:
        return _hours(period.start, zone)
    if period.kind is PeriodKind.YEAR:
        months = [_add_months(period.start, i) for i in range(12)]
        return [_days_slot(m, _add_months(m, 1), zone) for m in months]
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    return [_days_slot(d, d + timedelta(days=1), zone) for d in days]


def sum_into_slots(
    slots_: list[Slot],
    buckets: Iterable[tuple[datetime, Decimal]],
    day_totals: Iterable[tuple[date, Decimal]],
) -> list[Decimal]:
    """Energy per slot from 15-minute buckets (by their UTC start) and from whole
    local days (by date). Data outside every slot is ignored."""
    totals = [ZERO for _ in slots_]
    starts = [s.start for s in slots_]
    for at, energy in buckets:
        i = bisect_right(starts, at) - 1
        if i >= 0 and at < slots_[i].end:
            totals[i] += energy
    day_starts = [s.first_day for s in slots_]
    for day, energy in day_totals:
        i = bisect_right(day_starts, day) - 1
        if i >= 0 and day < slots_[i].end_day:
            totals[i] += energy
    return [kwh3(t) for t in totals]


def kwh3(value: Decimal) -> Decimal:
    return value.quantize(KWH_STEP, rounding=ROUND_HALF_EVEN)


def percent_change(current: Decimal, previous: Decimal) -> Decimal | None:
    """(current - previous) / previous in percent to 0.1; None when there is nothing to compare."""
    if previous <= 0:
        return None
    return ((current - previous) * 100 / previous).quantize(PERCENT_STEP, rounding=ROUND_HALF_EVEN)


def average_per_day(total: Decimal, days: int) -> Decimal:
    return kwh3(total / days) if days > 0 else ZERO


def counted_days(period: ChartPeriod, since: date | None, today: date) -> int:
    """Days of the period that can hold data: from ``since`` (a tenancy's start)
    up to and including today."""
    first = max(period.start, since) if since else period.start
    end = min(period.end, today + timedelta(days=1))
    return max(0, (end - first).days)


def _hours(day: date, zone: ZoneInfo) -> list[Slot]:
    start, end = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
    out: list[Slot] = []
    seen: set[tuple[int, int]] = set()
    at = start
    while at < end:
        local = at.astimezone(zone)
        wall = (local.hour, local.minute)
        nxt = min(at + timedelta(hours=1), end)
        out.append(Slot(at, nxt, local, day, day, repeated_hour=wall in seen))
        seen.add(wall)
        at = nxt
    return out


def _days_slot(first: date, end: date, zone: ZoneInfo) -> Slot:
    start = local_midnight(first, zone)
    return Slot(start, local_midnight(end, zone), start.astimezone(zone), first, end)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
