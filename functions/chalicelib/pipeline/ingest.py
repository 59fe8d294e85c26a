"""Ingest one telemetry message: validate, store once, bucket, settle, control.

Writes per message (docs/pipeline.md): one cycle item for the whole bus; one
usage item per gateway when a 15-minute bucket closes (plus one ADD to the
company's usage month when the bucket's message count changes); a settlement per meter
per hour (or on a threshold); the control state and shadows only on change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ..data.audit import AuditLog
from ..data.catalogue import Catalogue
from ..data.control_state import BusControlState, MeterControlState, StoredMeters, from_ms
from ..data.errors import NotFoundError
from ..data.held_readings import HeldReadings
from ..data.rows import GatewayCycleRow as GatewayCycle  # a stored cycle, as read
from ..data.telemetry_store import ClosedBucket, TelemetryStore
from ..data.usage_days import UsageDayStore
from ..data.usage_store import UsageCounters
from ..domain import Reading
from ..domain.energy import kwh
from ..domain.errors import DomainError
from ..domain.money_text import format_major
from ..observability import logger
from ..observability import metrics as default_metrics
from .alerts import Alert
from .bucket_close import BASE_SEARCH_SPAN, BucketReads, first_page
from .buckets import BUCKET, bucket_start, readings_by_meter
from .contention import Planned, update_bus_state
from .context import CONTEXT_MAX_AGE_S, BusContext, BusDirectory, MeterContext
from .control import Controller
from .day_rollup import DayRollup
from .dead_letters import DeadLetters
from .effects import ClearCondition, Effect, Notify
from .energy_balance import EnergyBalances
from .errors import ControlContentionError, InvalidTelemetryError
from .gaps import ANCHOR_MARGIN, complete_readings, needs_every_reading
from .health import health_snapshot
from .meter_presence import presence_changes, record_presence
from .meter_profiles import profile_changes, record_profile_changes
from .open_conditions import cleared_conditions
from .presence import GATEWAY_SILENT_AFTER
from .settler import Prepared, Settler
from .telemetry import MeterRow, Telemetry, parse_event, rows_of
from .validation import ReadingValidator

SOURCE = "ingest_telemetry"
MAX_STATE_ATTEMPTS = 4
CONTENTION_METRIC = "IngestStateContention"
# Readings per outcome (EMF, namespace Powerlet): the alarms and docs/runbook.md read these.
ACCEPTED_METRIC = "ReadingsAccepted"  # stored as good
HELD_METRIC = "ReadingsHeld"  # stored, quarantined for review (docs/metering-data.md)
DEAD_LETTERED_METRIC = "ReadingsDeadLettered"  # rows of a message sent to the dead letters
DUPLICATE_METRIC = "MessagesDuplicate"
# How far on a message puts its bus's silence deadline (docs/pipeline.md, "Presence and
# deadlines"). Ingest writes the bus item at least once an hour for a gateway it hears
# (the context is rebuilt when older, CONTEXT_MAX_AGE_S), so a speaking gateway's
# deadline never falls due; one silent for GATEWAY_SILENT_AFTER past it does. No request
# of its own: the cost is finding a hung-but-connected gateway up to an hour later.
SILENCE_HORIZON = timedelta(seconds=CONTEXT_MAX_AGE_S) + GATEWAY_SILENT_AFTER


@dataclass
class IngestResult:
    status: str  # stored | duplicate | dead_letter
    reason: str | None = None
    settled: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    buckets: int = 0
    # Stored, but the control state kept changing under us: settling and control wait
    # for the bus's next message, which reads the readings again (docs/pipeline.md).
    deferred: bool = False
    accepted: int = 0  # readings stored as good (usable)
    held: int = 0  # readings stored held for review (quarantined); failed reads are neither
    dead_lettered: int = 0  # readings sent to the dead letters
    # For the log line (one per message, ``_report``): which bus and cycle, and the money
    # its settlements moved, in minor units of the bus's currency.
    gateway_id: str | None = None
    cycle_at: datetime | None = None
    charged_minor: int = 0
    currency: str | None = None


def bus_history(
    telemetry: TelemetryStore, bus: BusContext, start: datetime, end: datetime
) -> tuple[list[GatewayCycle], dict[str, list[Reading]]]:
    """The bus's cycles from ANCHOR_MARGIN before ``start`` (the cycle holding a cursor
    at ``start`` is in, for the gap check of pipeline/gaps.py) up to ``end``, and each
    meter's readings in them."""
    cycles = list(
        telemetry.cycles_between(bus.company_id, bus.gateway.gateway_id, start - ANCHOR_MARGIN, end)
    )
    return cycles, readings_by_meter(rows_of(c) for c in cycles)


