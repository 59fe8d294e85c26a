"""Relay confirmation (shadow ``documents``) and the retry sweep for silent relays."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError, StaleStateError
from ..data.models import Unit
from ..data.telemetry_store import TelemetryStore
from .alerts import Alert, Notifier
from .context import BusDirectory
from .control import MeterState, desired_of, from_ms, ms, new_command_id
from .dead_letters import DeadLetters
from .errors import InvalidShadowEventError
from .relay_log import RelayLog
from .shadows import ShadowWriter, meter_of_shadow

LOG = logging.getLogger(__name__)
CONFIRM_TIMEOUT = timedelta(seconds=90)
MAX_TRIES = 3
MAX_STATE_ATTEMPTS = 4


@dataclass(frozen=True)
class Confirmation:
    status: str  # confirmed | failed | local_cutoff | ignored | dead_letter
    command_id: str | None = None


class RelayConfirmations:
    def __init__(
        self,
        catalogue: Catalogue,
        buses: BusDirectory,
        telemetry: TelemetryStore,
        relay_log: RelayLog,
        shadows: ShadowWriter,
        notifier: Notifier,
        dead_letters: DeadLetters,
    ) -> None:
        self._catalogue = catalogue
        self._buses = buses
        self._telemetry = telemetry
        self._relay_log = relay_log
        self._shadows = shadows
        self._notifier = notifier
        self._dead_letters = dead_letters

    def handle(self, event: Any) -> Confirmation:
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
        ctx = bus.meters.get(meter_id)
        if ctx is None:
            self._dead_letters.send(
                f"meter {meter_id} is not on gateway {bus.gateway.gateway_id}",
                "relay_confirmation",
                event,
            )
            return Confirmation("dead_letter")
        now = _event_time(event)
        for _ in range(MAX_STATE_ATTEMPTS):
            state = self._telemetry.get_state(bus.company_id, bus.gateway.gateway_id)
            mstate: MeterState = dict((state.meters or {}).get(meter_id, {}))
            result = self._apply(bus.company_id, meter_id, ctx.unit, mstate, reported, now)
            if result.status == "ignored":
                return result
            meters = dict(state.meters or {})
            meters[meter_id] = mstate
            state.meters = meters
            try:
                self._telemetry.save_state(state, now)
            except StaleStateError:
                continue
            return result
        return Confirmation("ignored")

    def _apply(
        self,
        company_id: str,
        meter_id: str,
        unit: Unit | None,
        mstate: MeterState,
        reported: dict[str, Any],
        now: datetime,
    ) -> Confirmation:
        if reported.get("source") == "local_cutoff" and mstate.get("local") != reported.get("at"):
            # The gateway cut by itself while offline: record it as a command of its own.
            command_id = new_command_id(now)
            self._relay_log.record(
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
            mstate["local"] = reported.get("at")
            return Confirmation("local_cutoff", command_id)
        pending = mstate.get("pend")
        if not pending or reported.get("cmd") != pending.get("cmd"):
            return Confirmation("ignored")
        ok = reported.get("power") == mstate.get("pw") and not reported.get("error")
        outcome = "confirmed" if ok else "failed"
        self._relay_log.resolve(
            company_id,
            meter_id,
            pending["cmd"],
            from_ms(int(pending["iss"])),
            outcome,
            now,
            attempts=int(pending.get("tries", 1)),
        )
        mstate.pop("pend", None)
        if ok and unit is not None:
            unit.update(
                actions=[
                    Unit.power.set(str(mstate["pw"])),
                    Unit.power_reason.set(str(mstate["rs"])),
                ]
            )
        if not ok:
            self._alert_unconfirmed(company_id, meter_id, pending, now, reported.get("error"))
        return Confirmation(outcome, pending["cmd"])

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """Retry commands not confirmed in time; after MAX_TRIES, alert and give up."""
        now = now or datetime.now(UTC)
        counts = {"retried": 0, "unconfirmed": 0}
        for company in self._catalogue.list_companies():
            self.sweep_company(company.company_id, now, counts)
        return counts

    def sweep_company(
        self, company_id: str, now: datetime, counts: dict[str, int] | None = None
    ) -> dict[str, int]:
        counts = counts if counts is not None else {"retried": 0, "unconfirmed": 0}
        for gateway in self._catalogue.list_gateways(company_id):
            self._sweep_gateway(company_id, gateway.gateway_id, now, counts)
        return counts

    def _sweep_gateway(
        self, company_id: str, gateway_id: str, now: datetime, counts: dict[str, int]
    ) -> None:
        state = self._telemetry.get_state(company_id, gateway_id)
        overdue = {
            meter_id: m
            for meter_id, m in (state.meters or {}).items()
            if m.get("pend") and now - from_ms(int(m["pend"]["at"])) >= CONFIRM_TIMEOUT
        }
        if not overdue:
            return
        bus = self._buses.load(company_id, gateway_id)
        meters = dict(state.meters or {})
        for meter_id, original in overdue.items():
            mstate = dict(original)
            pending = dict(mstate["pend"])
            if int(pending.get("tries", 1)) < MAX_TRIES:
                self._shadows.write_desired(
                    str(bus.gateway.thing_name), meter_id, desired_of(mstate, bus.friendly())
                )
                pending.update(tries=int(pending.get("tries", 1)) + 1, at=ms(now))
                mstate["pend"] = pending
                counts["retried"] += 1
            else:
                self._relay_log.resolve(
                    company_id,
                    meter_id,
                    pending["cmd"],
                    from_ms(int(pending["iss"])),
                    "unconfirmed",
                    now,
                    attempts=int(pending.get("tries", 1)),
                )
                mstate.pop("pend", None)
                self._alert_unconfirmed(company_id, meter_id, pending, now, None)
                counts["unconfirmed"] += 1
            meters[meter_id] = mstate
        state.meters = meters
        try:
            self._telemetry.save_state(state, now)
        except StaleStateError:
            LOG.info("gateway %s changed during the sweep; next sweep retries", gateway_id)

    def _alert_unconfirmed(
        self, company_id: str, meter_id: str, pending: dict[str, Any], now: datetime, error: Any
    ) -> None:
        self._notifier.notify(
            Alert(
                company_id,
                "relay_unconfirmed",
                f"meter:{meter_id}:{pending['cmd']}",
                now,
                "staff",
                None,
                {
                    "command": pending["cmd"],
                    "tries": pending.get("tries", 1),
                    "error": str(error) if error else "no confirmation",
                },
            )
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
