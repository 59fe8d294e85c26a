"""Who is on a bus: gateway -> meters -> units -> tenancies, with property and company.

Read once per warm container and kept for ``catalogue_cache_s``: the
catalogue changes rarely and a bus is read once a minute, so caching turns
~70 item reads per cycle into ~2 (docs/pipeline.md, Performance).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..data.catalogue import Catalogue
from ..data.models import Company, Gateway, Meter, Property, Tenancy, Unit
from ..domain import FriendlyHours, Money
from ..domain.cycles import MONTHLY, BillingCycle, parse_cycle
from ..domain.tariff_versions import TariffTimeline, parse_timeline
from .charging import AnyTariff
from .errors import NoMeterError

MAX_CACHED_BUSES = 512


@dataclass(frozen=True)
class MeterContext:
    meter: Meter
    unit: Unit | None
    tenancy: Tenancy | None
    tariff: AnyTariff | None  # the version in force today
    timeline: TariffTimeline | None = None  # every version (a plain tariff is one)
    cycle: BillingCycle = MONTHLY  # the unit's, else the property's, else the calendar month

    @property
    def account_id(self) -> str | None:
        return self.tenancy.account_id if self.tenancy else None

    @property
    def prepaid(self) -> bool:
        return bool(self.unit and self.unit.billing_mode == "prepaid" and self.tenancy)


@dataclass(frozen=True)
class BusContext:
    gateway: Gateway
    premises: Property
    company: Company
    meters: dict[str, MeterContext]

    @property
    def company_id(self) -> str:
        return str(self.gateway.company_id)

    @property
    def tz(self) -> str:
        return str(self.premises.time_zone)

    def friendly(self) -> FriendlyHours:
        # Parsed once per loaded bus: the control step asks for it for every meter, every cycle.
        cached: FriendlyHours | None = self.__dict__.get("_friendly")
        if cached is None:
            if self.premises.friendly_hours:
                cached = FriendlyHours.from_shadow(self.premises.friendly_hours)
            else:
                cached = FriendlyHours(self.tz)
            object.__setattr__(self, "_friendly", cached)
        return cached

    def allowance(self, currency: str) -> Money:
        return Money(int(self.premises.emergency_credit_minor or 0), currency)

    def thresholds(self, currency: str, unit: Unit | None = None) -> list[Money]:
        """The unit's own thresholds if set, else the property's, else the company's."""
        stored: list[Any] | None = None
        for source in (unit, self.premises):
            if source is not None and source.low_credit_thresholds_minor is not None:
                stored = list(source.low_credit_thresholds_minor)
                break
        if stored is None:
            stored = list(self.company.low_credit_thresholds_minor or [])
        return [Money(int(t), currency) for t in stored]

    def by_unit(self, unit_id: str) -> MeterContext | None:
        for meter_ctx in self.meters.values():
            if meter_ctx.unit and meter_ctx.unit.unit_id == unit_id:
                return meter_ctx
        return None


class BusDirectory:
    def __init__(self, catalogue: Catalogue, cache_s: int) -> None:
        self._catalogue = catalogue
        self._cache_s = cache_s
        self._cache: dict[tuple[str, str], tuple[float, BusContext]] = {}

    def by_thing(self, thing_name: str) -> BusContext:
        gateway = self._catalogue.find_gateway_by_thing(thing_name)
        return self.load(gateway.company_id, gateway.gateway_id, gateway)

    def load(self, company_id: str, gateway_id: str, gateway: Gateway | None = None) -> BusContext:
        key = (company_id, gateway_id)
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        context = self._read(company_id, gateway or self._catalogue.get_gateway(*key))
        if self._cache_s > 0:
            if len(self._cache) >= MAX_CACHED_BUSES:
                self._cache.clear()
            self._cache[key] = (time.monotonic() + self._cache_s, context)
        return context

    def forget(self) -> None:
        self._cache.clear()

    def fresh_for_unit(self, company_id: str, unit_id: str) -> tuple[BusContext, MeterContext]:
        """The bus and meter of a unit, read fresh: someone acting on it now (a top-up, a
        power change, a settings change) must see the tenancy and tariff of now."""
        unit = self._catalogue.get_unit(company_id, unit_id)
        if not unit.meter_id:
            raise NoMeterError(f"unit {unit_id} has no meter")
        meter = self._catalogue.get_meter(company_id, unit.meter_id)
        self.forget()
        bus = self.load(company_id, meter.gateway_id)
        meter_ctx = bus.meters.get(meter.meter_id)
        if meter_ctx is None:
            raise NoMeterError(f"meter {meter.meter_id} is not on gateway {meter.gateway_id}")
        return bus, meter_ctx

    def _read(self, company_id: str, gateway: Gateway) -> BusContext:
        meters = list(self._catalogue.list_meters_of_gateway(company_id, gateway.gateway_id))
        units = self._catalogue.get_units(company_id, [m.unit_id for m in meters if m.unit_id])
        tenancies = self._catalogue.get_tenancies(
            company_id, [u.tenancy_id for u in units.values() if u.tenancy_id]
        )
        premises = self._catalogue.get_property(company_id, gateway.property_id)
        today = datetime.now(UTC).date()
        contexts: dict[str, MeterContext] = {}
        for meter in meters:
            unit = units.get(meter.unit_id) if meter.unit_id else None
            tenancy = tenancies.get(unit.tenancy_id) if unit and unit.tenancy_id else None
            if tenancy and tenancy.ends_on and tenancy.ends_on <= today.isoformat():
                tenancy = None
            timeline = parse_timeline(unit.tariff) if unit and unit.tariff else None
            tariff = in_force(timeline, today) if timeline else None
            cycle = cycle_of_unit(unit, premises)
            contexts[meter.meter_id] = MeterContext(meter, unit, tenancy, tariff, timeline, cycle)
        return BusContext(
            gateway=gateway,
            premises=premises,
            company=self._catalogue.get_company(company_id),
            meters=contexts,
        )


def in_force(timeline: TariffTimeline, day: date) -> AnyTariff:
    """The version pricing ``day`` (the first one before the timeline begins)."""
    if day < timeline.versions[0].effective_from:
        return timeline.versions[0].tariff
    return timeline.version_on(day).tariff


def cycle_of_unit(unit: Unit | None, premises: Property) -> BillingCycle:
    """A unit's billing cycle: its own, else its property's, else the calendar month."""
    if unit is not None and unit.billing_cycle:
        return parse_cycle(unit.billing_cycle)
    return parse_cycle(premises.billing_cycle) if premises.billing_cycle else MONTHLY
