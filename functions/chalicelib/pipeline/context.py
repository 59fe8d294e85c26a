"""Who is on a bus: gateway -> meters -> units -> tenancies, with property and company.

Read once per warm container and kept for ``catalogue_cache_s``: the
catalogue changes rarely and a bus is read once a minute, so caching turns
~70 item reads per cycle into ~2 (docs/pipeline.md, Performance).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ..data.bus_item import (
    UNREADABLE,
    BusItems,
    BusRead,
    CatalogueParts,
    StoredParts,
    tariff_digest,
)
from ..data.errors import NotFoundError
from ..data.rows import (
    CompanyRow,
    GatewayRow,
    MeterRow,
    PropertyRow,
    TenancyRow,
    UnitRow,
    row_of,
)
from ..domain import FriendlyHours, Money
from ..domain.cycles import MONTHLY, BillingCycle, parse_cycle
from ..observability import logger
from .errors import NoMeterError
from .memo import BoundedMemo
from .senders import owner_of_thing

# The tariff models (pydantic) are imported when a timeline is parsed, not with the
# context: most of ingest's path never prices (docs/deploy.md, "Cold start").
if TYPE_CHECKING:
    from ..data.catalogue import Catalogue
    from ..data.models import Gateway, Property, Unit
    from ..domain.tariff_versions import TariffTimeline
    from .charging import AnyTariff

MAX_CACHED_BUSES = 512


@dataclass(frozen=True)
class MeterContext:
    meter: MeterRow
    unit: UnitRow | None
    tenancy: TenancyRow | None
    tariff: AnyTariff | None  # the version in force today
    timeline: TariffTimeline | None = None  # every version (a plain tariff is one)
    cycle: BillingCycle = MONTHLY  # the unit's, else the property's, else the calendar month
    tariff_digest: str = ""  # of the unit's tariff document (settle_due.py keys marks on it)

    def __post_init__(self) -> None:
        # Read once from the items: ingest asks for each on every meter of every message,
        # and an attribute of a PynamoDB model is a descriptor call (issue 19, CPU).
        tenancy, unit = self.tenancy, self.unit
        account_id = None if tenancy is None else tenancy.attribute_values.get("account_id")
        object.__setattr__(self, "_account_id", account_id)
        mode = None if unit is None else unit.attribute_values.get("billing_mode")
        prepaid = bool(mode == "prepaid" and tenancy)
        object.__setattr__(self, "_prepaid", prepaid)

    @property
    def account_id(self) -> str | None:
        return self._account_id  # type: ignore[attr-defined]

    @property
    def prepaid(self) -> bool:
        return self._prepaid  # type: ignore[attr-defined]

    @property
    def has_tariff(self) -> bool:
        """A tariff prices the meter (answered without loading one: ``StoredMeterContext``)."""
        return self.tariff is not None


@dataclass(frozen=True)
class BusContext:
    gateway: GatewayRow
    premises: PropertyRow
    company: CompanyRow
    meters: dict[str, MeterContext]

    def __post_init__(self) -> None:
        # Plain copies of what every meter of every message asks for (see MeterContext).
        object.__setattr__(self, "_company_id", str(self.gateway.company_id))
        object.__setattr__(self, "_tz", str(self.premises.time_zone))
        object.__setattr__(self, "_thresholds", {})
        object.__setattr__(self, "_levels", {})

    @property
    def company_id(self) -> str:
        return self._company_id  # type: ignore[attr-defined]

    @property
    def tz(self) -> str:
        return self._tz  # type: ignore[attr-defined]

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

    def thresholds(self, currency: str, unit: UnitRow | None = None) -> list[Money]:
        """The unit's own thresholds if set, else the property's, else the company's."""
        # Keyed by the unit's own thresholds, not the unit: most units inherit, so a bus
        # works the inherited list out once, not once per meter.
        own: Any = (
            None if unit is None else unit.attribute_values.get("low_credit_thresholds_minor")
        )
        key = (currency, None if own is None else tuple(own))
        cached: dict[tuple[str, Any], list[Money]] = self._thresholds  # type: ignore[attr-defined]
        found = cached.get(key)
        if found is None:
            if own is None:
                own = self.premises.low_credit_thresholds_minor
            if own is None:
                own = self.company.low_credit_thresholds_minor or []
            found = cached[key] = [Money(int(t), currency) for t in own]
        return list(found)

    def levels_minor(self, currency: str, unit: UnitRow | None = None) -> tuple[int, ...]:
        """The balances a settlement must not cross unnoticed, in minor units: the
        thresholds (``thresholds``), zero and minus the emergency allowance. Worked out
        once per bus and thresholds: every meter of a message asks (settle_due.py)."""
        own: Any = (
            None if unit is None else unit.attribute_values.get("low_credit_thresholds_minor")
        )
        key = (currency, None if own is None else tuple(own))
        cached: dict[tuple[str, Any], tuple[int, ...]] = self._levels  # type: ignore[attr-defined]
        found = cached.get(key)
        if found is None:
            levels = [t.amount_minor for t in self.thresholds(currency, unit)]
            found = cached[key] = (*levels, 0, -self.allowance(currency).amount_minor)
        return found

    def by_unit(self, unit_id: str) -> MeterContext | None:
        for meter_ctx in self.meters.values():
            if meter_ctx.unit and meter_ctx.unit.unit_id == unit_id:
                return meter_ctx
        return None


