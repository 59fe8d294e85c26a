"""What a settlement charges: readings since the cursor priced by the tariff (pure).

The cursor is the last settled reading plus the account's position in its billing cycle
(``domain/prepaid_cycle.py``: the energy so far in each priced component of the cycle and
what the cycle-so-far was charged). A settlement prices the cycle-so-far exactly as the
postpaid bill would and charges the difference, so settling every hour, on a threshold
or once a cycle gives exactly the bill's total, and tiers reset on the unit's cycle.

A position stored before cycles existed (``{"key": ..., "kwh": ...}``) is not read: the
account starts its current cycle afresh (docs/tariffs.md, "Deploying").
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
    consumption_intervals,
    kwh,
    pricing_segments,
)
from ..domain.calendar import zone
from ..domain.cycles import MONTHLY, BillingCycle
from ..domain.energy import ZERO_KWH
from ..domain.prepaid_cycle import CyclePosition, Tenure, settle_cycles
from ..domain.pricing import segment_for_day
from ..domain.tariff_versions import TariffTimeline, as_timeline

AnyTariff = FlatTariff | TieredTariff | TouTariff


def month_of(day: date) -> BillingPeriod:
    """The calendar month holding ``day`` (the default cycle)."""
    return MONTHLY.cycle_of(day)


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(zone(tz)).date()


def component_key(tariff: AnyTariff, period: BillingPeriod, day: date) -> str:
    """The key positions had before billing cycles (kept for reading old positions)."""
    if isinstance(tariff, TouTariff):
        return f"tou/{period.start.isoformat()}"
    segment = segment_for_day(pricing_segments(tariff, period), day)
    return f"seg/{segment.start.isoformat()}/{period.start.isoformat()}"


@dataclass(frozen=True)
class SettlementPlan:
    end: Reading  # the new cursor reading
    energy_kwh: Decimal
    charge: Money  # >= 0
    usage: dict[str, Any]  # the new position in the cycle
    flags: frozenset[str] = field(default_factory=frozenset)
    versions: tuple[str, ...] = ()  # the tariff versions that priced it

    @property
    def moves(self) -> bool:
        return self.end.at.timestamp() > 0


def plan_settlement(
    tariff: AnyTariff | TariffTimeline,
    tz: str,
    cursor: Reading,
    usage: Mapping[str, Any] | None,
    readings: Sequence[Reading],
    *,
    cycle: BillingCycle = MONTHLY,
    move_in: date | None = None,
    move_out: date | None = None,
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
    timeline = as_timeline(tariff)
    currency = timeline.currency
    if end.at <= cursor.at:
        return SettlementPlan(
            end, ZERO_KWH, Money(0, currency), dict(usage or {}), frozenset(flags)
        )
    chargeable = [i for i in intervals if i.charges]
    energy = kwh(sum((i.energy_kwh for i in chargeable), ZERO_KWH))
    tenure = Tenure(timeline, cycle, tz, move_in=move_in, move_out=move_out)
    settled = settle_cycles(tenure, CyclePosition.from_document(usage), chargeable, end.at)
    versions = tuple(dict.fromkeys(v for c in settled.charges for v in c.versions))
    return SettlementPlan(
        end,
        energy,
        Money(settled.amount_minor, currency),
        settled.position.to_document(),
        frozenset(flags),
        versions,
    )


def tariff_position(
    tariff: AnyTariff | TariffTimeline,
    tz: str,
    at: datetime,
    usage: Mapping[str, Any] | None,
    *,
    cycle: BillingCycle = MONTHLY,
    move_in: date | None = None,
) -> TariffPosition:
    """Where the cursor stands, for the offline cutoff: the version, season and usage of
    the span holding the cursor's day (the cutoff is recomputed at every settlement)."""
    day = local_day(at, tz)
    tenure = Tenure(as_timeline(tariff), cycle, tz, move_in=move_in)
    period = cycle.cycle_of(day)
    if move_in is not None and move_in >= period.end:
        tenure = Tenure(as_timeline(tariff), cycle, tz)  # a cursor before the tenancy: none
    billed = tenure.billed(period)
    plan = tenure.plan(period)
    span = next((s for s in plan.spans if s.start <= day < s.end), plan.spans[-1])
    position = CyclePosition.from_document(usage)
    used = ZERO_KWH
    if position is not None and position.cycle_start == period.start:
        used = position.usage_kwh.get(span.key, ZERO_KWH)
    current = span.version.tariff
    if isinstance(current, TouTariff):
        used = ZERO_KWH
    return TariffPosition(tariff=current, period=billed, on_day=day, segment_usage_kwh=used)
