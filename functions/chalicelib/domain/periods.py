"""Billing periods and the day-based pro-rating of monthly tier sizes."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from chalicelib.domain.errors import InvalidPeriodError

MAX_PERIOD_DAYS = 400


@dataclass(frozen=True)
class BillingPeriod:
    """Days [start, end) in the property's time zone; end is the first day not included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, date) or hasattr(value, "hour"):
                raise InvalidPeriodError(f"period {name} must be a date, not {type(value)!r}")
        if self.end <= self.start:
            raise InvalidPeriodError(f"period end {self.end} must be after start {self.start}")
        if self.days > MAX_PERIOD_DAYS:
            raise InvalidPeriodError(f"period longer than {MAX_PERIOD_DAYS} days")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last_day(self) -> date:
        """The last day billed (``end`` is the first day not included)."""
        return self.end - timedelta(days=1)

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def clip(self, start: date | None, end: date | None) -> BillingPeriod:
        """The part of this period inside [start, end) (None = open); error if empty."""
        lo = max(self.start, start) if start is not None else self.start
        hi = min(self.end, end) if end is not None else self.end
        if hi <= lo:
            raise InvalidPeriodError(f"[{start}, {end}) does not overlap {self}")
        return BillingPeriod(lo, hi)

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def month_fraction(start: date, end: date) -> Fraction:
    """How many calendar months [start, end) is worth: the sum over its days of 1/days-in-month.

    A whole calendar month is exactly 1, Jan 15 - Feb 15 (non-leap) is 17/31 + 14/28.
    """
    total = Fraction(0)
    cursor = start
    while cursor < end:
        month_days = calendar.monthrange(cursor.year, cursor.month)[1]
        next_month = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        stop = min(end, next_month)
        total += Fraction((stop - cursor).days, month_days)
        cursor = stop
    return total
