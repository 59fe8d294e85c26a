"""Pricing: segments, tier walks and the telescoping incremental charge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from chalicelib.domain.allocation import allocate_units
from chalicelib.domain.energy import ZERO_KWH, from_milli, kwh, to_milli
from chalicelib.domain.errors import (
    AmbiguousSegmentError,
    InvalidEnergyError,
    NegativeIncrementError,
    UnknownBandError,
)
from chalicelib.domain.money import Money, Rounding, currency_exponent, round_to_minor
from chalicelib.domain.periods import BillingPeriod, month_fraction
from chalicelib.domain.tariffs import FlatTariff, TieredTariff, TouTariff

FLAT_SEASON = "flat"


@dataclass(frozen=True)
class PricedTier:
    """A tier with its bound pro-rated to one segment (cumulative kWh within the segment)."""

    index: int
    upto_kwh: Decimal | None
    price_per_kwh: Decimal


@dataclass(frozen=True)
class PricingSegment:
    """Consecutive days of a period priced by one season's tiers."""

    start: date
    end: date
    season: str
    month_fraction: Fraction
    tiers: tuple[PricedTier, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class TierUsage:
    """The part of a segment's usage that falls in one tier, and its rounded amount."""

    tier_index: int
    energy_kwh: Decimal
    price_per_kwh: Decimal
    amount_minor: int


def prorate_kwh(monthly_kwh: Decimal, fraction: Fraction) -> Decimal:
    """monthly_kwh x fraction, rounded half-even to 0.001 kWh (computed exactly first)."""
    exact_wh = Fraction(monthly_kwh) * fraction * 1000
    return from_milli(round(exact_wh))


def pricing_segments(
    tariff: FlatTariff | TieredTariff, period: BillingPeriod
) -> tuple[PricingSegment, ...]:
    """Split `period` into runs of days with the same season, with tier bounds pro-rated."""
    if isinstance(tariff, FlatTariff):
        fraction = month_fraction(period.start, period.end)
        tier = PricedTier(0, None, tariff.price_per_kwh)
        return (PricingSegment(period.start, period.end, FLAT_SEASON, fraction, (tier,)),)
    runs: list[tuple[date, date, str]] = []
    for day in period.each_day():
        name = tariff.season_for(day).name
        if runs and runs[-1][2] == name:
            runs[-1] = (runs[-1][0], date.fromordinal(day.toordinal() + 1), name)
        else:
            runs.append((day, date.fromordinal(day.toordinal() + 1), name))
    segments: list[PricingSegment] = []
    for start, end, name in runs:
        season = next(s for s in tariff.seasons if s.name == name)
        fraction = month_fraction(start, end)
        tiers = tuple(
            PricedTier(
                i,
                None if t.upto_kwh is None else prorate_kwh(t.upto_kwh, fraction),
                t.price_per_kwh,
            )
            for i, t in enumerate(season.tiers)
        )
        segments.append(PricingSegment(start, end, name, fraction, tiers))
    return tuple(segments)


def segment_for_day(segments: Sequence[PricingSegment], day: date | None) -> PricingSegment:
    if day is None:
        if len(segments) != 1:
            raise AmbiguousSegmentError("period has several pricing segments; give the day")
        return segments[0]
    for segment in segments:
        if segment.start <= day < segment.end:
            return segment
    raise AmbiguousSegmentError(f"{day} is outside the billing period")


def energy_amount_minor(energy_kwh: Decimal, price_per_kwh: Decimal, currency: str) -> int:
    """energy x price in minor units, rounded half-up once."""
    exact = Fraction(energy_kwh) * Fraction(price_per_kwh) * 10 ** currency_exponent(currency)
    return round_to_minor(exact, Rounding.HALF_UP)


def tax_minor(net_minor: int, tax_rate: Decimal) -> int:
    """Tax on a net amount in minor units, rounded half-up."""
    return round_to_minor(Fraction(net_minor) * Fraction(tax_rate), Rounding.HALF_UP)


def gross_minor(net_minor: int, tax_rate: Decimal) -> int:
    return net_minor + tax_minor(net_minor, tax_rate)


def _usage(value: Decimal) -> Decimal:
    energy = kwh(value)
    if energy < 0:
        raise InvalidEnergyError(f"usage must not be negative, got {value}")
    return energy


def tier_usage(segment: PricingSegment, usage_kwh: Decimal, currency: str) -> tuple[TierUsage, ...]:
    """Walk the tiers: how much of the cumulative segment usage falls in each, and its amount."""
    usage = _usage(usage_kwh)
    parts: list[TierUsage] = []
    lower = ZERO_KWH
    for tier in segment.tiers:
        upper = usage if tier.upto_kwh is None else min(usage, tier.upto_kwh)
        energy = max(ZERO_KWH, upper - lower)
        amount = energy_amount_minor(energy, tier.price_per_kwh, currency)
        parts.append(TierUsage(tier.index, kwh(energy), tier.price_per_kwh, amount))
        if tier.upto_kwh is not None:
            lower = max(lower, tier.upto_kwh)
    return tuple(parts)


def segment_net_minor(segment: PricingSegment, usage_kwh: Decimal, currency: str) -> int:
    """Net cost of cumulative usage within a segment: the sum of per-tier rounded amounts."""
    return sum(part.amount_minor for part in tier_usage(segment, usage_kwh, currency))


def segment_gross_minor(
    segment: PricingSegment, usage_kwh: Decimal, currency: str, tax_rate: Decimal
) -> int:
    return gross_minor(segment_net_minor(segment, usage_kwh, currency), tax_rate)


def band_gross_minor(tariff: TouTariff, band: str, usage_kwh: Decimal) -> int:
    try:
        price = tariff.band_price(band)
    except ValueError as exc:
        raise UnknownBandError(f"tariff {tariff.tariff_id} has no band {band!r}") from exc
    net = energy_amount_minor(_usage(usage_kwh), price, tariff.currency)
    return gross_minor(net, tariff.tax_rate)


def charge_for_increment(
    tariff: FlatTariff | TieredTariff | TouTariff,
    period: BillingPeriod,
    usage_before_kwh: Decimal,
    usage_after_kwh: Decimal,
    *,
    on_day: date | None = None,
    band: str | None = None,
) -> Money:
    """Tax-inclusive charge (>= 0) for usage going from `usage_before_kwh` to `usage_after_kwh`.

    Usage is cumulative within the pricing component: the segment containing `on_day` for flat
    and tiered tariffs, the `band` over the period for time-of-use. The charge is
    gross(after) - gross(before) where gross rounds at the cumulative level, so any chain of
    increments within a component telescopes to exactly the one-shot charge.
    """
    before, after = _usage(usage_before_kwh), _usage(usage_after_kwh)
    if after < before:
        raise NegativeIncrementError(f"usage went from {before} down to {after}")
    if isinstance(tariff, TouTariff):
        if band is None:
            raise UnknownBandError("a time-of-use charge needs the band")
        amount = band_gross_minor(tariff, band, after) - band_gross_minor(tariff, band, before)
        return Money(amount, tariff.currency)
    segment = segment_for_day(pricing_segments(tariff, period), on_day)
    rate = tariff.tax_rate
    amount = segment_gross_minor(segment, after, tariff.currency, rate) - segment_gross_minor(
        segment, before, tariff.currency, rate
    )
    return Money(amount, tariff.currency)


def allocate_energy(total_kwh: Decimal, weights: Sequence[int | Decimal]) -> list[Decimal]:
    """Split energy exactly (to the Wh) by weights with the largest-remainder rule."""
    return [from_milli(part) for part in allocate_units(to_milli(total_kwh), weights)]


def segment_energies(segments: Sequence[PricingSegment], total_kwh: Decimal) -> list[Decimal]:
    """Energy of each segment when only the period total is known: allocated by days."""
    return allocate_energy(_usage(total_kwh), [s.days for s in segments])
