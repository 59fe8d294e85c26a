"""What a settlement charges: readings since the cursor priced by the tariff (pure).

The cursor is the last settled reading plus the position in the tariff
(cumulative usage in the current pricing segment, or per time-of-use band in
the current period). Charges come from ``charge_for_increment``, which rounds at
the cumulative level, so settling every hour, on a threshold or once a month
gives exactly the same total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..domain import (
    BillingPeriod,
    FlatTariff,
    IntervalFlag,
    Money,
    Reading,
    TariffPosition,
    TieredTariff,
    TouTariff,
    charge_for_increment,
    consumption_intervals,
    format_kwh,
    kwh,
    pricing_segments,
    tou_band_energy,
)
from ..domain.calendar import zone
from ..domain.energy import ZERO_KWH
from ..domain.pricing import segment_for_day

AnyTariff = FlatTariff | TieredTariff | TouTariff


def month_of(day: date) -> BillingPeriod:
    """Prepaid accounts settle within calendar months of the property's zone."""
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return BillingPeriod(date(day.year, day.month, 1), nxt)


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(zone(tz)).date()


def component_key(tariff: AnyTariff, period: BillingPeriod, day: date) -> str:
    if isinstance(tariff, TouTariff):
        return f"tou/{period.start.isoformat()}"
    segment = segment_for_day(pricing_segments(tariff, period), day)
    return f"seg/{segment.start.isoformat()}/{period.start.isoformat()}"


@dataclass(frozen=True)
class SettlementPlan:
    end: Reading  # the new cursor reading
    energy_kwh: Decimal
    charge: Money  # >= 0
    usage: dict[str, Any]  # the new tariff position
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def moves(self) -> bool:
        return self.end.at.timestamp() > 0


def plan_settlement(
    tariff: AnyTariff,
    tz: str,
    cursor: Reading,
    usage: Mapping[str, Any] | None,
    readings: Sequence[Reading],
) -> SettlementPlan:
    """Price the readings after ``cursor`` (in time order) from the stored position."""
    intervals = consumption_intervals([cursor, *readings])
    end = cursor
    flags: set[str] = set()
    for interval in intervals:
        if IntervalFlag.OUT_OF_ORDER in interval.flags:
            continue
        end = interval.end
        flags.update(f.value for f in interval.flags)
    chargeable = [i for i in intervals if i.charges]
    energy = kwh(sum((i.energy_kwh for i in chargeable), ZERO_KWH))
    day = local_day(end.at, tz)
    period = month_of(day)
    key = component_key(tariff, period, day)
    previous: Mapping[str, Any] = usage if usage and usage.get("key") == key else {"key": key}
    if isinstance(tariff, TouTariff):
        bands_before = {b: kwh(v) for b, v in previous.get("bands", {}).items()}
        added = tou_band_energy(tariff, chargeable, tz)
        amount = 0
        bands_after: dict[str, str] = {}
        for band in (b.name for b in tariff.bands):
            before = bands_before.get(band, ZERO_KWH)
            after = before + added.get(band, ZERO_KWH)
            amount += charge_for_increment(tariff, period, before, after, band=band).amount_minor
            bands_after[band] = format_kwh(after)
        new_usage: dict[str, Any] = {"key": key, "bands": bands_after}
    else:
        before = kwh(previous.get("kwh", "0"))
        after = before + energy
        amount = charge_for_increment(tariff, period, before, after, on_day=day).amount_minor
        new_usage = {"key": key, "kwh": format_kwh(after)}
    return SettlementPlan(end, energy, Money(amount, tariff.currency), new_usage, frozenset(flags))


def tariff_position(
    tariff: AnyTariff, tz: str, at: datetime, usage: Mapping[str, Any] | None
) -> TariffPosition:
    """Where the cursor stands, for the offline cutoff."""
    day = local_day(at, tz)
    period = month_of(day)
    key = component_key(tariff, period, day)
    same = bool(usage) and usage.get("key") == key  # type: ignore[union-attr]
    used = kwh(usage.get("kwh", "0")) if same and usage else ZERO_KWH
    if isinstance(tariff, TouTariff):
        used = ZERO_KWH
    return TariffPosition(tariff=tariff, period=period, on_day=day, segment_usage_kwh=used)