# A stored context older than this is rebuilt even if no edit bumped it: the backstop for
# an edit that reaches the bus without a bump (a company's thresholds). Once an hour per
# bus: ~4 requests and one context write per 60 messages at 1-minute polling.
CONTEXT_MAX_AGE_S = 3600


@dataclass(frozen=True)
class BusOfMessage:
    """What ingest reads for one message: the bus context, the bus item's read, and
    the catalogue items the context came from (``parts``: on a steady message the
    company and tenancies are decoded only if something asks, ``StoredParts``)."""

    bus: BusContext
    read: BusRead
    whole: Callable[[], CatalogueParts]

    @property
    def parts(self) -> CatalogueParts:
        return self.whole()

    def presence_marks(self) -> tuple[object, ...]:
        """The meters' fields ingest itself writes back to the catalogue (presence,
        serial, profile versions): when they move the stored context is stored again."""
        # from the items' values, not their descriptors: 32 meters, twice a message
        return tuple(
            (
                (v := c.meter.attribute_values).get("meter_id"),
                v.get("online"),
                v.get("last_error"),
                v.get("serial"),
                repr(v.get("profile_versions")),
            )
            for c in self.bus.meters.values()
        )


class BusDirectory:
    def __init__(self, catalogue: Catalogue, cache_s: int, items: BusItems | None = None) -> None:
        self._catalogue = catalogue
        self._cache_s = cache_s
        self._items = items or BusItems()
        self._cache: dict[tuple[str, str], tuple[float, BusContext]] = {}
        # buses loaded since the last forget(): a caller forgets after storing a change
        self._touched: set[tuple[str, str]] = set()
        # contexts assembled from the bus item, by the stored version they came from
        self._stored: dict[tuple[str, str], tuple[tuple[int, int, int], BusContext]] = {}
        self.stored_hits = self.stored_misses = 0  # this container's, for the fleet bench

    def for_message(
        self, thing_name: str, now: datetime, silence_by: datetime | None = None
    ) -> BusOfMessage:
        """The bus of a telemetry message from its bus item (1 request), rebuilt from the
        catalogue and stored back when the item's context is missing, stale or old (that
        write moves the bus's silence deadline to ``silence_by``). Raises NotFoundError
        for a thing no gateway is registered as."""
        owner = owner_of_thing(thing_name)
        if owner is None:  # a name the product does not make: look it up (1 request more)
            gateway = self._catalogue.find_gateway_by_thing(thing_name)
            owner = (str(gateway.company_id), str(gateway.gateway_id))
        company_id, gateway_id = owner
        read = self._items.read(company_id, gateway_id)
        stored = read.stored
        age_s = now.timestamp() - read.context_at_ms / 1000
        key = (company_id, gateway_id)
        today = datetime.now(UTC).date()  # the day assemble() prices by
        if (
            stored is None
            or not read.context_current
            or age_s > CONTEXT_MAX_AGE_S
            or stored.gateway.attribute_values.get("thing_name") != thing_name
        ):
            gateway = self._catalogue.find_gateway_by_thing(thing_name)
            if (gateway.company_id, gateway.gateway_id) != owner:
                raise NotFoundError(f"thing {thing_name} is not gateway {gateway_id}")
            parts = self.read_parts(company_id, gateway)
            bus = assemble(parts, today)
            self._items.store_context(
                company_id,
                gateway_id,
                parts,
                read.context_version,
                now,
                silence_by,
                steady_record(bus, parts, today),
            )
            read = replace(
                read,
                stored=None,
                context_built=read.context_version,
                context_at_ms=int(now.timestamp() * 1000),
            )
            self.stored_misses += 1
            self._keep(key, (read.context_built, read.context_at_ms, today.toordinal()), bus)
            return BusOfMessage(bus, read, lambda: parts)
        # by day too: what a context holds depends on the day it was assembled for
        stamp = (read.context_built, read.context_at_ms, today.toordinal())
        hit = self._stored.get(key)
        if hit is not None and hit[0] == stamp:
            self.stored_hits += 1
            cached = hit[1]
            whole = _Once(lambda: self._whole(company_id, stored, read.context_version, now))
            return BusOfMessage(cached, read, _Once(lambda: _parts_of(cached, whole())))
        self.stored_misses += 1
        whole = _Once(lambda: self._whole(company_id, stored, read.context_version, now))
        bus = assemble_stored(stored, today, whole) or assemble(whole(), today)
        self._keep(key, stamp, bus)
        return BusOfMessage(bus, read, whole)

    def _keep(self, key: tuple[str, str], stamp: tuple[int, int, int], bus: BusContext) -> None:
        if len(self._stored) >= MAX_CACHED_BUSES:
            self._stored.clear()
        self._stored[key] = (stamp, bus)

    def _whole(
        self, company_id: str, stored: StoredParts, version: int, now: datetime
    ) -> CatalogueParts:
        """Every part of a stored context; one whose company or tenancies do not decode
        (a fault, not a format: the version was checked) is read from the catalogue
        and stored again."""
        try:
            return stored.whole()
        except UNREADABLE:
            logger.warning("stored context of gateway %s unreadable: rebuilt", stored.gateway)
            parts = self.read_parts(company_id, stored.gateway)
            parts = replace(parts, meters=stored.meters)  # the ones ingest holds
            gateway_id = str(stored.gateway.attribute_values.get("gateway_id"))
            self._items.store_context(
                company_id, gateway_id, parts, version, now, None, _record_of(parts)
            )
            return parts

    def store_context(
        self, found: BusOfMessage, now: datetime, silence_by: datetime | None = None
    ) -> None:
        """Store the context again: ingest changed a meter's presence, serial or profiles."""
        bus, parts = found.bus, found.parts
        self._items.store_context(
            bus.company_id,
            bus.gateway.gateway_id,
            parts,
            found.read.context_version,
            now,
            silence_by,
            _record_of(parts),
        )
        self._stored.pop((bus.company_id, bus.gateway.gateway_id), None)

    def changed(self, company_id: str, gateway_id: str) -> None:
        """A catalogue edit of this bus: every container's stored context is stale."""
        self._items.bump(company_id, gateway_id)
        self._stored.pop((company_id, gateway_id), None)
        self._cache.pop((company_id, gateway_id), None)

    def by_thing(self, thing_name: str) -> BusContext:
        gateway = self._catalogue.find_gateway_by_thing(thing_name)
        return self.load(gateway.company_id, gateway.gateway_id, gateway)

    def load(
        self, company_id: str, gateway_id: str, gateway: Gateway | GatewayRow | None = None
    ) -> BusContext:
        key = (company_id, gateway_id)
        if len(self._touched) < MAX_CACHED_BUSES:
            self._touched.add(key)
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
        """A change was just stored: the buses this container loaded since the last
        forget are read fresh here, and bumped for every other container (ingest)."""
        for company_id, gateway_id in sorted(self._touched):
            self._items.bump(company_id, gateway_id)
        self._touched.clear()
        self._stored.clear()
        self._cache.clear()

    def fresh_for_unit(self, company_id: str, unit_id: str) -> tuple[BusContext, MeterContext]:
        """The bus and meter of a unit, read fresh: someone acting on it now (a top-up, a
        power change, a settings change) must see the tenancy and tariff of now."""
        unit = self._catalogue.get_unit(company_id, unit_id)
        if not unit.meter_id:
            raise NoMeterError(f"unit {unit_id} has no meter")
        meter = self._catalogue.get_meter(company_id, unit.meter_id)
        self.forget()
        # a settings change reaches here after it was stored: ingest must see it too
        self.changed(company_id, meter.gateway_id)
        bus = self.load(company_id, meter.gateway_id)
        meter_ctx = bus.meters.get(meter.meter_id)
        if meter_ctx is None:
            raise NoMeterError(f"meter {meter.meter_id} is not on gateway {meter.gateway_id}")
        return bus, meter_ctx

    def _read(self, company_id: str, gateway: Gateway | GatewayRow) -> BusContext:
        return assemble(self.read_parts(company_id, gateway))

    def read_parts(self, company_id: str, gateway: Gateway | GatewayRow) -> CatalogueParts:
        """The catalogue items a bus context is built from (3-4 requests), as rows: a
        context holds the same kind of item whether read here or from the bus item."""
        catalogue = self._catalogue
        meters = list(catalogue.list_meters_of_gateway(company_id, str(gateway.gateway_id)))
        units = catalogue.get_units(company_id, [m.unit_id for m in meters if m.unit_id])
        tenancies = catalogue.get_tenancies(
            company_id, [u.tenancy_id for u in units.values() if u.tenancy_id]
        )
        premises = catalogue.get_property(company_id, str(gateway.property_id))
        return CatalogueParts(
            gateway=gateway if isinstance(gateway, GatewayRow) else row_of(GatewayRow, gateway),
            premises=row_of(PropertyRow, premises),
            company=row_of(CompanyRow, catalogue.get_company(company_id)),
            meters=[row_of(MeterRow, m) for m in meters],
            units={k: row_of(UnitRow, u) for k, u in units.items()},
            tenancies={k: row_of(TenancyRow, t) for k, t in tenancies.items()},
        )


