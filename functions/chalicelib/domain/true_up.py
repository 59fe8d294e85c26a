"""Correcting an over-estimate: credit lines priced as the estimated bills charged (pure).

An estimated bill charged energy the meter may not have used. The next bill whose closing
is a real reading (actual or interpolated) trues it up:

- closing at or above the estimated opening: the difference is simply that period's
  energy (an under-estimate costs nothing to correct);
- closing below it: the over-estimated energy ``opening - closing`` is credited, never
  hidden as negative consumption. It is taken back from the estimated part of the
  estimated bills, newest first, and each bill's share is priced as that bill charged
  it: the bill's energy charge (net and tax, per segment or band, with its own tariff,
  period and tier bounds) minus the same charge for its energy less the share. Each
  corrected bill gives a ``credit`` line (and a negative ``tax`` line when taxed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

from chalicelib.domain.allocation import allocate_units
from chalicelib.domain.billing import BillLine
from chalicelib.domain.consumption import Interval, Reading
from chalicelib.domain.energy import ZERO_KWH, format_kwh, from_milli, kwh, to_milli
from chalicelib.domain.errors import InvalidBillError
from chalicelib.domain.money import Money
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.pricing import (
    energy_amount_minor,
    pricing_segments,
    segment_energies,
    tax_minor,
    tier_usage,
)
from chalicelib.domain.tariffs import FlatTariff, TieredTariff, TouTariff
from chalicelib.domain.tou import tou_band_energy

CREDIT_CODE = "credit"
UNIT_PRICE_QUANTUM = Decimal("0.000001")  # tariffs carry at most 6 decimals


@dataclass(frozen=True)
class EstimatedBill:
    """What an estimated bill charged, as far as a correction needs it. ``energy_kwh`` is
    the bill's energy (flat, tiered), ``band_kwh`` per band (time-of-use); the estimate is
    the priced interval ``estimated_from`` -> ``estimated_to``."""

    period_start: date
    tariff: FlatTariff | TieredTariff | TouTariff
    billed: BillingPeriod
    estimated_from: Reading
    estimated_to: Reading
    energy_kwh: Decimal = ZERO_KWH
    band_kwh: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "band_kwh", MappingProxyType(dict(self.band_kwh)))

    @property
    def estimated_kwh(self) -> Decimal:
        rise = self.estimated_to.cumulative_kwh - self.estimated_from.cumulative_kwh
        return kwh(max(ZERO_KWH, rise))


def energy_charge_minor(
    tariff: FlatTariff | TieredTariff | TouTariff,
    billed: BillingPeriod,
    energy_kwh: Decimal,
    band_kwh: Mapping[str, Decimal],
) -> tuple[int, int]:
    """(net, tax) of a bill's energy lines, computed exactly as ``postpaid_bill`` does:
    per segment for flat and tiered (energy allocated by days), per band for time-of-use."""
    net = tax = 0
    if isinstance(tariff, TouTariff):
        parts = [
            energy_amount_minor(band_kwh.get(b.name, ZERO_KWH), b.price_per_kwh, tariff.currency)
            for b in tariff.bands
        ]
    else:
        segments = pricing_segments(tariff, billed)
        parts = [
            sum(p.amount_minor for p in tier_usage(segment, energy, tariff.currency))
            for segment, energy in zip(
                segments, segment_energies(segments, energy_kwh), strict=True
            )
        ]
    for part in parts:
        net += part
        tax += tax_minor(part, tariff.tax_rate)
    return net, tax


def _band_share(bill: EstimatedBill, take_kwh: Decimal, tz: str) -> dict[str, Decimal]:
    """The bands ``take_kwh`` comes out of: in the proportions the estimate was split in,
    so no band gives back more than its estimated part."""
    assert isinstance(bill.tariff, TouTariff)
    interval = Interval(bill.estimated_from, bill.estimated_to, bill.estimated_kwh, frozenset())
    split = tou_band_energy(bill.tariff, [interval], tz)
    names = list(split)
    shares = allocate_units(to_milli(take_kwh), [to_milli(split[n]) for n in names])
    return {name: from_milli(share) for name, share in zip(names, shares, strict=True)}


def _credit_lines(bill: EstimatedBill, take_kwh: Decimal, tz: str) -> list[BillLine]:
    tariff = bill.tariff
    after_bands = dict(bill.band_kwh)
    if isinstance(tariff, TouTariff):
        for band, share in _band_share(bill, take_kwh, tz).items():
            after_bands[band] = kwh(after_bands.get(band, ZERO_KWH) - share)
    before = energy_charge_minor(tariff, bill.billed, bill.energy_kwh, bill.band_kwh)
    after_energy = bill.energy_kwh if isinstance(tariff, TouTariff) else bill.energy_kwh - take_kwh
    after = energy_charge_minor(tariff, bill.billed, kwh(after_energy), after_bands)
    net, tax = before[0] - after[0], before[1] - after[1]
    refs = {
        "tariff_id": tariff.tariff_id,
        "corrects": bill.period_start.isoformat(),
        "estimated_closing_kwh": format_kwh(bill.estimated_to.cumulative_kwh),
        "estimated_closing_at": bill.estimated_to.at.isoformat(),
    }
    major = Money(net, tariff.currency).to_decimal()
    unit_price = (major / take_kwh).quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)
    lines = [BillLine(CREDIT_CODE, take_kwh, "kWh", unit_price, -net, refs)]
    if tax:
        base = {**refs, "base": f"credit:{bill.period_start.isoformat()}"}
        lines.append(BillLine("tax", -major, "base", tariff.tax_rate, -tax, base))
    return lines


def over_estimate_credit(
    over_kwh: Decimal, estimated: Sequence[EstimatedBill], tz: str
) -> tuple[BillLine, ...]:
    """Credit lines for ``over_kwh`` over-estimated, from ``estimated`` (newest first)."""
    remaining = kwh(over_kwh)
    if remaining < 0:
        raise InvalidBillError("an over-estimate is not negative")
    lines: list[BillLine] = []
    for bill in estimated:
        take = min(remaining, bill.estimated_kwh)
        if take > 0:
            lines.extend(_credit_lines(bill, take, tz))
            remaining = kwh(remaining - take)
    if remaining > 0:
        # More than was ever estimated: the register went below a real reading.
        raise InvalidBillError(f"{remaining} kWh over-estimated beyond the estimates")
    return tuple(lines)