@dataclass
class _Closing:
    """The bucket a new message closes, computed before its cycle is stored; ``written``
    once the transaction with the cycle stored it (and the month's ADD)."""

    bucket: ClosedBucket
    month_add: list[dict[str, Any]]
    written: bool = False


class Ingest:
    def __init__(
        self,
        buses: BusDirectory,
        telemetry: TelemetryStore,
        settler: Settler,
        controller: Controller,
        dead_letters: DeadLetters,
        day_rollup: DayRollup | None = None,
        usage: UsageCounters | None = None,
        metrics: Metrics | None = None,
        validator: ReadingValidator | None = None,
        catalogue: Catalogue | None = None,
        audit: AuditLog | None = None,
        balances: EnergyBalances | None = None,
    ) -> None:
        self._catalogue = catalogue or Catalogue()  # stateless: the table is bound once
        self._audit = audit or AuditLog()
        self._balances = balances or EnergyBalances(self._catalogue, UsageDayStore())
        self._metrics = metrics or default_metrics
        self._validator = validator or ReadingValidator(telemetry, HeldReadings())
        self._buses = buses
        self._usage = usage or UsageCounters()
        self._days = day_rollup or DayRollup()
        self._telemetry = telemetry
        self._settler = settler
        self._controller = controller
        self._dead_letters = dead_letters

    def handle(self, event: Any) -> IngestResult:
        """One message, and one log line and metric set saying what became of it."""
        result = self._ingest(event)
        self._report(result)
        return result

    def _report(self, result: IngestResult) -> None:
        # Most messages have only readings accepted: one metric, the others looked at once.
        metrics = self._metrics
        if result.accepted:
            metrics.add_metric(name=ACCEPTED_METRIC, unit=MetricUnit.Count, value=result.accepted)
        if result.held:
            metrics.add_metric(name=HELD_METRIC, unit=MetricUnit.Count, value=result.held)
        if result.dead_lettered:
            metrics.add_metric(
                name=DEAD_LETTERED_METRIC, unit=MetricUnit.Count, value=result.dead_lettered
            )
        if result.status == "duplicate":
            metrics.add_metric(name=DUPLICATE_METRIC, unit=MetricUnit.Count, value=1)
        # the correlation id (gateway/spool/seq) was set when the message was parsed; the
        # message is a sentence a person reads in a local run's log, the keys are for queries.
        # Given as an argument: a message without arguments is first tried as JSON by
        # Powertools' formatter (a failed json.loads and its exception on every message).
        # Keys whose value is None are left out here: Powertools strips them from the line
        # anyway, and each key passed is copied three times on the way (issue 19, CPU).
        cycle_at = result.cycle_at.isoformat() if result.cycle_at else None
        keys = {
            "outcome": result.status,
            "reason": result.reason,
            "gateway": result.gateway_id,
            "cycle_at": cycle_at,
            "accepted": result.accepted,
            "held": result.held,
            "dead_lettered": result.dead_lettered,
            "deferred": result.deferred,
            "buckets": result.buckets,
            "settled": len(result.settled),
            "charged_minor": result.charged_minor,
            "currency": result.currency,
            "commands": len(result.commands),
        }
        extra = {k: v for k, v in keys.items() if v is not None}
        logger.info("%s", _sentence(result, cycle_at), extra=extra)

    def _ingest(self, event: Any) -> IngestResult:
        logger.set_correlation_id(None)
        try:
            message = parse_event(event)
        except InvalidTelemetryError as exc:
            return self._refuse(exc.reason, event)
        result = self._ingest_message(event, message)
        result.cycle_at = message.cycle_at
        result.gateway_id = result.gateway_id or message.thing_name
        return result

    def _ingest_message(self, event: Any, message: Telemetry) -> IngestResult:
        # The message's own identity: the same on a retry or a replay, so every line
        # about it (here and in the dead letters) can be found together.
        logger.set_correlation_id(f"{message.thing_name}/{message.spool_id}/{message.seq}")
        # Heard: the bus's silence deadline moves on with whichever bus-item write this
        # message makes anyway (none: it stays where the last one put it).
        silence_by = message.received_at + SILENCE_HORIZON
        try:
            found = self._buses.for_message(message.thing_name, message.received_at, silence_by)
        except NotFoundError:
            refused = self._refuse(f"no gateway registered for thing {message.thing_name}", event)
            refused.dead_lettered = len(message.rows)
            return refused
        bus, read = found.bus, found.read
        marks = found.presence_marks()
        rows = [r for r in message.rows if r.meter_id in bus.meters]
        foreign = sorted(r.meter_id for r in message.rows if r.meter_id not in bus.meters)
        if foreign:
            # Never touch another bus's meters: drop them here, keep the rest.
            reason = f"meters not on gateway {bus.gateway.gateway_id}: {', '.join(foreign)}"
            self._dead_letters.send(reason, SOURCE, event)
            if not rows:
                return IngestResult("dead_letter", reason, dead_lettered=len(foreign))
        # Validation before the cycle is stored, so a held reading is stored held and no
        # reader ever sees it as good (docs/metering-data.md). The newest cycle came with
        # the bus item; only a late or repeated message reads the one before it.
        latest = read.latest_cycle
        latest_at = None if latest is None else from_ms(int(latest.cycle_at_ms))
        if latest is None or (latest_at is not None and latest_at < message.cycle_at):
            previous = [] if latest is None else [latest]
        else:
            previous = self._telemetry.cycles_before(
                bus.company_id, bus.gateway.gateway_id, message.cycle_at, limit=1
            )
        checked = self._validator.check(bus, message, rows, previous)
        rows = checked.rows
        cycle = (
            bus.company_id,
            bus.gateway.gateway_id,
            message.spool_id,
            message.seq,
            message.cycle_at,
            message.received_at,
            [r.compact(message.cycle_at) for r in rows],
        )
        closing = self._closing(bus, message, previous, latest_at)
        if closing is not None:
            closing.written = self._telemetry.put_cycle_closing(
                cycle, closing.bucket, closing.month_add
            )
        stored = (closing is not None and closing.written) or self._telemetry.put_cycle(*cycle)
        if not stored:
            return IngestResult("duplicate")
        alerts = [*checked.alerts, *self._validator.record(bus, checked)]
        record_presence(self._catalogue, bus, presence_changes(bus, rows), message.cycle_at)
        record_profile_changes(
            self._catalogue,
            self._audit,
            bus,
            profile_changes(bus, message.profile_versions),
            message.cycle_at,
        )
        if alerts:  # not part of any state write: sent once, now
            self._controller.perform([Notify(alert) for alert in alerts])
        if read.open_conditions:  # a sweep's alert this bus's telemetry may clear
            cleared = cleared_conditions(read.open_conditions, rows, message.received_at)
            self._controller.perform(
                [
                    ClearCondition(bus.company_id, bus.gateway.gateway_id, c, message.received_at)
                    for c in cleared
                ]
            )
        if found.presence_marks() != marks:
            # presence, a serial or profile versions written to a Meter: the bus item's
            # copy follows, or every message would find the change again
            self._buses.store_context(found, message.received_at, silence_by)
        buckets = self._close_buckets(bus, message, previous, latest_at, closing)
        try:
            result = update_bus_state(
                self._telemetry,
                bus.company_id,
                bus.gateway.gateway_id,
                message.received_at,
                lambda read: self._plan(bus, message, rows, read),
                MAX_STATE_ATTEMPTS,
                self._controller.perform,
                first_read=read.state,
                silence_by=silence_by,
            )
        except ControlContentionError:
            result = self._defer(bus, message, buckets)
        result.buckets = buckets
        result.gateway_id = bus.gateway.gateway_id
        result.accepted = sum(1 for r in rows if r.usable)
        result.held = sum(1 for r in rows if r.quarantine is not None)
        result.dead_lettered = len(foreign)
        return result

    def _defer(self, bus: BusContext, message: Telemetry, buckets: int) -> IngestResult:
        """The cycle is stored; its settling and control are left to the bus's next
        message, which reads the readings since the cursor again (nothing is lost: the
        account's cursor is the authority, the state only a cache of it)."""
        logger.warning(
            "control state of gateway %s kept changing (%d attempts): control of cycle %s "
            "(spool %s, seq %d) deferred to the next message",
            bus.gateway.gateway_id,
            MAX_STATE_ATTEMPTS,
            message.cycle_at.isoformat(),
            message.spool_id,
            message.seq,
        )
        self._metrics.add_metric(name=CONTENTION_METRIC, unit=MetricUnit.Count, value=1)
        return IngestResult("stored", buckets=buckets, deferred=True)

    def _refuse(self, reason: str, event: Any) -> IngestResult:
        self._dead_letters.send(reason, SOURCE, event)
        return IngestResult("dead_letter", reason)

    # --- 15-minute buckets ---

    def _closing(
        self,
        bus: BusContext,
        message: Telemetry,
        previous: list[GatewayCycle],
        stored_latest_at: datetime | None,
    ) -> _Closing | None:
        """The bucket a message newer than the bus's newest cycle closes, read and computed
        before the cycle is stored, so that the cycle, the bucket and the month's ADD go in
        one transaction (docs/pipeline.md, "Closing a bucket"). None when it closes none,
        or when it is late or at the newest cycle's instant (most likely a duplicate): those
        store the cycle first and close after it, as before."""
        if stored_latest_at is None or stored_latest_at >= message.cycle_at or not previous:
            return None
        start = bucket_start(stored_latest_at)
        if start >= bucket_start(message.cycle_at):
            return None
        # the window's cycles in one page at the bus's pace (pipeline/bucket_close.py);
        # the new cycle is after the window, so reading before storing it reads the same
        try:
            reads = self._bucket_reads(bus, start, message.cycle_at - stored_latest_at)
            energy = reads.energy()
        except DomainError:
            # a stored reading the chain refuses (validation never stores one): the cycle
            # is stored first, as before, and the close fails after it, not the message
            return None
        co, gw = bus.company_id, bus.gateway.gateway_id
        # The closing message's bus counters ride on the bucket (no write of their own).
        health = health_snapshot(message, bus.meters)
        bucket = ClosedBucket(co, gw, start, energy, reads.stored, health)
        # resellers' messages per month (docs/brands.md): the bucket is new, so all of its
        # stored cycles are a change
        n = reads.stored
        month_add = [self._usage.messages_item(co, gw, start, n)] if n else []
        return _Closing(bucket, month_add)

    def _bucket_reads(
        self, bus: BusContext, start: datetime, poll: timedelta | None
    ) -> BucketReads:
        reads = BucketReads(start, first_page(poll))
        return reads.read(
            self._telemetry.cycle_rows_back(
                bus.company_id,
                bus.gateway.gateway_id,
                start - BASE_SEARCH_SPAN,
                start + BUCKET,
                reads.page_size,
            )
        )

    def _close_buckets(
        self,
        bus: BusContext,
        message: Telemetry,
        previous: list[GatewayCycle],
        stored_latest_at: datetime | None,
        closing: _Closing | None = None,
    ) -> int:
        """Write the buckets this message closes (or, if it came late, rewrites).
        ``previous``: the bus's cycle before this one (validation read it already);
        ``stored_latest_at``: the newest cycle's time before this one was stored;
        ``closing``: the bucket ``_closing`` computed (written with the cycle unless its
        transaction was refused)."""
        co, gw = bus.company_id, bus.gateway.gateway_id
        latest_at = max(stored_latest_at or message.cycle_at, message.cycle_at)
        this_bucket = bucket_start(message.cycle_at)
        late = latest_at > message.cycle_at
        if late:
            # A late message changes its bucket and the next one (its base moved).
            targets = [
                b for b in (this_bucket, this_bucket + BUCKET) if b < bucket_start(latest_at)
            ]
        else:
            if not previous:
                return 0
            previous_bucket = bucket_start(from_ms(int(previous[0].cycle_at_ms)))
            targets = [previous_bucket] if previous_bucket < this_bucket else []
        poll = (
            message.cycle_at - from_ms(int(previous[0].cycle_at_ms))
            if previous and targets
            else None
        )
        for start in targets:
            if closing is not None and closing.bucket.start == start:
                if closing.written:
                    continue
                bucket = closing.bucket  # refused with the cycle: written alone, as below
            else:
                reads = self._bucket_reads(bus, start, poll)
                # A late rewrite keeps the snapshot it finds (pipeline/health.py).
                health = (
                    self._telemetry.usage_health(co, gw, start)
                    if late
                    else health_snapshot(message, bus.meters)
                )
                bucket = ClosedBucket(co, gw, start, reads.energy(), reads.stored, health)
            stored = bucket.messages or 0
            before = self._telemetry.put_usage(
                co, gw, start, bucket.energy, messages=stored, health=bucket.health
            )
            if stored != before:  # resellers' messages per month (docs/brands.md)
                self._usage.messages_received(co, gw, start, stored - before)
        # Charts read days, not buckets: a finished local day is rolled up (day_rollup.py).
        open_bucket = bucket_start(max(latest_at, message.cycle_at))
        finished = self._days.after_buckets(co, gw, bus.tz, targets, open_bucket)
        if finished and (bus.premises.main_meter_id or bus.gateway.main_meter_id):
            # A day of the building (or of this bus) is complete: its main meter against
            # its units.
            alerts = [
                alert
                for day in finished
                for alert in [
                    *self._balances.alerts_for_day(co, bus.premises, day),
                    *self._balances.bus_alerts_for_day(co, bus.premises, bus.gateway, day),
                ]
            ]
            if alerts:
                self._controller.perform([Notify(alert) for alert in alerts])
        return len(targets)

    # --- money and relays ---

    def _plan(
        self, bus: BusContext, message: Telemetry, rows: list[MeterRow], read: BusControlState
    ) -> Planned[IngestResult]:
        """Settle what is due and plan the control step for every meter of the message,
        against the state read; the shadows, commands and alerts it plans are effects."""
        result = IngestResult("stored")
        meters: dict[str, MeterControlState] = {}
        effects: list[Effect] = []
        settlement_alerts: list[Alert] = []
        now = message.received_at
        history: tuple[list[GatewayCycle], dict[str, list[Reading]]] | None = None
        settler, known_meters = self._settler, read.meters
        settler.begin(bus, known_meters)  # no read: see Settler.begin
        stored = known_meters.stored if isinstance(known_meters, StoredMeters) else None
        changed = False  # a meter's state is not the one read (a write is planned)
        # First every meter up to its settlement, priced, not sent; then the settlements
        # together (few transactions, Settler.settle_all); then each meter's control, on
        # the balance its settlement left, in the message's order.
        looked: list[_Looked] = []
        prepared: list[Prepared] = []
        for row in rows:
            meter_id = row.meter_id
            meter_ctx = bus.meters[meter_id]
            if stored is not None and self._steady(bus, meter_ctx, row, stored(meter_id), now):
                continue  # nothing due, nothing to decide: its state stays as read
            before = known_meters.get(meter_id)
            if before is None:
                before, changed = MeterControlState(), True
            mstate, alerts = self._watch_flags(bus, row, before)
            settling = None
            if meter_ctx.prepaid and row.usable and row.import_kwh is not None:
                mstate = settler.ensure_cursor(bus, meter_ctx, mstate)
                reading = Reading(row.read_at, row.import_kwh)
                mstate = settler.with_due_mark(bus, meter_ctx, mstate, reading.at)
                if settler.due(bus, meter_ctx, mstate, reading):
                    readings = [reading]
                    if needs_every_reading(meter_ctx, mstate, reading, bus.tz):
                        if history is None:
                            known = {**known_meters, **meters, meter_id: mstate}
                            history = self._history(bus, known.values(), message.cycle_at)
                        assert mstate.settled_at is not None  # ensure_cursor
                        readings = complete_readings(
                            *history, meter_id, mstate.settled_at, reading.at, now
                        )
                    if readings:
                        settling = settler.prepare(bus, meter_ctx, mstate, readings)
                        if settling is not None:
                            prepared.append(settling)
            meters[meter_id] = mstate  # its cursor, for a later meter's history
            looked.append(_Looked(meter_ctx, before, mstate, alerts, settling))
        settled_all = iter(settler.settle_all(bus, prepared) if prepared else ())
        for one in looked:
            meter_ctx, before, mstate = one.meter_ctx, one.before, one.state
            meter_id = meter_ctx.meter.meter_id
            effects += [Notify(alert) for alert in one.alerts]
            if one.settling is not None:
                mstate, settled = next(settled_all)
                if settled:
                    result.settled.append(meter_id)
                    settlement_alerts += settled.alerts
                    if settled.applied:
                        result.charged_minor += settled.plan.charge.amount_minor
                        result.currency = settled.plan.charge.currency
                # the next threshold, for the cursor and balance just written (on the
                # settlement's own pricing when it moved them)
                mstate = settler.with_due_mark(bus, meter_ctx, mstate, settled=bool(settled))
            needs_policy = (
                mstate.command_id is None  # no desired state written yet
                or meter_id in result.settled
                # Someone else moved the cursor (a top-up, a move-out, or a settlement of
                # ours whose state write never won): decide on the balance reloaded.
                or (mstate is not before and _snapshot(mstate) != _snapshot(before))
                or mstate.reason in _POLICY_REASONS
                or mstate.manual_expired(now)  # "on until" ended: automatic again
            )
            if needs_policy and (not meter_ctx.prepaid or mstate.settled_at is not None):
                control = self._controller.plan(bus, meter_ctx, mstate, now)
                mstate = control.state
                effects += control.effects
                if control.outcome.command_id:
                    result.commands.append(control.outcome.command_id)
            meters[meter_id] = mstate
            changed = changed or mstate is not before
        # The steady message changes no meter: the state read is the plan (no write, and
        # no copy of 32 records to compare with it).
        state = read.with_meters(meters) if changed else read
        return Planned(state, result, tuple(effects), tuple(settlement_alerts))

    def _steady(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        row: MeterRow,
        stored: Mapping[str, Any] | None,
        now: datetime,
    ) -> bool:
        """The steady case, told from the meter's stored state without decoding it: the
        full path (``_plan``'s loop) would change nothing and plan nothing. True only
        when that is certain: no reverse-energy flag to raise or clear, a desired state
        written, no reason or manual override the policy looks at again, and (a prepaid
        meter's usable reading) nothing to settle (``Settler.steady``)."""
        if stored is None or stored.get("cmd") is None or stored.get("man") is not None:
            return False
        if stored.get("rs") in _POLICY_REASONS:
            return False
        flags, watts = stored.get("fl"), row.watts
        if flags is not None and type(flags) is not list:
            return False
        if watts is not None and (watts < 0) != (flags is not None and "rev" in flags):
            return False  # _watch_flags raises or clears the flag
        reading_kwh = row.import_kwh
        if not (meter_ctx.prepaid and row.usable and reading_kwh is not None):
            return True
        if type(reading_kwh) is not Decimal or row.read_at.utcoffset() is None:
            return False  # the full path checks it as a Reading
        try:
            reading_kwh = kwh(reading_kwh)
        except DomainError:
            return False
        return self._settler.steady(bus, meter_ctx, stored, row.read_at, reading_kwh)

    def _history(
        self, bus: BusContext, states: Iterable[MeterControlState], cycle_at: datetime
    ) -> tuple[list[GatewayCycle], dict[str, list[Reading]]]:
        """The bus's cycles from the oldest cursor's (ANCHOR_MARGIN before it) to this one."""
        cursors = [m.settled_at for m in states if m.settled_at is not None]
        start = min(cursors) if cursors else cycle_at - timedelta(hours=1)
        start = max(start, cycle_at - timedelta(days=2))  # put a limit on the read
        return bus_history(self._telemetry, bus, start, cycle_at + timedelta(milliseconds=1))

    def _watch_flags(
        self, bus: BusContext, row: MeterRow, mstate: MeterControlState
    ) -> tuple[MeterControlState, list[Alert]]:
        """Reverse energy: an alert when it starts, not on every reading while it lasts."""
        reverse = row.watts is not None and row.watts < 0
        if reverse and "rev" not in mstate.flags:
            alert = Alert(
                bus.company_id,
                "reverse_energy",
                f"meter:{row.meter_id}",
                row.read_at,
                "staff",
                None,
                {"watts": str(row.watts)},
            )
            return replace(mstate, flags=mstate.flags | {"rev"}), [alert]
        if not reverse and row.watts is not None and "rev" in mstate.flags:
            return replace(mstate, flags=mstate.flags - {"rev"}), []
        return mstate, []


