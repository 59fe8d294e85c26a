"""Staff review a unit's held readings and record meter exchanges (docs/metering-data.md,
"Review" and "Meter exchange"): the readings page and the JSON API call this.

What a decision or an exchange does to the money and the relay is the pipeline's
(``pipeline/reading_corrections.py``); this use case decides who may ask (staff of the
unit's property; anyone else is told the unit does not exist), checks what was typed
against the reading and the tenancy, and turns the pipeline's refusals into the
application's. Reads are bounded: the newest ``LISTED`` held readings, and the cycles
around the newest ``LOOKED_AROUND`` waiting ones only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ..auth.principal import STAFF_ROLES, Principal
from ..data.catalogue import Catalogue
from ..data.errors import ConditionFailedError, NotFoundError
from ..data.held_readings import HELD, HeldReadings
from ..data.models import HeldReading, Meter, Property, Unit
from ..data.telemetry_store import TelemetryStore
from ..domain import Reading, format_kwh, kwh
from ..domain.calendar import local_midnight
from ..domain.meter_models import MeterModel, configured_models
from ..domain.metering import FUTURE_TOLERANCE, HoldReason, rating_of, validate
from ..pipeline.errors import (
    ControlContentionError,
    NoMeterError,
    ReadingAlreadyDecidedError,
    ReadingBelowAnchorError,
    ReadingCorrectionError,
)
from ..pipeline.reading_corrections import ReadingCorrections
from ..pipeline.telemetry import MeterRow, rows_of
from .latest_reading import LatestReadings
from .reading_errors import (
    AlreadyDecidedError,
    BelowLastGoodReadingError,
    CorrectionRefusedError,
    EstimateOutOfRangeError,
    ExchangeExistsError,
    ExchangeTimeError,
    MeterChangedMeanwhileError,
    ReviewNeedsMeterError,
    UnplaceableReadingError,
)
from .reading_requests import MeterExchangeRequest, ReadingDecisionRequest
from .reading_views import (
    Exchange,
    HeldEntry,
    NearbyReading,
    PendingCount,
    ReadingsReview,
    exchanges_of,
    held_entry,
    pending_of,
    proposal_of,
)
from .scope import UnitScope

LISTED = 50  # newest held readings shown (a reset holds every reading until an exchange)
LOOKED_AROUND = 5  # waiting readings whose neighbours are read: 2 Queries each
NEIGHBOUR_CYCLES = 10  # cycles looked at on each side (a bus's cycle is under 1 KB)
NEIGHBOUR_SPAN = timedelta(days=1)  # how far after a held reading a good one is looked for


@dataclass(frozen=True)
class Decided:
    entry: HeldEntry  # the held reading as decided
    settled: bool  # a prepaid account was charged up to it at once
    released: int


@dataclass(frozen=True)
class Exchanged:
    exchange: Exchange
    settled: bool  # a prepaid account was charged up to the old meter's final reading
    released: int  # held readings of the new register it resolved


@dataclass(frozen=True)
class ReadingReview:
    _scope: UnitScope
    _catalogue: Catalogue
    _held: HeldReadings
    _telemetry: TelemetryStore
    _latest: LatestReadings
    _corrections: ReadingCorrections

    # --- reading ---

    def review(self, p: Principal, unit_id: str) -> ReadingsReview:
        unit = self._unit(p, unit_id)
        premises = self._catalogue.get_property(p.company_id, unit.property_id)
        start = self._tenancy_start(p.company_id, unit, premises)
        meter = self._catalogue.meter_of_unit(p.company_id, unit)
        if meter is None:
            return ReadingsReview(unit, premises, None, start, None, [], PendingCount(0, False), [])
        items = self._held.of_meter(p.company_id, meter.meter_id, limit=LISTED)
        entries: list[HeldEntry] = []
        looked = 0
        for item in items:
            if item.status == HELD and looked < LOOKED_AROUND:
                looked += 1
                entries.append(held_entry(item, *self._around(p.company_id, item), True))
            else:
                entries.append(held_entry(item))
        return ReadingsReview(
            unit,
            premises,
            meter,
            start,
            self._latest.of(p.company_id, meter),
            entries,
            pending_of(items, LISTED),
            exchanges_of(meter),
            proposal_of(meter),
        )

    def premises(self, p: Principal, unit_id: str) -> Property:
        """The unit's property (its clock reads the exchange form's time), once visible."""
        unit = self._unit(p, unit_id)
        return self._catalogue.get_property(p.company_id, unit.property_id)

    def pending(self, p: Principal, unit: Unit) -> PendingCount:
        """How many of a visible unit's readings wait for a decision (the unit page's
        link): one Query of the newest held readings."""
        if p.role not in STAFF_ROLES or not unit.meter_id:
            return PendingCount(0, False)
        return pending_of(self._held.of_meter(p.company_id, unit.meter_id, limit=LISTED), LISTED)

    # --- deciding ---

    def decide(
        self,
        p: Principal,
        unit_id: str,
        read_at: datetime,
        request: ReadingDecisionRequest,
        now: datetime,
    ) -> Decided:
        """Accept, reject or replace with an estimate one waiting held reading; once."""
        unit = self._unit(p, unit_id)
        meter = self._catalogue.meter_of_unit(p.company_id, unit)
        if meter is None:
            raise ReviewNeedsMeterError("the unit has no meter")
        item = self._held.get(p.company_id, meter.meter_id, read_at)
        if item.status != HELD:
            raise AlreadyDecidedError(f"this reading was already {item.status}")
        estimate = None
        if request.decision != "reject":
            _placeable(item, now)
        if request.estimate_kwh is not None:
            estimate = kwh(request.estimate_kwh)
            gateway = self._catalogue.get_gateway(p.company_id, str(meter.gateway_id))
            _plausible(item, estimate, meter, unit, configured_models(gateway.profiles))
        try:
            done = self._corrections.decide(
                p.company_id,
                unit.unit_id,
                item.read_at,
                request.decision,
                actor(p),
                request.note,
                now,
                estimate_kwh=estimate,
            )
        except ReadingAlreadyDecidedError as exc:
            raise AlreadyDecidedError(str(exc)) from exc
        except ReadingBelowAnchorError as exc:
            raise BelowLastGoodReadingError(str(exc)) from exc
        except _PIPELINE_REFUSALS as exc:
            raise _refusal(exc) from exc
        decided = self._held.get(p.company_id, meter.meter_id, item.read_at)
        return Decided(held_entry(decided), done.settled, done.released)

    def exchange(
        self, p: Principal, unit_id: str, request: MeterExchangeRequest, now: datetime
    ) -> Exchanged:
        """Record a meter exchange: the old meter's final reading, the new one's opening."""
        unit = self._unit(p, unit_id)
        meter = self._catalogue.meter_of_unit(p.company_id, unit)
        if meter is None:
            raise ReviewNeedsMeterError("the unit has no meter")
        # Key precision (milliseconds) and UTC: the meter keeps its anchors sorted by text.
        at = request.at.astimezone(UTC)
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        if at > now:
            raise ExchangeTimeError("at: an exchange is recorded when it happened, not ahead")
        premises = self._catalogue.get_property(p.company_id, unit.property_id)
        start = self._tenancy_start(p.company_id, unit, premises)
        if start is not None and at < start:
            raise ExchangeTimeError(f"at: before the tenancy began ({start.isoformat()})")
        if any(e.at == at for e in exchanges_of(meter)):
            raise ExchangeExistsError(f"an exchange at {at.isoformat()} is already recorded")
        old_final, opening = kwh(request.old_final_kwh), kwh(request.new_opening_kwh)
        try:
            done = self._corrections.exchange(
                p.company_id, unit.unit_id, at, old_final, opening, actor(p), request.note, now
            )
        except _PIPELINE_REFUSALS as exc:
            raise _refusal(exc) from exc
        recorded = Exchange(
            at, format_kwh(old_final), format_kwh(opening), actor(p), request.note, now
        )
        return Exchanged(recorded, done.settled, done.released)

    def same_meter(self, p: Principal, unit_id: str, note: str, now: datetime) -> int:
        """Answer a changed serial's proposal with "no exchange: the same meter"; the
        readings held for the serial are rejected (the next good one charges them)."""
        unit = self._unit(p, unit_id)
        if self._catalogue.meter_of_unit(p.company_id, unit) is None:
            raise ReviewNeedsMeterError("the unit has no meter")
        try:
            done = self._corrections.same_meter(p.company_id, unit.unit_id, actor(p), note, now)
        except ReadingAlreadyDecidedError as exc:
            raise AlreadyDecidedError(str(exc)) from exc
        except _PIPELINE_REFUSALS as exc:
            raise _refusal(exc) from exc
        return done.released

    # --- shared ---

    def _unit(self, p: Principal, unit_id: str) -> Unit:
        # Tenants never review readings, not even their own unit's: to them it is not there.
        if p.role not in STAFF_ROLES:
            raise NotFoundError("unit not found")
        return self._scope.visible_unit(p, unit_id)

    def _tenancy_start(self, company_id: str, unit: Unit, premises: Property) -> datetime | None:
        """The current tenancy's first instant (its start date's local midnight)."""
        tenancy = self._scope.current_tenancy(company_id, unit)
        if tenancy is None:
            return None
        day = date.fromisoformat(str(tenancy.starts_on))
        return local_midnight(day, premises.time_zone).astimezone(UTC)

    def _around(
        self, company_id: str, item: HeldReading
    ) -> tuple[NearbyReading | None, NearbyReading | None]:
        """The meter's good readings just before and just after a held one, from the bus's
        cycles: at most ``NEIGHBOUR_CYCLES`` each side (one Query each)."""
        at, meter_id, gateway_id = item.read_at, str(item.meter_id), str(item.gateway_id)
        before = None
        for cycle in self._telemetry.cycles_before(company_id, gateway_id, at, NEIGHBOUR_CYCLES):
            before = _good_row(rows_of(cycle), meter_id, lambda t: t < at)
            if before is not None:
                break
        after = None
        start = at + timedelta(milliseconds=1)
        cycles = self._telemetry.cycles_between(
            company_id, gateway_id, start, at + NEIGHBOUR_SPAN, NEIGHBOUR_CYCLES
        )
        for cycle in cycles:
            after = _good_row(rows_of(cycle), meter_id, lambda t: t > at)
            if after is not None:
                break
        return before, after


def actor(p: Principal) -> str:
    return f"user:{p.user_sub}"


def _good_row(
    rows: list[MeterRow], meter_id: str, placed: Callable[[datetime], bool]
) -> NearbyReading | None:
    for row in rows:
        if row.meter_id == meter_id and row.usable and placed(row.read_at):
            assert row.import_kwh is not None  # usable
            return NearbyReading(row.read_at, format_kwh(row.import_kwh))
    return None


def _placeable(item: HeldReading, now: datetime) -> None:
    """A reading held for its clock is stamped with a time it was not read at: accepting
    or estimating it would charge energy at the wrong time (tiers, time-of-use) and put a
    base for validation where no reading was. It can only be rejected."""
    if str(item.reason) == HoldReason.CLOCK or item.read_at > now + FUTURE_TOLERANCE:
        raise UnplaceableReadingError(
            "a reading held for its clock can only be rejected: its time is not when it was read"
        )
    if str(item.reason) == HoldReason.SERIAL_CHANGED:
        raise UnplaceableReadingError(
            "a reading of a changed serial can only be rejected: record the meter exchange"
        )


def _plausible(
    item: HeldReading,
    estimate: Decimal,
    meter: Meter,
    unit: Unit,
    configured: dict[str, MeterModel] | None,
) -> None:
    """An estimate is checked as ingest checks a reading (domain/metering.py), against
    the same last good reading: never below it, never more than the meter can pass."""
    if item.anchor_kwh is None or item.anchor_at is None:
        return
    anchor = Reading(item.anchor_at, kwh(str(item.anchor_kwh)))
    override = None if unit.max_current_a is None else Decimal(str(unit.max_current_a))
    rating = rating_of(str(meter.profile), override, configured)
    verdict = validate(Reading(item.read_at, estimate), anchor, rating, item.read_at)
    if verdict.reason is HoldReason.BACKWARDS:
        raise EstimateOutOfRangeError(
            f"estimate_kwh: {format_kwh(estimate)} kWh is below the last good reading "
            f"{format_kwh(anchor.cumulative_kwh)} kWh"
        )
    if verdict.reason is HoldReason.CLOCK:  # not after its anchor: only the anchor fits
        raise EstimateOutOfRangeError(
            f"estimate_kwh: this reading is not after the last good reading; only "
            f"{format_kwh(anchor.cumulative_kwh)} kWh fits"
        )
    if verdict.reason is not None:
        most = anchor.cumulative_kwh + (verdict.limit_kwh or Decimal(0))
        raise EstimateOutOfRangeError(
            f"estimate_kwh: {format_kwh(estimate)} kWh is more than this meter can reach "
            f"since the last good reading (at most {format_kwh(most)} kWh)"
        )


_PIPELINE_REFUSALS = (
    ReadingCorrectionError,
    NoMeterError,
    ConditionFailedError,
    ControlContentionError,
)


def _refusal(exc: Exception) -> Exception:
    if isinstance(exc, NoMeterError):
        return ReviewNeedsMeterError(str(exc))
    if isinstance(exc, ConditionFailedError | ControlContentionError):
        return MeterChangedMeanwhileError("the meter changed meanwhile: try again")
    return CorrectionRefusedError(str(exc))
