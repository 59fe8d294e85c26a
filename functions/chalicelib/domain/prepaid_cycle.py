"""Prepaid settlement over billing cycles: charges that add up to the cycle's bill.

The rule (the one that makes prepaid and postpaid agree to the minor unit): a prepaid
account's position in a cycle is the energy so far in each priced component of the cycle
and the billed days begun so far. A settlement prices the whole cycle-so-far exactly as
the postpaid bill would (``cycle_pricing.price_cycle``: the same components, tier bounds,
line rounding, tax rule and total rounding) and charges the difference from what the
cycle had already been charged. Over a cycle the charges telescope to the bill's total,
whatever the settlement times; each charge is >= 0 because the priced total never falls
when energy or days are added (every rounding used is monotone).

Energy crossing a cycle boundary is split by time at the boundary's local midnight, so the
cycle that ends is closed (all its days accrued) and the next begins with nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from chalicelib.domain.allocation import allocate_units
from chalicelib.domain.calendar import local_midnight, zone
from chalicelib.domain.consumption import Interval, Reading
from chalicelib.domain.cycle_pricing import CyclePlan, interval_pieces, plan_cycle, price_cycle
from chalicelib.domain.cycles import BillingCycle
from chalicelib.domain.energy import ZERO_KWH, format_kwh, from_milli, kwh, to_milli
from chalicelib.domain.errors import InvalidPolicyInputError
from chalicelib.domain.money import currency_exponent
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.tariff_versions import AnyTariff, TariffTimeline

MAX_CYCLES_PER_SETTLEMENT = 24
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Tenure:
    """What prices a prepaid account: its tariff timeline, cycle, zone and occupied days."""

    tariff: AnyTariff | TariffTimeline
    cycle: BillingCycle
    tz: str
    move_in: date | None = None
    move_out: date | None = None

    def billed(self, cycle: BillingPeriod) -> BillingPeriod:
        return cycle.clip(self.move_in, self.move_out)

    def plan(self, cycle: BillingPeriod) -> CyclePlan:
        return plan_cycle(self.tariff, cycle, self.billed(cycle), self.tz)


@dataclass(frozen=True)
class CyclePosition:
    """Where a prepaid account stands in its current cycle (stored on the account)."""

    cycle_start: date
    usage_kwh: Mapping[str, Decimal] = field(default_factory=dict)  # component key -> kWh
    through: date | None = None  # fixed charges accrued for billed days before this
    charged_minor: int = 0  # the cycle-so-far total already charged

    def to_document(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle_start.isoformat(),
            "use": {k: format_kwh(v) for k, v in sorted(self.usage_kwh.items()) if v},
            "through": None if self.through is None else self.through.isoformat(),
            "charged_minor": self.charged_minor,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> CyclePosition | None:
        """The stored position, or None for anything not written by ``to_document``."""
        if not document or "cycle" not in document:
            return None
        try:
            through = document.get("through")
            return cls(
                date.fromisoformat(str(document["cycle"])),
                {str(k): kwh(str(v)) for k, v in dict(document.get("use") or {}).items()},
                date.fromisoformat(str(through)) if through else None,
                int(document.get("charged_minor", 0)),
            )
        except (ValueError, TypeError) as exc:
            raise InvalidPolicyInputError(f"stored cycle position unreadable: {exc}") from exc


@dataclass(frozen=True)
class CycleCharge:
    """What one settlement charges within one cycle."""

    cycle: BillingPeriod
    amount_minor: int
    energy_kwh: Decimal
    closes_cycle: bool
    versions: tuple[str, ...]


@dataclass(frozen=True)
class PrepaidSettlement:
    charges: tuple[CycleCharge, ...]
    position: CyclePosition

    @property
    def amount_minor(self) -> int:
        return sum(c.amount_minor for c in self.charges)


def _day_before(at: datetime, tz: str) -> date:
    """The local day an instant closes: a reading at local midnight closes the day before."""
    return (at - _MICROSECOND).astimezone(zone(tz)).date()


def settle_cycles(
    tenure: Tenure,
    position: CyclePosition | None,
    intervals: Sequence[Interval],
    until: datetime,
) -> PrepaidSettlement:
    """Charge ``intervals`` (consecutive, after the last settled reading) up to ``until``.

    ``until`` is the instant settled up to (the last reading's time): fixed charges accrue
    for every billed day begun before it."""
    first_at = intervals[0].start.at if intervals else until
    frame = _Frame.of(tenure, position, first_at, until)
    return frame.settle(_energy(frame.plans, intervals))


@dataclass(frozen=True)
class _Frame:
    """The cycles a settlement up to an instant prices, and the position it starts from."""

    position: CyclePosition
    cycles: tuple[BillingPeriod, ...]
    plans: tuple[CyclePlan, ...]
    last_day: date

    @classmethod
    def of(
        cls, tenure: Tenure, position: CyclePosition | None, first_at: datetime, until: datetime
    ) -> _Frame:
        last_day = _day_before(until, tenure.tz)
        if tenure.move_out is not None:
            # Settled after the tenancy ended (a move-out processed days later): its last
            # cycle is the one holding its last day.
            last_day = min(last_day, tenure.move_out - timedelta(days=1))
        if position is None:
            first_day = max(
                _day_before(first_at + _MICROSECOND, tenure.tz), tenure.move_in or date.min
            )
            position = CyclePosition(tenure.cycle.cycle_of(first_day).start)
        cycles = [tenure.cycle.cycle_of(position.cycle_start)]
        while cycles[-1].end <= last_day:
            cycles.append(tenure.cycle.following(cycles[-1]))
            if len(cycles) > MAX_CYCLES_PER_SETTLEMENT:
                raise InvalidPolicyInputError("settlement spans too many cycles")
        plans = tuple(tenure.plan(c) for c in cycles)
        return cls(position, tuple(cycles), plans, last_day)

    def settle(self, added: Sequence[Mapping[str, Decimal]]) -> PrepaidSettlement:
        """The charges for ``added`` (energy per component of each cycle) on the position."""
        position = self.position
        charges: list[CycleCharge] = []
        for index, (cycle, plan) in enumerate(zip(self.cycles, self.plans, strict=True)):
            fresh = index > 0
            before = {} if fresh else dict(position.usage_kwh)
            after = dict(before)
            for key, energy in added[index].items():
                after[key] = kwh(after.get(key, ZERO_KWH) + energy)
            closes = index < len(self.cycles) - 1
            through = cycle.end if closes else min(cycle.end, self.last_day + timedelta(days=1))
            total = price_cycle(plan, after, through=through).total_minor
            charged = 0 if fresh else position.charged_minor
            energy_kwh = kwh(sum(added[index].values(), ZERO_KWH))
            labels = tuple(v.label for v in plan.versions)
            charges.append(CycleCharge(cycle, total - charged, energy_kwh, closes, labels))
            position = CyclePosition(cycle.start, after, through, total)
        return PrepaidSettlement(tuple(charges), position)


@dataclass(frozen=True)
class EnergyQuote:
    """What ``settle_cycles`` charges for one interval from ``start`` to a reading before
    ``end`` (one local day: the same cycles and accrued days), as a function of its energy
    alone: the energy lands in one cycle's components ``keys``. With one key that is the
    settlement's own charge, to the minor unit; with several, each key is given the whole
    energy, which no split of it over them can exceed (a cycle's total never falls as a
    component's energy rises): a bound. Prices once per call, not the interval's set-up
    (``pipeline/settle_due.py`` searches it for a due mark: issue 19, CPU)."""

    frame: _Frame
    index: int  # the cycle the energy lands in
    keys: tuple[str, ...]
    # What one kWh adds in each key, at the usage the position holds (minor units, its
    # tier's price and the tax rate): a first guess for a search, never a charge.
    slope_minor_per_kwh: Fraction

    @classmethod
    def of(
        cls, tenure: Tenure, position: CyclePosition | None, start: datetime, end: datetime
    ) -> EnergyQuote | None:
        """The quote for readings in (``start``, ``end``], or None when their energy
        could land in more than one cycle, or in no component."""
        frame = _Frame.of(tenure, position, start, end)
        found = [
            (index, lo, hi) for index, lo, hi, _ in _cycle_parts(frame.plans, _span(start, end))
        ]
        if len(found) != 1:
            return None
        index, lo, hi = found[0]
        last = len(frame.plans) - 1
        plan = frame.plans[index]
        pieces = interval_pieces(plan, lo, hi, open_start=index == 0, open_end=index == last)
        keys = tuple(dict.fromkeys(key for key, _ in pieces))
        if not keys:
            return None
        usage = frame.position.usage_kwh if index == 0 else {}
        slope = Fraction(0)
        for component in plan.components:
            if component.key in keys:
                used = usage.get(component.key, ZERO_KWH)
                tier = next(
                    (t for t in component.tiers if t.upto_kwh is None or used < t.upto_kwh),
                    component.tiers[-1],
                )
                tariff = component.span.version.tariff
                slope += Fraction(tier.price_per_kwh) * (1 + Fraction(tariff.tax_rate))
        exponent = currency_exponent(plan.currency)
        return cls(frame, index, keys, slope * 10**exponent)

    @property
    def at_position(self) -> bool:
        """No energy prices the position's own cycle through the day it was priced
        through: then the charge of no energy is 0 if the position was priced by this
        tenure (a settlement just made), and a search need not price it."""
        frame = self.frame
        cycle = frame.cycles[0]
        through = min(cycle.end, frame.last_day + timedelta(days=1))
        position = frame.position
        return (
            len(frame.cycles) == 1
            and position.cycle_start == cycle.start
            and position.through == through
        )

    def charge_minor(self, energy_milli: int) -> int:
        """The charge for ``energy_milli`` Wh after ``start`` (in every key: a bound)."""
        energy = from_milli(energy_milli)
        added: list[dict[str, Decimal]] = [{} for _ in self.frame.plans]
        added[self.index] = dict.fromkeys(self.keys, energy)
        return self.frame.settle(added).amount_minor


def _span(start: datetime, end: datetime) -> Interval:
    """An interval from ``start`` to ``end`` whose energy is not needed (its parts' times)."""
    return Interval(Reading(start, ZERO_KWH), Reading(end, ZERO_KWH), ZERO_KWH, frozenset())


def _energy(plans: Sequence[CyclePlan], intervals: Sequence[Interval]) -> list[dict[str, Decimal]]:
    """Energy per cycle and component.

    The rule for an interval that spans cycles (a gap from the opening reading to the
    first one, a gateway offline over a cycle end): it is cut at each cycle boundary's
    local midnight, and the cycle before the boundary gets the energy of the register
    interpolated there by time, down to the Wh (as ``estimation.interpolate`` gives the
    closing the postpaid bill of that cycle is made with), the cycle after it the rest. So the parts sum
    to the interval exactly, and each cycle's charges equal its bill to the minor unit.
    Each cycle then prices its part on its own (its own tiers, its own rounding): pricing
    the whole gap in one cycle would put energy of one cycle into another's tiers. Within
    a cycle a part is split over the components by time, exact to the Wh with the largest
    remainder (``cycle_pricing.metered_energy``'s rule)."""
    totals: list[dict[str, int]] = [{} for _ in plans]
    last = len(plans) - 1
    for interval in intervals:
        if not interval.charges or interval.energy_kwh == 0:
            continue
        for index, lo, hi, wh in _cycle_parts(plans, interval):
            pieces = interval_pieces(
                plans[index], lo, hi, open_start=index == 0, open_end=index == last
            )
            if not pieces:
                if wh:
                    raise InvalidPolicyInputError(f"no component takes [{lo}, {hi})")
                continue
            shares = allocate_units(wh, [d // _MICROSECOND for _, d in pieces])
            for (key, _), share in zip(pieces, shares, strict=True):
                totals[index][key] = totals[index].get(key, 0) + share
    return [{k: from_milli(v) for k, v in t.items()} for t in totals]


def _cycle_parts(
    plans: Sequence[CyclePlan], interval: Interval
) -> list[tuple[int, datetime, datetime, int]]:
    """(plan index, from, to, Wh) of the interval in each cycle it touches."""
    start, end = interval.start, interval.end
    bounds = [local_midnight(plan.cycle.start, plan.tz) for plan in plans[1:]]
    energy_wh = to_milli(interval.energy_kwh)
    wh_at = {start.at: 0, end.at: energy_wh}
    span = (end.at - start.at) // _MICROSECOND
    for boundary in bounds:
        if start.at < boundary < end.at:
            # floor(E x elapsed / span): what estimation.interpolate gives the register there
            wh_at[boundary] = energy_wh * ((boundary - start.at) // _MICROSECOND) // span
    parts = []
    for index in range(len(plans)):
        lo = start.at if index == 0 else max(start.at, bounds[index - 1])
        hi = end.at if index == len(plans) - 1 else min(end.at, bounds[index])
        if lo < hi:
            parts.append((index, lo, hi, wh_at[hi] - wh_at[lo]))
    return parts
