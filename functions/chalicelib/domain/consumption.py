"""Consumption from cumulative meter readings: deltas, flagged resets, visible gaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum

from chalicelib.domain.energy import KWH_QUANTUM, MAX_KWH, ZERO_KWH, kwh
from chalicelib.domain.errors import InvalidEnergyError, InvalidReadingError

MAX_READINGS = 100_000
DEFAULT_MAX_GAP = timedelta(hours=1)


@dataclass(frozen=True)
class Reading:
    """A meter's cumulative import register at an instant."""

    at: datetime
    cumulative_kwh: Decimal
    reading_id: str = ""
    # The first reading of a new register (a meter exchange): nothing is charged from the
    # old register's last reading to it, whatever the two values, even at the same instant.
    new_register: bool = False

    def __post_init__(self) -> None:
        at, value = self.at, self.cumulative_kwh
        # The common case (an aware time and a parsed Decimal in range), checked as below in
        # fewer steps: ingest makes ~140 readings a message (issue 19, CPU).
        if (
            type(value) is Decimal
            and type(at) is datetime
            and value.is_finite()
            and ZERO_KWH <= value <= MAX_KWH
            and at.utcoffset() is not None
        ):
            object.__setattr__(self, "cumulative_kwh", value.quantize(KWH_QUANTUM, ROUND_HALF_EVEN))
            return
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise InvalidReadingError("reading time must be a timezone-aware datetime")
        try:
            value = kwh(self.cumulative_kwh)
        except InvalidEnergyError as exc:
            raise InvalidReadingError(f"bad cumulative_kwh: {exc}") from exc
        if value < 0:
            raise InvalidReadingError("cumulative_kwh must not be negative")
        object.__setattr__(self, "cumulative_kwh", value)


class IntervalFlag(Enum):
    BACKWARDS = "backwards"  # register went down: reset, rollover or replaced meter
    REGISTER_CHANGE = "register_change"  # a recorded meter exchange: a new register begins
    GAP = "gap"  # more time than allowed between the two readings
    OUT_OF_ORDER = "out_of_order"  # not later than the current base; ignored


@dataclass(frozen=True)
class Interval:
    """Consumption between two readings. energy_kwh is never negative."""

    start: Reading
    end: Reading
    energy_kwh: Decimal
    flags: frozenset[IntervalFlag]

    @property
    def charges(self) -> bool:
        """Whether this interval's energy may be charged (backwards/out-of-order never are)."""
        return not (
            self.flags
            & {IntervalFlag.BACKWARDS, IntervalFlag.OUT_OF_ORDER, IntervalFlag.REGISTER_CHANGE}
        )


def consumption_intervals(
    readings: Sequence[Reading], max_gap: timedelta = DEFAULT_MAX_GAP
) -> list[Interval]:
    """Turn readings, in the order received, into intervals from the current base reading.

    - forward: energy = end - base; the end becomes the new base.
    - backwards (later time, lower register): energy 0, flagged; the end becomes the new base,
      so later deltas continue from the replaced/reset register. Energy used between the last
      good reading and the reset is unknown and left to a human adjustment.
    - out_of_order (time not after the base): energy 0, flagged, base unchanged; an exact
      duplicate of the base (same time and value) produces no interval at all.
    - gap (time since base > max_gap): flagged, energy still counted (the register is exact).
    - register change (``new_register``: a recorded meter exchange): energy 0, flagged, the new
      register's opening becomes the base, even at the old register's last instant.
    """
    if len(readings) > MAX_READINGS:
        raise InvalidReadingError(f"more than {MAX_READINGS} readings in one call")
    if max_gap <= timedelta(0):
        raise InvalidReadingError("max_gap must be positive")
    intervals: list[Interval] = []
    if not readings:
        return intervals
    base = readings[0]
    for reading in readings[1:]:
        if reading.new_register and reading.at >= base.at:
            change = frozenset({IntervalFlag.REGISTER_CHANGE})
            intervals.append(Interval(base, reading, ZERO_KWH, change))
            base = reading
            continue
        if reading.at <= base.at:
            if reading.at == base.at and reading.cumulative_kwh == base.cumulative_kwh:
                continue
            intervals.append(
                Interval(base, reading, ZERO_KWH, frozenset({IntervalFlag.OUT_OF_ORDER}))
            )
            continue
        flags: set[IntervalFlag] = set()
        if reading.at - base.at > max_gap:
            flags.add(IntervalFlag.GAP)
        delta = reading.cumulative_kwh - base.cumulative_kwh
        if delta < 0:
            flags.add(IntervalFlag.BACKWARDS)
            delta = ZERO_KWH
        intervals.append(Interval(base, reading, kwh(delta), frozenset(flags)))
        base = reading
    return intervals


def total_energy_kwh(intervals: Sequence[Interval]) -> Decimal:
    return kwh(sum((i.energy_kwh for i in intervals if i.charges), ZERO_KWH))