def _parts_of(bus: BusContext, parts: CatalogueParts) -> CatalogueParts:
    """The parts a cached context was assembled from (its own model objects, which
    ingest mutates), with the item's copy for anything it does not hold."""
    meters = [ctx.meter for ctx in bus.meters.values()]
    return replace(
        parts, gateway=bus.gateway, premises=bus.premises, company=bus.company, meters=meters
    )


def assemble(parts: CatalogueParts, today: date | None = None) -> BusContext:
    """The bus context of catalogue items (read now, or stored on the bus item)."""
    today = today or datetime.now(UTC).date()
    contexts: dict[str, MeterContext] = {}
    day = today.isoformat()
    premises_cycle = parts.premises.billing_cycle
    # the timeline, its digest and the version in force, once per distinct document here
    tariffs: dict[str, tuple[TariffTimeline, str, AnyTariff]] = {}
    # The items' values, not their attributes (a descriptor call each): a context is
    # assembled for most messages of a fleet, 32 meters each (issue 19, CPU).
    for meter in parts.meters:
        unit_id = meter.attribute_values.get("unit_id")
        unit = parts.units.get(unit_id) if unit_id else None
        values = {} if unit is None else unit.attribute_values
        tenancy_id = values.get("tenancy_id")
        tenancy = parts.tenancies.get(tenancy_id) if tenancy_id else None
        if tenancy is not None:
            ends_on = tenancy.attribute_values.get("ends_on")
            if ends_on and ends_on <= day:
                tenancy = None
        document = values.get("tariff")
        timeline: TariffTimeline | None = None
        tariff: AnyTariff | None = None
        digest = ""
        if document:
            packed = parts.tariff_digests.get(str(unit_id))
            found = tariffs.get(packed) if packed else None
            if found is None:
                timeline, digest = _timeline(document, packed)
                found = tariffs[digest] = (timeline, digest, in_force(timeline, today))
            timeline, digest, tariff = found
        cycle = _cycle(values.get("billing_cycle") or premises_cycle)
        contexts[meter.attribute_values["meter_id"]] = _meter_context(
            meter, unit, tenancy, tariff, timeline, cycle, digest
        )
    return BusContext(
        gateway=parts.gateway, premises=parts.premises, company=parts.company, meters=contexts
    )


