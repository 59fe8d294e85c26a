"""Changing one gateway's control state: plan against what was read, commit, then act.

Ingest, top-ups, manual power changes, settings roll-outs and relay confirmations
all read the bus's state item, plan a new state and write it back on condition that
nobody else did. A plan that loses is thrown away with everything it planned, and a
new one is made from a fresh read; what it does outside the state (shadow writes,
relay-command records, messages: pipeline/effects.py) happens only after its write
won, once.

A writer that lost waits before its next attempt (``data/backoff.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ..data.backoff import backoff
from ..data.control_state import BusControlState, MeterControlState
from ..data.errors import StaleStateError
from ..data.telemetry_store import TelemetryStore
from .alerts import Alert
from .context import BusContext
from .effects import Effect, SettlementAlerts
from .errors import ControlContentionError

_T = TypeVar("_T")
Perform = Callable[[Iterable[Effect]], None]


@dataclass(frozen=True)
class Planned(Generic[_T]):
    """One attempt's plan: the state to write (None, or the state read: nothing to
    write), what the caller answers, the effects to perform once the state is stored,
    and the alerts of settlements the attempt made (in the ledger already, so sent
    even if no attempt's write wins)."""

    state: BusControlState | None
    answer: _T
    effects: tuple[Effect, ...] = ()
    settlement_alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class MeterChange(Generic[_T]):
    """A plan for one meter's entry (``update_meter_state``)."""

    state: MeterControlState
    answer: _T
    effects: tuple[Effect, ...] = ()
    settlement_alerts: tuple[Alert, ...] = ()


def update_bus_state(
    telemetry: TelemetryStore,
    company_id: str,
    gateway_id: str,
    now: datetime,
    plan: Callable[[BusControlState], Planned[_T]],
    attempts: int,
    perform: Perform,
    first_read: BusControlState | None = None,
    silence_by: datetime | None = None,
) -> _T:
    """Plan against the state read, write it on condition nobody else did, then perform
    the plan's effects; re-read and plan again when someone did. Raises
    ControlContentionError after ``attempts`` lost writes, having performed only the
    alerts of settlements already made. ``first_read``: the state the caller read
    already, consistently (ingest's bus item), for the first attempt. ``silence_by``:
    the bus's silence deadline, moved by the state write if there is one (ingest)."""
    settled = SettlementAlerts()
    for attempt in range(attempts):
        if attempt:
            backoff(attempt - 1)
        if attempt == 0 and first_read is not None:
            read = first_read
        else:
            read = telemetry.get_state(company_id, gateway_id)
        planned = plan(read)
        settled.add(planned.settlement_alerts)
        if planned.state is not None and planned.state != read:
            try:
                telemetry.save_state(planned.state, now, silence_by)
            except StaleStateError:
                continue
        perform((*settled.effects(), *planned.effects))
        return planned.answer
    perform(settled.effects())
    raise ControlContentionError(f"gateway state of {gateway_id} kept changing")


def update_meter_state(
    telemetry: TelemetryStore,
    bus: BusContext,
    meter_id: str,
    now: datetime,
    change: Callable[[MeterControlState], MeterChange[_T] | None],
    attempts: int,
    perform: Perform,
) -> _T | None:
    """``update_bus_state`` for one meter's entry. ``change`` answers its plan, or None
    when there is nothing to write (and it settled nothing)."""

    def plan(read: BusControlState) -> Planned[_T | None]:
        planned = change(read.meter(meter_id))
        if planned is None:
            return Planned(None, None)
        return Planned(
            read.with_meters({meter_id: planned.state}),
            planned.answer,
            planned.effects,
            planned.settlement_alerts,
        )

    return update_bus_state(
        telemetry, bus.company_id, bus.gateway.gateway_id, now, plan, attempts, perform
    )
