"""A period's closing reading when the meter has none at the period end (pure).

Three kinds, best first:

- ``actual``: a valid reading shortly before the period end (the caller's window).
- ``interpolated``: none near the end, but valid readings on both sides of it: the
  register at the end on the straight line between them. Both ends are real readings,
  so the energy of the two periods together is exact; only the split between them is
  assumed.
- ``estimated``: no reading after the end yet. The last valid reading plus the unit's
  own average daily usage times the time to the period end. The next actual-based
  closing trues it up (``domain/true_up.py``).

Values are rounded down to the Wh: a bill never runs ahead of the meter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import Enum
from fractions import Fraction

from chalicelib.domain.consumption import Reading
from chalicelib.domain.energy import KWH_QUANTUM, ZERO_KWH, kwh
from chalicelib.domain.errors import InvalidReadingError

# Less than a day of history says too little about a unit's habits to extrapolate.
MIN_HISTORY = timedelta(days=1)
_DAY_US = timedelta(days=1) // timedelta(microseconds=1)


class ClosingKind(Enum):
    ACTUAL = "actual"
    INTERPOLATED = "interpolated"
    ESTIMATED = "estimated"


@dataclass(frozen=True)
class Closing:
    """A closing reading and how it was obtained. For an estimate, ``base`` is the reading
    it extends and ``daily_kwh`` the rate it extends it by."""

    reading: Reading
    kind: ClosingKind
    base: Reading | None = None
    daily_kwh: Decimal | None = None

    @property
    def estimated(self) -> bool:
        return self.kind is ClosingKind.ESTIMATED


def _microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _down_to_wh(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return kwh(exact.quantize(KWH_QUANTUM, rounding=ROUND_DOWN))


def interpolate(before: Reading, after: Reading, at: datetime) -> Reading:
    """The register at ``at`` between two actual readings (``before.at < at <= after.at``)."""
    if not before.at < at <= after.at:
        raise InvalidReadingError("interpolation needs before < at <= after")
    if after.cumulative_kwh < before.cumulative_kwh:
        # A register that went down in between was reset or replaced: no straight line.
        raise InvalidReadingError("the register went down between the two readings")
    share = Fraction(_microseconds(at - before.at), _microseconds(after.at - before.at))
    rise = Fraction(after.cumulative_kwh - before.cumulative_kwh)
    return Reading(at, _down_to_wh(Fraction(before.cumulative_kwh) + rise * share))


def daily_usage_kwh(first: Reading, last: Reading) -> Decimal:
    """Average use per day between two actual readings, down to the Wh; zero when they are
    less than ``MIN_HISTORY`` apart or the register went down (no usable history)."""
    span = last.at - first.at
    if span < MIN_HISTORY or last.cumulative_kwh < first.cumulative_kwh:
        return ZERO_KWH
    per_day = Fraction(last.cumulative_kwh - first.cumulative_kwh) * Fraction(
        _DAY_US, _microseconds(span)
    )
    return _down_to_wh(per_day)


def estimate(base: Reading, daily_kwh: Decimal, at: datetime, floor: Decimal) -> Closing:
    """``base`` extended to ``at`` at ``daily_kwh`` a day, and never below ``floor`` (the
    period's opening when that is itself an estimate: a lower new estimate would be a
    correction, and corrections wait for a real reading)."""
    if at <= base.at:
        raise InvalidReadingError("an estimate extends a reading forwards in time")
    if daily_kwh < 0:
        raise InvalidReadingError("daily usage must not be negative")
    days = Fraction(_microseconds(at - base.at), _DAY_US)
    value = _down_to_wh(Fraction(base.cumulative_kwh) + Fraction(daily_kwh) * days)
    return Closing(Reading(at, max(value, floor)), ClosingKind.ESTIMATED, base, daily_kwh)
