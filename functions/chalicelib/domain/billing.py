"""Postpaid bill for a period from readings; every figure traceable to readings and tariff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Protocol

from chalicelib.domain.consumption import (
    DEFAULT_MAX_GAP,
    Reading,
    consumption_intervals,
    total_energy_kwh,
)
from chalicelib.domain.errors import InvalidBillError
from chalicelib.domain.estimation import ClosingKind
from chalicelib.domain.money import Money, Rounding, round_to_minor
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.pricing import (
    energy_amount_minor,
    pricing_segments,
    segment_energies,
    tax_minor,
    tier_usage,
)
from chalicelib.domain.tariffs import FixedCharge, FlatTariff, TieredTariff, TouTariff
from chalicelib.domain.tou import tou_band_energy

MAX_BILL_READINGS = 50_000


class PricedLine(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...


TAX_CODE = "tax"


class LineTotals:
    """Totals of a bill's lines, for the domain's bill and every view of a stored one:
    what the lines come to before tax, the tax, and the total."""

    lines: Sequence[PricedLine]

    @property
    def subtotal_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.code != TAX_CODE)

    @property
    def tax_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.code == TAX_CODE)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.tax_minor


@dataclass(frozen=True)
class BillLine:
    """One figure of a bill: amount_minor and what it was computed from.

    code: energy | fixed | tax | credit. For energy, quantity is kWh and unit_price the tariff's
    price per kWh; for fixed, quantity is billed days and unit_price the charge in major units; for
    tax, quantity is the taxable base in major units and unit_price the rate; for credit (an
    earlier estimate corrected, ``domain/true_up.py``), quantity is the kWh taken back, unit_price
    their average price and amount_minor negative.
    """

    code: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount_minor: int
    refs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "refs", MappingProxyType(dict(self.refs)))


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

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)

    def energy_lines(self) -> tuple[BillLine, ...]:
        return tuple(line for line in self.lines if line.code == "energy")


def _major(amount_minor: int, currency: str) -> Decimal:
    return Money(amount_minor, currency).to_decimal()


def _tax_line(
    net_minor: int, tariff: FlatTariff | TieredTariff | TouTariff, refs: Mapping[str, str]
) -> BillLine | None:
    if tariff.tax_rate == 0 or net_minor == 0:
        return None
    return BillLine(
        "tax",
        _major(net_minor, tariff.currency),
        "base",
        tariff.tax_rate,
        tax_minor(net_minor, tariff.tax_rate),
        refs,
    )


def _fixed_lines(
    tariff: FlatTariff | TieredTariff | TouTariff, period: BillingPeriod, billed: BillingPeriod
) -> list[BillLine]:
    lines: list[BillLine] = []
    charge: FixedCharge
    for charge in tariff.fixed_charges:
        refs = {"tariff_id": tariff.tariff_id, "fixed": charge.code, "per": charge.per}
        if charge.per == "day":
            amount = charge.amount_minor * billed.days
        else:
            share = Fraction(billed.days, period.days)
            refs["prorate"] = f"{billed.days}/{period.days}"
            amount = round_to_minor(charge.amount_minor * share, Rounding.HALF_UP)
        unit_price = _major(charge.amount_minor, tariff.currency)
        lines.append(BillLine("fixed", Decimal(billed.days), "day", unit_price, amount, refs))
        tax = _tax_line(amount, tariff, {**refs, "base": f"fixed:{charge.code}"})
        if tax is not None:
            lines.append(tax)
    return lines


def _tiered_lines(
    tariff: FlatTariff | TieredTariff, billed: BillingPeriod, energy: Decimal, base: dict[str, str]
) -> list[BillLine]:
    lines: list[BillLine] = []
    segments = pricing_segments(tariff, billed)
    for segment, segment_kwh in zip(segments, segment_energies(segments, energy), strict=True):
        span = f"[{segment.start.isoformat()}, {segment.end.isoformat()})"
        segment_refs = {
            **base,
            "season": segment.season,
            "segment": span,
            "segment_kwh": str(segment_kwh),
            "allocation": f"by_days:{segment.days}/{billed.days}",
            "month_fraction": str(segment.month_fraction),
        }
        net = 0
        for part in tier_usage(segment, segment_kwh, tariff.currency):
            if part.energy_kwh == 0:
                continue
            bound = segment.tiers[part.tier_index].upto_kwh
            refs = {
                **segment_refs,
                "tier": str(part.tier_index),
                "tier_upto_kwh": "none" if bound is None else str(bound),
            }
            lines.append(
                BillLine(
                    "energy", part.energy_kwh, "kWh", part.price_per_kwh, part.amount_minor, refs
                )
            )
            net += part.amount_minor
        tax = _tax_line(net, tariff, {**segment_refs, "base": f"energy:{span}"})
        if tax is not None:
            lines.append(tax)
    return lines


def _tou_lines(
    tariff: TouTariff,
    readings: Sequence[Reading],
    tz: str,
    max_gap: timedelta,
    base: dict[str, str],
) -> list[BillLine]:
    lines: list[BillLine] = []
    band_kwh = tou_band_energy(tariff, consumption_intervals(readings, max_gap), tz)
    for band in tariff.bands:
        energy = band_kwh[band.name]
        if energy == 0:
            continue
        amount = energy_amount_minor(energy, band.price_per_kwh, tariff.currency)
        refs = {**base, "band": band.name}
        lines.append(BillLine("energy", energy, "kWh", band.price_per_kwh, amount, refs))
        tax = _tax_line(amount, tariff, {**refs, "base": f"energy:{band.name}"})
        if tax is not None:
            lines.append(tax)
    return lines


def postpaid_bill(
    tariff: FlatTariff | TieredTariff | TouTariff,
    period: BillingPeriod,
    readings: Sequence[Reading],
    *,
    tz: str,
    move_in: date | None = None,
    move_out: date | None = None,
    max_gap: timedelta = DEFAULT_MAX_GAP,
    closing_kind: ClosingKind = ClosingKind.ACTUAL,
) -> Bill:
    """Bill the days of `period` the tenancy occupied ([move_in, move_out), clipped).

    `readings` run from the opening reading (start of the occupied days) to the closing one;
    readings in between are optional but let resets be skipped and time-of-use bands be split.
    Tier sizes are pro-rated to the occupied days; per-day fixed charges count occupied days and
    per-period ones are pro-rated by occupied/period days (half-up).
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
    base = {
        "tariff_id": tariff.tariff_id,
        "opening_reading": opening.reading_id or opening.at.isoformat(),
        "closing_reading": closing.reading_id or closing.at.isoformat(),
        "opening_kwh": str(opening.cumulative_kwh),
        "closing_kwh": str(closing.cumulative_kwh),
    }
    if closing_kind is not ClosingKind.ACTUAL:
        base["closing"] = closing_kind.value
    if closing_kind is ClosingKind.ESTIMATED:
        base["estimated"] = "true"
    if isinstance(tariff, TouTariff):
        lines = _tou_lines(tariff, readings, tz, max_gap, base)
    else:
        lines = _tiered_lines(tariff, billed, energy, base)
    lines.extend(_fixed_lines(tariff, period, billed))
    return Bill(
        tariff.tariff_id,
        tariff.currency,
        period,
        billed,
        opening,
        closing,
        energy,
        tuple(lines),
        flags,
        closing_kind,
    )
