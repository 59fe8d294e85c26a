"""Consumption of a unit per chart period (day, week, month, billing cycle, year),
against the period before it, with the average per day (docs/portal.md, Consumption charts).

Where the numbers come from, cheapest honest source first:

- whole local days before yesterday: the bus's day roll-ups (``GatewayUsageDay``,
  written by ingest when a day ends, ``pipeline/day_rollup.py``): one Query of
  at most 731 items for a year and the year before it;
- yesterday and today, and the hours of a day chart: the bus's 15-minute
  buckets (``GatewayUsage``): one Query of at most 2 x 100 items. Yesterday is
  read from buckets because its roll-up appears only once today's first
  bucket has closed.

So a chart costs at most two Queries, whatever the period, plus two small ones when
it reaches today: the bucket still open, priced from the bus's newest readings
(``application/open_bucket.py``), so the chart does not lag the latest reading. A tenant sees only
their current tenancy: nothing from before its start counts, not in the bars, the
totals, the comparison or the average. The start is an instant (the move-in
reading, domain/tenancy_window.py): on a same-day changeover the day's roll-up holds
both tenants' energy, so that day is read from its buckets and the bucket of the
changeover split at the reading (application/tenancy_usage.py). Staff see everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..auth.principal import Principal, Role
from ..data.catalogue import Catalogue
from ..data.models import Meter, Property, Tenancy, Unit
from ..data.usage_days import UsageDayStore
from ..domain.tenancy_window import OPEN, TenancyWindow
from ..domain.usage_periods import (
    ZERO,
    ChartPeriod,
    PeriodKind,
    Slot,
    average_per_day,
    counted_days,
    kwh3,
    local_day,
    local_midnight,
    parse_day,
    parse_kind,
    percent_change,
    slots,
    sum_into_slots,
)
from ..pipeline.context import cycle_of_unit
from .open_bucket import OpenBuckets
from .scope import UnitScope
from .tenancy_usage import TenancyBuckets, window_of_tenancy

DEFAULT_KIND = PeriodKind.WEEK
LIVE_DAYS = 2  # yesterday and today come from the 15-minute buckets


@dataclass(frozen=True)
class Bar:
    slot: Slot
    energy_kwh: Decimal


@dataclass(frozen=True)
class PeriodTotal:
    period: ChartPeriod
    total_kwh: Decimal
    days: int  # days that could hold data: after the tenancy start, not after today
    average_per_day_kwh: Decimal


@dataclass(frozen=True)
class Consumption:
    unit_id: str
    time_zone: str
    at: date
    today: date
    since: date | None  # a tenant's view starts at the tenancy
    current: PeriodTotal
    previous: PeriodTotal
    bars: list[Bar]
    change_percent: Decimal | None
    has_data: bool
    calendar_cycle: bool = True  # the unit is billed by calendar month (no own cycle tab)

    @property
    def kind(self) -> PeriodKind:
        return self.current.period.kind

    @property
    def previous_at(self) -> date | None:
        first = self.previous.period.start
        return first if first >= date(2000, 1, 1) else None

    @property
    def next_at(self) -> date | None:
        following = self.current.period.end
        return following if following <= self.today else None


def parse_request(
    kind_text: str | None, at_text: str | None, today: date
) -> tuple[PeriodKind, date]:
    """``period`` and ``at`` of a query string; absent means this week, today."""
    kind = parse_kind(kind_text) if kind_text is not None else DEFAULT_KIND
    at = parse_day(at_text, today) if at_text is not None else today
    return kind, at


def today_at(time_zone: str, now: datetime) -> date:
    return local_day(now, ZoneInfo(time_zone))


@dataclass(frozen=True)
class ConsumptionCharts:
    _catalogue: Catalogue
    _usage_days: UsageDayStore
    _scope: UnitScope
    _open_buckets: OpenBuckets | None = None  # None: closed buckets only
    # None: whole buckets only (a changeover's bucket is not split at the reading)
    _tenancy_buckets: TenancyBuckets | None = None

    def for_unit(
        self, p: Principal, unit_id: str, kind_text: str | None, at_text: str | None, now: datetime
    ) -> Consumption:
        """For the API: the unit (404 outside the caller's scope), its property, meter
        and tenancy (GetItems), then the chart's reads."""
        unit = self._scope.visible_unit(p, unit_id)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        kind, at = parse_request(kind_text, at_text, today_at(prop.time_zone, now))
        meter = self._catalogue.meter_of_unit(p.company_id, unit)
        tenancy = self._scope.current_tenancy(p.company_id, unit) if p.role is Role.TENANT else None
        return self.of(p, unit, prop, meter, tenancy, kind, at, now)

    def of(
        self,
        p: Principal,
        unit: Unit,
        prop: Property,
        meter: Meter | None,
        tenancy: Tenancy | None,
        kind: PeriodKind,
        at: date,
        now: datetime,
    ) -> Consumption:
        zone = ZoneInfo(prop.time_zone)
        today = local_day(now, zone)
        cycle = cycle_of_unit(unit, prop)
        period = ChartPeriod.containing(kind, at, cycle)
        previous = period.previous()
        window = (
            window_of_tenancy(tenancy, str(prop.time_zone))
            if p.role is Role.TENANT and tenancy
            else OPEN
        )
        since = local_day(window.start, zone) if window.start is not None else None
        buckets: list[tuple[datetime, Decimal]] = []
        days: list[tuple[date, Decimal]] = []
        if meter is not None:
            buckets, days = self._read(p.company_id, meter, zone, period, previous, window, today)
        current_slots = slots(period, zone)
        bars = [
            Bar(s, e)
            for s, e in zip(
                current_slots, sum_into_slots(current_slots, buckets, days), strict=True
            )
        ]
        current_total = kwh3(sum((b.energy_kwh for b in bars), ZERO))
        previous_total = _total(previous, zone, buckets, days)
        current_days = counted_days(period, since, today)
        previous_days = counted_days(previous, since, today)
        return Consumption(
            unit_id=str(unit.unit_id),
            time_zone=str(prop.time_zone),
            at=at,
            today=today,
            since=since,
            current=PeriodTotal(
                period, current_total, current_days, average_per_day(current_total, current_days)
            ),
            previous=PeriodTotal(
                previous,
                previous_total,
                previous_days,
                average_per_day(previous_total, previous_days),
            ),
            bars=bars,
            change_percent=percent_change(current_total, previous_total),
            has_data=bool(buckets or days),
            calendar_cycle=cycle.is_calendar_month,
        )

    def _read(
        self,
        company_id: str,
        meter: Meter,
        zone: ZoneInfo,
        period: ChartPeriod,
        previous: ChartPeriod,
        window: TenancyWindow,
        today: date,
    ) -> tuple[list[tuple[datetime, Decimal]], list[tuple[date, Decimal]]]:
        """The meter's energy over both periods: buckets for the live days (and the
        hours of a day chart), day roll-ups for the rest. At most two Queries, and one
        more for a day a tenancy starts or ends within (its roll-up holds both
        tenancies' energy: read from its buckets, clipped at the changeover)."""
        since = local_day(window.start, zone) if window.start is not None else None
        first = max(previous.start, since) if since else previous.start
        end = min(period.end, today + timedelta(days=1))  # nothing is metered tomorrow
        if window.end is not None:
            end = min(end, local_day(window.end, zone) + timedelta(days=1))
        if end <= first:
            return [], []
        live_from = today - timedelta(days=LIVE_DAYS - 1)
        if period.kind is PeriodKind.DAY:
            live_from = min(live_from, period.start)
        live_from = max(live_from, first)
        store = self._usage_days
        gateway, meter_id = str(meter.gateway_id), str(meter.meter_id)
        edges = _edge_days(window, zone, first, min(live_from, end))
        days: list[tuple[date, Decimal]] = []
        if first < live_from:
            for item in store.days_between(
                company_id, gateway, first, min(live_from, end) - timedelta(days=1)
            ):
                energy = (item.energy or {}).get(meter_id)
                if energy is not None and date.fromisoformat(item.day) not in edges:
                    days.append((date.fromisoformat(item.day), Decimal(str(energy))))
        bucket_days = [(local_midnight(d, zone), local_midnight(d + timedelta(days=1), zone))
                       for d in sorted(edges)]  # fmt: skip
        if live_from < end:
            bucket_days.append((local_midnight(live_from, zone), local_midnight(end, zone)))
        buckets: list[tuple[datetime, Decimal]] = []
        for start, stop in bucket_days:
            for bucket in store.buckets_between(company_id, gateway, start, stop):
                energy = (bucket.energy or {}).get(meter_id)
                if energy is not None:
                    buckets.append((bucket.bucket_start, Decimal(str(energy))))
        if live_from < end:
            live = (local_midnight(live_from, zone), local_midnight(end, zone))
            buckets += self._open_bucket(company_id, gateway, meter_id, live, buckets)
        if self._tenancy_buckets is not None:
            buckets = self._tenancy_buckets.clip(company_id, gateway, meter_id, buckets, window)
        return buckets, days

    def _open_bucket(
        self,
        company_id: str,
        gateway_id: str,
        meter_id: str,
        window: tuple[datetime, datetime],
        closed: list[tuple[datetime, Decimal]],
    ) -> list[tuple[datetime, Decimal]]:
        """The bucket still open, if it falls in the live window and is not written yet:
        the chart reaches the latest reading (application/open_bucket.py)."""
        if self._open_buckets is None:
            return []
        found = self._open_buckets.of(company_id, gateway_id, meter_id)
        if found is None or not window[0] <= found.start < window[1]:
            return []
        if any(start == found.start for start, _ in closed):
            return []
        return [(found.start, found.energy_kwh)]


def _edge_days(window: TenancyWindow, zone: ZoneInfo, first: date, before: date) -> set[date]:
    """Days in [first, before) on which the window starts or ends after local midnight:
    their roll-ups hold another tenancy's energy too."""
    edges = set()
    for at in (window.start, window.end):
        if at is not None and at != local_midnight(local_day(at, zone), zone):
            day = local_day(at, zone)
            if first <= day < before:
                edges.add(day)
    return edges


def _total(
    period: ChartPeriod,
    zone: ZoneInfo,
    buckets: Iterable[tuple[datetime, Decimal]],
    days: Iterable[tuple[date, Decimal]],
) -> Decimal:
    total = sum((e for d, e in days if period.start <= d < period.end), ZERO)
    total += sum((e for at, e in buckets if period.start <= local_day(at, zone) < period.end), ZERO)
    return kwh3(total)
