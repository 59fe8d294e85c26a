"""Postpaid bill for a period from readings; every figure traceable to readings and tariff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from chalicelib.domain.bill_lines import TAX_CODE, BillLine, LineTotals, PricedLine
from chalicelib.domain.consumption import (
    DEFAULT_MAX_GAP,
    Reading,
    consumption_intervals,
    total_energy_kwh,
)
from chalicelib.domain.cycle_pricing import (
    energy_by_days,
    metered_energy,
    plan_cycle,
    price_cycle,
)
from chalicelib.domain.errors import InvalidBillError
from chalicelib.domain.estimation import ClosingKind
from chalicelib.domain.money import Money
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.tariff_versions import AnyTariff, TariffTimeline, as_timeline

__all__ = ["TAX_CODE", "Bill", "BillLine", "LineTotals", "PricedLine", "postpaid_bill"]

MAX_BILL_READINGS = 50_000


@dataclass(frozen=True)
class Bill(LineTotals):
    tariff_id: str
    currency: str
    period: BillingPeriod
    billed: BillingPeriod
    opening: Reading
    closing: Reading
    energy_kwh: Decimal
    lines: tuple[BillLine, ...]
    flags: frozenset[str]
    closing_kind: ClosingKind = ClosingKind.ACTUAL
    versions: tuple[str, ...] = ()  # "<tariff_id>@<effective_from>" of every version that priced it

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)

    def energy_lines(self) -> tuple[BillLine, ...]:
        return tuple(line for line in self.lines if line.code == "energy")


def postpaid_bill(
    tariff: AnyTariff | TariffTimeline,
    period: BillingPeriod,
    readings: Sequence[Reading],
    *,
    tz: str,
    move_in: date | None = None,
    move_out: date | None = None,
    max_gap: timedelta = DEFAULT_MAX_GAP,
    closing_kind: ClosingKind = ClosingKind.ACTUAL,
) -> Bill:
    """Bill the days of `period` (one billing cycle) the tenancy occupied ([move_in,
    move_out), clipped), priced by ``cycle_pricing``.

    `readings` run from the opening reading (start of the occupied days) to the closing one.
    With readings in between, each interval's energy goes to the spans (version and season
    runs) and bands it overlaps, by time: the split prepaid settlement makes on the same
    readings. With only the opening and the closing, a flat or tiered bill shares the energy
    over the spans by days (the utilities' rule when nothing else is known).
    Tier sizes are scaled to the occupied days by the version's ``tier_scaling``; per-day
    fixed charges count occupied days and per-period ones occupied/period days.
    A closing that is not an actual reading (``closing_kind``) is named in every line priced
    from it (refs ``closing``; ``estimated: true`` for an estimate).
    """
    if len(readings) < 2:
        raise InvalidBillError("a bill needs at least an opening and a closing reading")
    if len(readings) > MAX_BILL_READINGS:
        raise InvalidBillError(f"more than {MAX_BILL_READINGS} readings for one bill")
    billed = period.clip(move_in, move_out)
    opening, closing = readings[0], readings[-1]
    if closing.at <= opening.at:
        raise InvalidBillError("the closing reading must be later than the opening reading")
    intervals = consumption_intervals(readings, max_gap)
    energy = total_energy_kwh(intervals)
    flags = frozenset(flag.value for interval in intervals for flag in interval.flags)
    timeline = as_timeline(tariff)
    base = {
        "opening_reading": opening.reading_id or opening.at.isoformat(),
        "closing_reading": closing.reading_id or closing.at.isoformat(),
        "opening_kwh": str(opening.cumulative_kwh),
        "closing_kwh": str(closing.cumulative_kwh),
    }
    if closing_kind is not ClosingKind.ACTUAL:
        base["closing"] = closing_kind.value
    if closing_kind is ClosingKind.ESTIMATED:
        base["estimated"] = "true"
    plan = plan_cycle(timeline, period, billed, tz)
    has_bands = any(c.band is not None for c in plan.components)
    if len(readings) == 2 and not has_bands:
        priced = price_cycle(
            plan,
            energy_by_days(plan, energy),
            refs=base,
            allocation="by_days:{days}/{billed}",
        )
    else:
        priced = price_cycle(plan, metered_energy(plan, intervals), refs=base, allocation="metered")
    return Bill(
        plan.final.tariff.tariff_id,
        plan.currency,
        period,
        billed,
        opening,
        closing,
        energy,
        priced.lines,
        flags,
        closing_kind,
        tuple(v.label for v in plan.versions),
    )
