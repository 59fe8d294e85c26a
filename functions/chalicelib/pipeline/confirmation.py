"""Relay confirmation (shadow ``documents``) and the retry sweep for silent relays.

The sweep reads only the commands whose confirmation deadline has passed (the due index,
``data/deadlines.py``): its work per run is the number of overdue commands, not the
number of gateways. Both change the bus's control state (the pending command) and act outside it
(resolve the command record, rewrite the shadow, tell staff): they act only once
the changed state is stored, as every writer of that state does (contention.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ..data import keys
from ..data.catalogue import Catalogue
from ..data.control_state import (
    BusControlState,
    MeterControlState,
    PendingCommand,
    from_ms,
    local_cutoff_stamp,
)
from ..data.deadlines import RELAY_DEADLINE, Deadlines, Due
from ..data.errors import NotFoundError, StaleStateError
from ..data.relay_log import RelayLog
from ..data.telemetry_store import TelemetryStore
from ..observability import logger
from ..observability import metrics as default_metrics
from .alerts import Alert, Notifier
from .contention import Planned, update_bus_state
from .context import BusDirectory
from .control import desired_of, new_command_id
from .dead_letters import DeadLetters
from .effects import (
    CONFIRM_TIMEOUT,
    Effect,
    EffectRunner,
    Notify,
    RelayRecord,
    RelayResolve,
    ShadowWrite,
    UnitPower,
)
from .errors import ControlContentionError, InvalidShadowEventError
from .shadows import ShadowWriter, meter_of_shadow

if TYPE_CHECKING:
    from ..data.rows import UnitRow

__all__ = ["CONFIRM_TIMEOUT", "Confirmation", "RelayConfirmations"]

RELAY_LATENCY_METRIC = "RelayConfirmLatency"  # ms, EMF (docs/runbook.md)
MAX_TRIES = 3
MAX_STATE_ATTEMPTS = 4


@dataclass(frozen=True)
class Confirmation:
    status: str  # confirmed | failed | local_cutoff | ignored | dead_letter
    command_id: str | None = None
    latency_ms: int | None = None  # command issued -> relay reported back (confirmed only)


class RelayConfirmations:
    """Relay confirmations as they come, and the sweep that retries commands not
    confirmed in time (after MAX_TRIES: an alert, and it gives up)."""

    # due: deadlines read; stale: deadlines of commands no longer pending (dropped)
    COUNTERS = ("due", "gateways", "retried", "unconfirmed", "stale")

    def __init__(
        self,
        catalogue: Catalogue,
        buses: BusDirectory,
        telemetry: TelemetryStore,
        relay_log: RelayLog,
        shadows: ShadowWriter,
        notifier: Notifier,
        dead_letters: DeadLetters,
        metrics: Metrics | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        self._metrics = metrics or default_metrics
        self._deadlines = deadlines or Deadlines()
        self._relay_log = relay_log
        self._catalogue = catalogue
        self._buses = buses
        self._telemetry = telemetry
        self._effects = EffectRunner(shadows, relay_log, notifier, catalogue)
        self._dead_letters = dead_letters

    def handle(self, event: Any) -> Confirmation:
        answer = self._confirm(event)
        if answer.latency_ms is not None:
            # cloud decision to relay confirmed: the figure a landlord feels
            self._metrics.add_metric(
                name=RELAY_LATENCY_METRIC, unit=MetricUnit.Milliseconds, value=answer.latency_ms
            )
        return answer

    def _confirm(self, event: Any) -> Confirmation:
        try:
            thing, meter_id, reported = _parse(event)
            if reported is None:
                # The cloud's own desired write before the device reported anything:
                # a normal documents event with nothing to confirm.
                return Confirmation("ignored")
            bus = self._buses.by_thing(thing)
        except (InvalidShadowEventError, NotFoundError) as exc:
            self._dead_letters.send(str(exc), "relay_confirmation", event)
            return Confirmation("dead_letter")
        meter_ctx = bus.meters.get(meter_id)
        if meter_ctx is None:
            self._dead_letters.send(
                f"meter {meter_id} is not on gateway {bus.gateway.gateway_id}",
                "relay_confirmation",
                event,
            )
            return Confirmation("dead_letter")
        now = _event_time(event)

        def plan(read: BusControlState) -> Planned[Confirmation]:
            mstate = read.meter(meter_id)
            answer, new, effects = self._plan(
                bus.company_id, meter_id, meter_ctx.unit, mstate, reported, now
            )
            if answer.status == "ignored":
                return Planned(None, answer)
            return Planned(read.with_meters({meter_id: new}), answer, effects)

        try:
            return update_bus_state(
                self._telemetry,
                bus.company_id,
                bus.gateway.gateway_id,
                now,
                plan,
                MAX_STATE_ATTEMPTS,
                self._effects.perform,
            )
        except ControlContentionError:
            # The gateway reports its state again on its next change or reconnect, and an
            # unconfirmed command is retried by the sweep.
            logger.warning(
                "gateway %s: confirmation of %s dropped, state kept changing", thing, meter_id
            )
            return Confirmation("ignored")

    def _plan(
        self,
        company_id: str,
        meter_id: str,
        unit: UnitRow | None,
        mstate: MeterControlState,
        reported: dict[str, Any],
        now: datetime,
    ) -> tuple[Confirmation, MeterControlState, tuple[Effect, ...]]:
        reported_at = local_cutoff_stamp(reported.get("at"))
        if reported.get("source") == "local_cutoff" and mstate.local_cutoff_at != reported_at:
            # The gateway cut by itself while offline: record it as a command of its own.
            command_id = new_command_id(now)
            record = RelayRecord(
                company_id,
                meter_id,
                command_id,
                str(reported.get("power")),
                str(reported.get("reason") or "credit_exhausted"),
                "gateway",
                f"offline cutoff at {reported.get('kwh')} kWh",
                now,
                outcome="confirmed",
            )
            new = replace(mstate, local_cutoff_at=reported_at)
            return Confirmation("local_cutoff", command_id), new, (record,)
        pending = mstate.pending
        if pending is None or reported.get("cmd") != pending.command_id:
            return Confirmation("ignored"), mstate, ()
        ok = reported.get("power") == mstate.power and not reported.get("error")
        outcome = "confirmed" if ok else "failed"
        effects: list[Effect] = [
            RelayResolve(
                company_id,
                meter_id,
                pending.command_id,
                pending.issued_at,
                outcome,
                now,
                pending.tries,
            )
        ]
        if ok and unit is not None:
            effects.append(UnitPower(unit, str(mstate.power), str(mstate.reason)))
        if not ok:
            effects.append(
                Notify(_unconfirmed(company_id, meter_id, pending, now, reported.get("error")))
            )
        new = replace(mstate, pending=None)
        latency_ms = int((now - pending.issued_at).total_seconds() * 1000) if ok else None
        return Confirmation(outcome, pending.command_id, latency_ms), new, tuple(effects)

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """Retry or give up the commands whose deadline passed, gateway by gateway."""
        now = now or datetime.now(UTC)
        counts = dict.fromkeys(self.COUNTERS, 0)
        by_gateway: dict[tuple[str, str], list[Due]] = {}
        for item in self._deadlines.due(RELAY_DEADLINE, now):
            by_gateway.setdefault((item.company_id, item.gateway_id), []).append(item)
            counts["due"] += 1
        for (company_id, gateway_id), items in by_gateway.items():
            counts["gateways"] += 1
            self._sweep_gateway(company_id, gateway_id, items, now, counts)
        return counts

    def _sweep_gateway(
        self,
        company_id: str,
        gateway_id: str,
        due: list[Due],
        now: datetime,
        counts: dict[str, int],
    ) -> None:
        state = self._telemetry.get_state(company_id, gateway_id)
        overdue: dict[str, MeterControlState] = {}
        for item in due:
            meter_id = str(item.meter_id)
            mstate = state.meters.get(meter_id)
            pending = mstate.pending if mstate else None
            if pending is None or item.sk != keys.relay_command_sk(
                pending.issued_at, pending.command_id
            ):
                # confirmed, or replaced by a newer command: nothing waits for it
                self._relay_log.drop_deadline(item.pk, item.sk)
                counts["stale"] += 1
            elif mstate is not None and now - pending.sent_at >= CONFIRM_TIMEOUT:
                overdue[meter_id] = mstate
            else:
                # retried by a sweep that stopped before moving the deadline
                self._extend(company_id, gateway_id, meter_id, pending, pending.sent_at)
        if not overdue:
            return
        bus = self._buses.load(company_id, gateway_id)
        meters: dict[str, MeterControlState] = {}
        effects: list[Effect] = []
        retried: list[tuple[str, PendingCommand]] = []
        unconfirmed = 0
        for meter_id, mstate in overdue.items():
            pending = mstate.pending
            assert pending is not None
            if pending.tries < MAX_TRIES:
                effects.append(
                    ShadowWrite(
                        str(bus.gateway.thing_name), meter_id, desired_of(mstate, bus.friendly())
                    )
                )
                pending = replace(pending, tries=pending.tries + 1, sent_at=now)
                meters[meter_id] = replace(mstate, pending=pending)
                retried.append((meter_id, pending))
            else:
                effects.append(
                    RelayResolve(
                        company_id,
                        meter_id,
                        pending.command_id,
                        pending.issued_at,
                        "unconfirmed",
                        now,
                        pending.tries,
                    )
                )
                effects.append(Notify(_unconfirmed(company_id, meter_id, pending, now, None)))
                meters[meter_id] = replace(mstate, pending=None)
                unconfirmed += 1
        try:
            self._telemetry.save_state(state.with_meters(meters), now)
        except StaleStateError:
            # Nothing was done: the deadlines stay where they were, the next sweep (a minute
            # later) reads them again and sees the same facts.
            logger.info("gateway %s changed during the sweep; next sweep retries", gateway_id)
            return
        self._effects.perform(effects)
        for meter_id, pending in retried:
            self._extend(company_id, gateway_id, meter_id, pending, now)
        counts["retried"] += len(retried)
        counts["unconfirmed"] += unconfirmed

    def _extend(
        self,
        company_id: str,
        gateway_id: str,
        meter_id: str,
        pending: PendingCommand,
        sent_at: datetime,
    ) -> None:
        self._relay_log.extend_deadline(
            company_id,
            gateway_id,
            meter_id,
            pending.command_id,
            pending.issued_at,
            sent_at + CONFIRM_TIMEOUT,
        )


def _unconfirmed(
    company_id: str, meter_id: str, pending: PendingCommand, now: datetime, error: Any
) -> Alert:
    return Alert(
        company_id,
        "relay_unconfirmed",
        f"meter:{meter_id}:{pending.command_id}",
        now,
        "staff",
        None,
        {
            "command": pending.command_id,
            "tries": pending.tries,
            "error": str(error) if error else "no confirmation",
        },
    )


def _parse(event: Any) -> tuple[str, str, dict[str, Any] | None]:
    if not isinstance(event, dict):
        raise InvalidShadowEventError("event is not an object")
    thing, name = event.get("thing_name"), event.get("shadow_name")
    meter_id = meter_of_shadow(name) if isinstance(name, str) else None
    if not isinstance(thing, str) or not meter_id:
        raise InvalidShadowEventError("event lacks thing_name or a meter-<id> shadow_name")
    current = event.get("current")
    state = current.get("state") if isinstance(current, dict) else None
    reported = state.get("reported") if isinstance(state, dict) else None
    if not isinstance(current, dict) or not isinstance(state, dict):
        raise InvalidShadowEventError("documents event has no current.state")
    if reported is None:
        return thing, meter_id, None
    if not isinstance(reported, dict):
        raise InvalidShadowEventError("current.state.reported is not an object")
    return thing, meter_id, reported


def _event_time(event: dict[str, Any]) -> datetime:
    received = event.get("received_at_ms")
    if isinstance(received, int):
        return from_ms(received)
    return datetime.now(UTC)
