"""Prepaid control: decide the relay, and plan the shadow write and the command only on change.

The meter's control state is its ``MeterControlState`` in the gateway's state item
(data/control_state.py). ``Controller.plan`` is pure with respect to the outside
world: it answers the new state and the effects (record the command, write the
shadow, tell the tenant) that the caller performs once it has stored that state
(pipeline/effects.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..data.control_state import MeterControlState, PendingCommand, from_ms, ms
from ..data.relay_log import RelayLog
from ..domain import Money, Reading
from ..domain.energy import ZERO_KWH, format_kwh, kwh
from .alerts import Alert, Notifier
from .context import BusContext, MeterContext
from .effects import Effect, EffectRunner, Notify, RelayRecord, ShadowWrite

if TYPE_CHECKING:
    from ..domain import FriendlyHours, PowerDecision
    from .shadows import ShadowWriter

__all__ = [
    "ControlOutcome",
    "ControlPlan",
    "Controller",
    "desired_of",
    "from_ms",
    "ms",
    "new_command_id",
    "schedule_tag",
]


@dataclass(frozen=True)
class ControlOutcome:
    changed: bool  # the shadow is to be written
    command_id: str | None  # a new relay command is issued
    decision: PowerDecision


@dataclass(frozen=True)
class ControlPlan:
    state: MeterControlState
    outcome: ControlOutcome
    effects: tuple[Effect, ...] = ()


def new_command_id(at: datetime) -> str:
    return f"c{ms(at)}-{secrets.token_hex(3)}"


@functools.lru_cache(maxsize=256)
def schedule_tag(friendly: FriendlyHours) -> str:
    canonical = json.dumps(friendly.to_shadow(), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def desired_of(state: MeterControlState, friendly: FriendlyHours) -> dict[str, Any]:
    cutoff = None
    if state.cutoff_kwh is not None:
        cutoff = {"kwh": format_kwh(state.cutoff_kwh), "friendly": friendly.to_shadow()}
    until = None
    if state.reason == "manual_on" and state.manual_until is not None:
        # The gateway's clock (unix seconds): from then on it enforces the cutoff itself.
        until = int(state.manual_until.timestamp())
    # A shadow update merges: null removes a key the previous state had (cutoff, until).
    return {
        "power": state.power,
        "reason": state.reason,
        "cmd": state.command_id,
        "cutoff": cutoff,
        "until": until,
    }


class Controller:
    def __init__(self, shadows: ShadowWriter, relay_log: RelayLog, notifier: Notifier) -> None:
        self._effects = EffectRunner(shadows, relay_log, notifier)

    def perform(self, effects: Iterable[Effect]) -> None:
        """Carry out planned effects: only after the state that planned them is stored."""
        self._effects.perform(effects)

    def decide(
        self, bus: BusContext, meter_ctx: MeterContext, state: MeterControlState, now: datetime
    ) -> PowerDecision:
        # With the tariff models: imported by the first decision, not by ingest's import.
        from ..domain.prepaid import PowerDecision, decide_power
        from .charging import tariff_position

        if state.manual_expired(now):
            state = state.automatic()
        manual = state.manual
        tariff = meter_ctx.tariff
        if meter_ctx.unit is None or tariff is None:
            if manual:
                until = state.manual_until if manual == "on" else None
                return PowerDecision(manual, f"manual_{manual}", None, until)
            return PowerDecision("off", "vacant", None)
        currency = tariff.currency
        cursor_at = state.settled_at if meter_ctx.prepaid else None
        at = cursor_at or now
        latest = Reading(at, state.settled_kwh if cursor_at else ZERO_KWH)
        balance = state.balance_minor if cursor_at else 0
        return decide_power(
            balance=Money(balance, currency),
            allowance=bus.allowance(currency),
            position=tariff_position(
                meter_ctx.timeline or tariff,
                bus.tz,
                at,
                state.tariff_position,
                cycle=meter_ctx.cycle,
                move_in=_move_in(meter_ctx),
            ),
            latest=latest,
            friendly=bus.friendly(),
            never_disconnect=bool(meter_ctx.tenancy and meter_ctx.tenancy.never_disconnect),
            manual=manual,
            now=now,
            postpaid=meter_ctx.unit.billing_mode == "postpaid",
            vacant=meter_ctx.tenancy is None,
            manual_until=state.manual_until,
        )

    def plan(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        state: MeterControlState,
        now: datetime,
        *,
        actor: str = "policy",
        note: str | None = None,
        announce: bool = True,
    ) -> ControlPlan:
        """Decide; if power, reason, cutoff or schedule changed, plan the shadow write
        (and a command when power or reason changed)."""
        if state.manual_expired(now):
            # "On until" has ended: automatic again, and the record says so.
            state = state.automatic()
            actor, note = "policy", "manual on ended"
        decision = self.decide(bus, meter_ctx, state, now)
        cutoff = None if decision.cutoff_kwh is None else kwh(decision.cutoff_kwh)
        friendly = bus.friendly()
        # The schedule only matters to the gateway alongside a cutoff.
        tag = None if cutoff is None else schedule_tag(friendly)
        same_command = state.power == decision.power and state.reason == decision.reason
        unchanged = state.cutoff_kwh == cutoff and state.schedule_tag == tag
        if same_command and unchanged and state.has_desired:
            return ControlPlan(state, ControlOutcome(False, None, decision))
        meter_id = meter_ctx.meter.meter_id
        effects: list[Effect] = []
        command_id = None
        new = state
        if not same_command or not state.has_desired:
            command_id = new_command_id(now)
            effects.append(
                RelayRecord(
                    bus.company_id,
                    meter_id,
                    command_id,
                    decision.power,
                    decision.reason,
                    actor,
                    note,
                    now,
                    gateway_id=bus.gateway.gateway_id,
                )
            )
            new = replace(
                new, command_id=command_id, pending=PendingCommand(command_id, now, now, 1)
            )
        new = replace(
            new,
            power=decision.power,
            reason=decision.reason,
            cutoff_kwh=cutoff,
            schedule_tag=tag,
        )
        effects.append(
            ShadowWrite(str(bus.gateway.thing_name), meter_id, desired_of(new, friendly))
        )
        if announce and command_id and state.power and state.power != decision.power:
            effects.append(Notify(_announcement(bus, meter_ctx, decision, now)))
        return ControlPlan(new, ControlOutcome(True, command_id, decision), tuple(effects))


def _announcement(
    bus: BusContext, meter_ctx: MeterContext, decision: PowerDecision, now: datetime
) -> Alert:
    unit_id = meter_ctx.unit.unit_id if meter_ctx.unit else meter_ctx.meter.meter_id
    return Alert(
        company_id=bus.company_id,
        topic="disconnected" if decision.power == "off" else "restored",
        subject_ref=f"unit:{unit_id}",
        at=now,
        audience="tenant",
        tenant_sub=meter_ctx.tenancy.tenant_sub if meter_ctx.tenancy else None,
        payload={"reason": decision.reason},
    )


def _move_in(meter_ctx: MeterContext) -> date | None:
    tenancy = meter_ctx.tenancy
    return date.fromisoformat(tenancy.starts_on) if tenancy else None
