"""What a change of a bus's control state does outside it, planned first, performed once.

Every writer of the control state (ingest, top-up, manual power, settings roll-out,
relay confirmation, the sweeps) reads the state item, plans the new state, and
writes it on condition that nobody else wrote it meanwhile; when somebody did, it
reads again and plans again. Shadow writes, relay-command records and messages
must not follow a plan that lost: the gateway would get a command the state does
not know, a person would be told twice. So a plan lists them as effects, and the
writer performs them once its write has won.

One kind of effect is different: the alerts of a settlement (low credit, a reading
going backwards). A settlement is its own transaction on the account, committed
before the state write; it stands even if that write loses, and the next attempt
may find nothing left to settle. ``SettlementAlerts`` keeps them across attempts
and sends each once, whether or not the state write wins in the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..data.bus_item import BusItems
from ..data.catalogue import Catalogue
from ..data.relay_log import RelayLog
from .alerts import Alert, Notifier
from .open_conditions import OpenCondition
from .shadows import ShadowWriter

if TYPE_CHECKING:
    from ..data.rows import UnitRow as Unit  # a bus context's unit (data/rows.py)

# A command not confirmed this long after it was sent is retried (confirmation.py); its
# record carries that deadline on the due index from the moment it is written.
CONFIRM_TIMEOUT = timedelta(seconds=90)


@dataclass(frozen=True)
class ShadowWrite:
    thing_name: str
    meter_id: str
    desired: Mapping[str, Any]


@dataclass(frozen=True)
class RelayRecord:
    company_id: str
    meter_id: str
    command_id: str
    power: str
    reason: str
    actor: str
    note: str | None
    at: datetime
    outcome: str = "pending"
    gateway_id: str | None = None  # a pending command waits on the due index under it


@dataclass(frozen=True)
class RelayResolve:
    company_id: str
    meter_id: str
    command_id: str
    issued_at: datetime
    outcome: str
    at: datetime
    attempts: int


@dataclass(frozen=True)
class Notify:
    alert: Alert


@dataclass(frozen=True)
class ClearCondition:
    """Telemetry cleared a condition a sweep marked on the bus item (open_conditions.py):
    its alert is resolved, then its mark goes."""

    company_id: str
    gateway_id: str
    condition: OpenCondition
    at: datetime


@dataclass(frozen=True)
class UnitPower:
    """The unit shows the relay state the gateway confirmed."""

    unit: Unit
    power: str
    reason: str


Effect = ShadowWrite | RelayRecord | RelayResolve | Notify | ClearCondition | UnitPower


class EffectRunner:
    def __init__(
        self,
        shadows: ShadowWriter,
        relay_log: RelayLog,
        notifier: Notifier,
        catalogue: Catalogue | None = None,
        bus_items: BusItems | None = None,
    ) -> None:
        self._shadows = shadows
        self._relay_log = relay_log
        self._notifier = notifier
        # stateless (the table is bound once per container): a default costs nothing
        self._catalogue = catalogue or Catalogue()
        self._bus_items = bus_items or BusItems()

    def perform(self, effects: Iterable[Effect]) -> None:
        """In order: a command is recorded before its shadow is written, so a fast
        confirmation finds it."""
        for effect in effects:
            self._perform(effect)

    def _perform(self, effect: Effect) -> None:
        match effect:
            case ShadowWrite(thing_name, meter_id, desired):
                self._shadows.write_desired(thing_name, meter_id, dict(desired))
            case RelayRecord(
                co, meter_id, command_id, power, reason, actor, note, at, outcome, gateway_id
            ):
                self._relay_log.record(
                    co,
                    meter_id,
                    command_id,
                    power,
                    reason,
                    actor,
                    note,
                    at,
                    outcome=outcome,
                    confirm_by=(gateway_id, at + CONFIRM_TIMEOUT) if gateway_id else None,
                )
            case RelayResolve(co, meter_id, command_id, issued_at, outcome, at, attempts):
                self._relay_log.resolve(
                    co, meter_id, command_id, issued_at, outcome, at, attempts=attempts
                )
            case Notify(alert):
                self._notifier.notify(alert)
            case ClearCondition(co, gateway_id, condition, at):
                # resolved first: a mark left by a crash here is cleared by the next message
                self._notifier.resolve(co, condition.topic, condition.subject_ref, at)
                self._bus_items.clear_open(co, gateway_id, [condition.mark])
            case UnitPower(unit, power, reason):
                self._catalogue.set_unit_power(str(unit.company_id), unit.unit_id, power, reason)


class SettlementAlerts:
    """Alerts of settlements already in the ledger, gathered over a writer's attempts.

    A retried attempt that replays the same settlement plans the same alerts (same
    topic, subject and event time): they are kept once."""

    def __init__(self) -> None:
        self._alerts: dict[tuple[str, str, datetime], Alert] = {}

    def add(self, alerts: Iterable[Alert]) -> None:
        for alert in alerts:
            self._alerts.setdefault((alert.topic, alert.subject_ref, alert.at), alert)

    def effects(self) -> tuple[Notify, ...]:
        return tuple(Notify(alert) for alert in self._alerts.values())