def _sentence(result: IngestResult, cycle_at: str | None) -> str:
    """``telemetry gw-tpe-1 2026-12-06T11:40:05+00:00 stored: 5 readings, 1 held for
    review, charged 12.40 TWD on 2 meters``: what became of one message, in one line
    (``cycle_at``: the result's cycle time as text, made once for the line and its key)."""
    where = f"{result.gateway_id or '?'} {cycle_at or '?'}"
    parts = [f"{result.accepted} reading{'s' if result.accepted != 1 else ''}"]
    if result.held:
        parts.append(f"{result.held} held for review")
    if result.dead_lettered:
        parts.append(f"{result.dead_lettered} dead-lettered")
    if result.settled:
        money = (
            f"{format_major(result.charged_minor, result.currency)} {result.currency}"
            if result.currency
            else "nothing new"
        )
        meters = len(result.settled)
        parts.append(f"charged {money} on {meters} meter{'s' if meters != 1 else ''}")
    if result.commands:
        n = len(result.commands)
        parts.append(f"{n} relay command{'s' if n != 1 else ''}")
    if result.deferred:
        parts.append("control deferred")
    if result.reason:
        parts.append(f"reason: {result.reason}")
    return f"telemetry {where} {result.status}: {', '.join(parts)}"


@dataclass(frozen=True)
class _Looked:
    """A meter of a message up to its settlement (``Ingest._plan``'s first pass): its
    state read and as planned so far, its flags' alerts, its settlement if one is due."""

    meter_ctx: MeterContext
    before: MeterControlState
    state: MeterControlState
    alerts: list[Alert]
    settling: Prepared | None


# Reasons the policy looks at again on every reading (a schedule, a balance run out).
_POLICY_REASONS = frozenset({"friendly_hours", "credit_exhausted"})


def _snapshot(state: MeterControlState) -> tuple[object, ...]:
    return (state.account_id, state.balance_minor, state.settled_at, state.settled_kwh)