def _meter_context(
    meter: MeterRow,
    unit: UnitRow | None,
    tenancy: TenancyRow | None,
    tariff: AnyTariff | None,
    timeline: TariffTimeline | None,
    cycle: BillingCycle,
    digest: str,
) -> MeterContext:
    """``MeterContext(...)`` without the frozen dataclass's keyword construction (a
    setattr per field): the same fields and the plain copies ``__post_init__`` keeps."""
    context = object.__new__(MeterContext)
    mode = None if unit is None else unit.attribute_values.get("billing_mode")
    context.__dict__.update(
        meter=meter,
        unit=unit,
        tenancy=tenancy,
        tariff=tariff,
        timeline=timeline,
        cycle=cycle,
        tariff_digest=digest,
        _account_id=None if tenancy is None else tenancy.attribute_values.get("account_id"),
        _prepaid=bool(mode == "prepaid" and tenancy),
    )
    return context


MAX_CACHED_TIMELINES = 256
_TIMELINES: BoundedMemo[str, tuple[TariffTimeline, str]] = BoundedMemo(MAX_CACHED_TIMELINES)


def _timeline(document: Any, digest: str | None = None) -> tuple[TariffTimeline, str]:
    """The parsed timeline and a digest of its document, once per container per distinct
    document: a fleet shares few tariffs, and a bus context read from the bus item would
    otherwise validate every unit's again. ``digest``: the document's, as packed on the
    bus item (worked out here when the parts came from the catalogue)."""
    from ..domain.tariff_versions import parse_timeline

    digest = digest or tariff_digest(document)
    found = _TIMELINES.get(digest)
    if found is None:
        found = _TIMELINES.remember(digest, (parse_timeline(document), digest))
    return found


