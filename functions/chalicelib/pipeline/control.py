"""Prepaid control: decide the relay, write the shadow only on change, record the command.

``meter_state`` is the meter's entry in the gateway's control state
(``GatewayState.meters``). Keys are short because the item is read every cycle:

- ``acc``/``bal``/``sk``/``sa``/``use``: account id, balance snapshot (minor),
  settled kWh, settled-at (unix ms) and tariff position (a cache of the account)
- ``pw``/``rs``/``cmd``/``cut``: the desired state last written to the shadow
- ``fh``: a digest of the friendly-hours schedule sent with that cutoff, so an edited
  calendar reaches the shadow once even when power and cutoff stay the same
- ``man``: a manual override (``on``/``off``), absent if none
- ``pend``: the command awaiting confirmation ``{cmd, at, iss, tries}``
- ``fl``: active alert flags (``rev``, ``off``), so an alert fires once per crossing
- ``x``: set when the account was closed by a move-out (a stale catalogue still names it):
  nothing more is settled into it
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..domain import FriendlyHours, Money, PowerDecision, Reading, decide_power
from ..domain.energy import ZERO_KWH, format_kwh, kwh
from .alerts import Alert, Notifier
from .charging import tariff_position
from .context import BusContext, MeterContext
from .relay_log import RelayLog
from .shadows import ShadowWriter

MeterState = dict[str, Any]


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass(frozen=True)
class ControlOutcome:
    changed: bool  # the shadow was written
    command_id: str | None  # a new relay command was issued
    decision: PowerDecision


def new_command_id(at: datetime) -> str:
    return f"c{ms(at)}-{secrets.token_hex(3)}"


@functools.lru_cache(maxsize=256)
def schedule_tag(friendly: FriendlyHours) -> str:
    canonical = json.dumps(friendly.to_shadow(), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def desired_of(state: MeterState, friendly: FriendlyHours) -> dict[str, Any]:
    cutoff = None
    if state.get("cut") is not None:
        cutoff = {"kwh": state["cut"], "friendly": friendly.to_shadow()}
    return {"power": state["pw"], "reason": state["rs"], "cmd": state["cmd"], "cutoff": cutoff}


class Controller:
    def __init__(self, shadows: ShadowWriter, relay_log: RelayLog, notifier: Notifier) -> None:
        self._shadows = shadows
        self._relay_log = relay_log
        self._notifier = notifier

    def decide(
        self, bus: BusContext, ctx: MeterContext, state: MeterState, now: datetime
    ) -> PowerDecision:
        manual = state.get("man")
        tariff = ctx.tariff
        if ctx.unit is None or tariff is None:
            if manual:
                return PowerDecision(manual, f"manual_{manual}", None)
            return PowerDecision("off", "vacant", None)
        currency = tariff.currency
        prepaid_with_cursor = ctx.prepaid and "sa" in state
        at = from_ms(int(state["sa"])) if prepaid_with_cursor else now
        latest = Reading(at, kwh(state["sk"]) if prepaid_with_cursor else ZERO_KWH)
        balance = int(state.get("bal", 0)) if prepaid_with_cursor else 0
        return decide_power(
            balance=Money(balance, currency),
            allowance=bus.allowance(currency),
            position=tariff_position(tariff, bus.tz, at, state.get("use")),
            latest=latest,
            friendly=bus.friendly(),
            never_disconnect=bool(ctx.tenancy and ctx.tenancy.never_disconnect),
            manual=manual,
            now=now,
            postpaid=ctx.unit.billing_mode == "postpaid",
            vacant=ctx.tenancy is None,
        )

    def apply(
        self,
        bus: BusContext,
        ctx: MeterContext,
        state: MeterState,
        now: datetime,
        *,
        actor: str = "policy",
        note: str | None = None,
        announce: bool = True,
    ) -> ControlOutcome:
        """Decide; if power, reason or cutoff changed, write the shadow (and record
        a command when power or reason changed). ``state`` is updated in place."""
        decision = self.decide(bus, ctx, state, now)
        cutoff = None if decision.cutoff_kwh is None else format_kwh(decision.cutoff_kwh)
        friendly = bus.friendly()
        # The schedule only matters to the gateway alongside a cutoff.
        tag = None if cutoff is None else schedule_tag(friendly)
        same_command = state.get("pw") == decision.power and state.get("rs") == decision.reason
        unchanged = state.get("cut") == cutoff and state.get("fh") == tag
        if same_command and unchanged and "cmd" in state:
            return ControlOutcome(False, None, decision)
        meter_id = ctx.meter.meter_id
        command_id = None
        previous_power = state.get("pw")
        if not same_command or "cmd" not in state:
            command_id = new_command_id(now)
            self._relay_log.record(
                bus.company_id,
                meter_id,
                command_id,
                decision.power,
                decision.reason,
                actor,
                note,
                now,
            )
            state["cmd"] = command_id
            state["pend"] = {"cmd": command_id, "at": ms(now), "iss": ms(now), "tries": 1}
        state.update(pw=decision.power, rs=decision.reason, cut=cutoff, fh=tag)
        self._shadows.write_desired(
            str(bus.gateway.thing_name), meter_id, desired_of(state, friendly)
        )
        if announce and command_id and previous_power and previous_power != decision.power:
            self._announce(bus, ctx, decision, now)
        return ControlOutcome(True, command_id, decision)

    def _announce(
        self, bus: BusContext, ctx: MeterContext, decision: PowerDecision, now: datetime
    ) -> None:
        unit_id = ctx.unit.unit_id if ctx.unit else ctx.meter.meter_id
        self._notifier.notify(
            Alert(
                company_id=bus.company_id,
                topic="disconnected" if decision.power == "off" else "restored",
                subject_ref=f"unit:{unit_id}",
                at=now,
                audience="tenant",
                tenant_sub=ctx.tenancy.tenant_sub if ctx.tenancy else None,
                payload={"reason": decision.reason},
            )
        )