def in_force(timeline: TariffTimeline, day: date) -> AnyTariff:
    """The version pricing ``day`` (the first one before the timeline begins)."""
    if day < timeline.versions[0].effective_from:
        return timeline.versions[0].tariff
    return timeline.version_on(day).tariff


def cycle_of_unit(unit: Unit | UnitRow | None, premises: Property | PropertyRow) -> BillingCycle:
    """A unit's billing cycle: its own, else its property's, else the calendar month."""
    if unit is not None and unit.billing_cycle:
        return parse_cycle(unit.billing_cycle)
    return parse_cycle(premises.billing_cycle) if premises.billing_cycle else MONTHLY


def _cycle(document: Any) -> BillingCycle:
    """``cycle_of_unit`` of the document that applies (None: the calendar month), parsed
    once per container per distinct document."""
    if not document:
        return MONTHLY
    key = json.dumps(document, sort_keys=True)
    found = _CYCLES.get(key)
    if found is None:
        found = _CYCLES.remember(key, parse_cycle(document))
    return found


_CYCLES: BoundedMemo[str, BillingCycle] = BoundedMemo(MAX_CACHED_TIMELINES)


# --- the steady record: what a steady message reads of its bus, precomputed ---


def digest_basis(bus: BusContext, meter_ctx: MeterContext) -> str:
    """What a prepaid meter's due mark depends on outside the account and the
    settlement period (pipeline/settle_due.py hashes it with the period): its tariff
    document, billing cycle, tenancy start, account, the levels it must not cross
    unnoticed and the property's zone."""
    tenancy = meter_ctx.tenancy
    currency = meter_ctx.tariff.currency if meter_ctx.tariff else ""
    levels = bus.levels_minor(currency, meter_ctx.unit) if currency else ()
    starts_on = tenancy.attribute_values.get("starts_on") if tenancy else ""
    return "|".join(
        (
            meter_ctx.tariff_digest,
            repr(meter_ctx.cycle),
            str(starts_on or ""),
            str(meter_ctx.account_id or ""),
            ",".join(map(str, levels)),
            bus.tz,
        )
    )


def steady_record(bus: BusContext, parts: CatalogueParts, today: date) -> dict[str, Any]:
    """What the steady path reads of each meter's context (``StoredMeterContext``),
    worked out when the context is stored, so a steady message assembles nothing:
    per meter its account, whether it is prepaid and priced, and its mark's basis
    (``digest_basis``). Valid from ``day`` until ``until`` (exclusive; None: no end),
    the first day on which ``assemble`` would answer otherwise: a tenancy's end or a
    tariff version's start (docs/pipeline.md, "The steady record")."""
    day = today.isoformat()
    changes: set[str] = set()
    for tenancy in parts.tenancies.values():
        ends_on = tenancy.attribute_values.get("ends_on")
        if ends_on and str(ends_on) > day:
            changes.add(str(ends_on))
    meters: dict[str, list[Any]] = {}
    for meter_id, meter_ctx in bus.meters.items():
        if meter_ctx.timeline is not None:
            changes.update(
                later
                for version in meter_ctx.timeline.versions
                if (later := version.effective_from.isoformat()) > day
            )
        meters[meter_id] = [
            meter_ctx.account_id,
            meter_ctx.prepaid,
            meter_ctx.has_tariff,
            digest_basis(bus, meter_ctx),
        ]
    return {"day": day, "until": min(changes) if changes else None, "meters": meters}


def _record_of(parts: CatalogueParts) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return steady_record(assemble(parts, today), parts, today)


class _Once:
    """A value worked out on first call and kept (the whole parts of one message)."""

    def __init__(self, make: Callable[[], CatalogueParts]) -> None:
        self._make: Callable[[], CatalogueParts] | None = make
        self._value: CatalogueParts | None = None

    def __call__(self) -> CatalogueParts:
        if self._make is not None:
            self._value, self._make = self._make(), None
        assert self._value is not None
        return self._value


class _Assembled:
    """The bus context assembled from every part, on first need (one per message)."""

    def __init__(self, whole: Callable[[], CatalogueParts], today: date) -> None:
        self._whole, self._today = whole, today
        self._bus: BusContext | None = None

    def bus(self) -> BusContext:
        if self._bus is None:
            self._bus = assemble(self._whole(), self._today)
        return self._bus


class StoredMeterContext(MeterContext):
    """A meter's context built from the steady record: the meter and unit items, the
    account, prepaid and priced as recorded, the mark's basis (``_due_basis``); its
    tenancy, tariff, timeline and cycle are assembled from every part when first asked
    for (the full path: a meter that is not steady). Equal to the context ``assemble``
    builds from the same parts on the same day (tested)."""

    def _full(self) -> MeterContext:
        assembled: _Assembled = self.__dict__["_assembled"]
        return assembled.bus().meters[self.__dict__["_meter_id"]]

    @property
    def tenancy(self) -> TenancyRow | None:
        return self._full().tenancy

    @property
    def tariff(self) -> AnyTariff | None:
        return self._full().tariff

    @property
    def timeline(self) -> TariffTimeline | None:
        return self._full().timeline

    @property
    def cycle(self) -> BillingCycle:
        return self._full().cycle

    @property
    def tariff_digest(self) -> str:
        return self._full().tariff_digest

    @property
    def has_tariff(self) -> bool:
        return bool(self.__dict__["_has_tariff"])


class StoredBusContext(BusContext):
    """A bus context of ``StoredMeterContext``s: the company is read (with the
    tenancies) only when first asked for."""

    @property
    def company(self) -> CompanyRow:
        assembled: _Assembled = self.__dict__["_assembled"]
        return assembled.bus().company


def assemble_stored(
    stored: StoredParts, today: date, whole: Callable[[], CatalogueParts]
) -> BusContext | None:
    """The bus context of a stored context's steady record (``steady_record``), or None
    when it has none valid today (then the caller assembles every part). ``whole``:
    every part, for what the record does not hold."""
    record = stored.steady
    if record is None:
        return None
    day, until, recorded = record.get("day"), record.get("until"), record.get("meters")
    iso = today.isoformat()
    if not isinstance(day, str) or day > iso or (until is not None and until <= iso):
        return None
    if not isinstance(recorded, dict):
        return None
    assembled = _Assembled(whole, today)
    units = stored.units
    contexts: dict[str, MeterContext] = {}
    for meter in stored.meters:
        values = meter.attribute_values
        meter_id = values.get("meter_id")
        entry = recorded.get(meter_id)
        if type(meter_id) is not str or type(entry) is not list or len(entry) != 4:
            return None
        if meter_id in contexts:
            return None
        account_id, prepaid, has_tariff, basis = entry
        unit_id = values.get("unit_id")
        context = object.__new__(StoredMeterContext)
        context.__dict__.update(
            meter=meter,
            unit=units.get(unit_id) if unit_id else None,
            _account_id=account_id,
            _prepaid=prepaid is True,
            _has_tariff=has_tariff is True,
            _due_basis=basis,
            _meter_id=meter_id,
            _assembled=assembled,
        )
        contexts[meter_id] = context
    if len(contexts) != len(recorded):
        return None
    bus = object.__new__(StoredBusContext)
    bus.__dict__.update(
        gateway=stored.gateway,
        premises=stored.premises,
        meters=contexts,
        _company_id=str(stored.gateway.attribute_values.get("company_id")),
        _tz=str(stored.premises.attribute_values.get("time_zone")),
        _thresholds={},
        _levels={},
        _assembled=assembled,
    )
    return bus
