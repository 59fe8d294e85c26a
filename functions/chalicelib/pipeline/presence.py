"""Gateway presence (connect/disconnect lifecycle events) and the offline sweep.

Presence comes from AWS IoT's lifecycle events and from the telemetry itself, never from
a walk of the fleet: a disconnection alerts at once; a connection waits for telemetry by
``GATEWAY_SILENT_AFTER`` (a deadline on the due index, ``data/deadlines.py``); a meter
that ingest finds silent (``meter_presence.py``) waits on the same index for staff to be
told. The sweep reads only those deadlines that fell due, so its work per run is what
changed, not the fleet (docs/pipeline.md, "Presence and deadlines").

Every MQTT client's connects and disconnects arrive here, not only gateways': a
monitoring tool, a developer's mosquitto_sub. Only a client id shaped like the
product's thing names (senders.py) is looked up; any other is plainly not a gateway
and is counted and dropped, so the dead-letter queue keeps only what needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ..data.bus_item import BusItems
from ..data.catalogue import Catalogue
from ..data.control_state import from_ms
from ..data.deadlines import METER_DEADLINE, SILENCE_DEADLINE, Deadlines, Due
from ..data.errors import NotFoundError
from ..data.telemetry_store import TelemetryStore
from ..observability import logger
from ..observability import metrics as default_metrics
from .alerts import Alert, Notifier
from .dead_letters import DeadLetters
from .open_conditions import GATEWAY_SILENT, METER_SILENT, OpenCondition
from .senders import is_extra_connection, looks_like_thing_name, thing_of_client

GATEWAY_SILENT_AFTER = timedelta(minutes=10)
NOT_A_GATEWAY_METRIC = "PresenceNotAGateway"


@dataclass(frozen=True)
class PresenceResult:
    status: str  # online | offline | stale | dead_letter | not_a_gateway | extra_connection


class Presence:
    # due: deadlines read; spoke: connected gateways whose telemetry came in time
    COUNTERS = ("due", "gateways_silent", "meters_silent", "spoke")

    def __init__(
        self,
        catalogue: Catalogue,
        telemetry: TelemetryStore,
        notifier: Notifier,
        dead_letters: DeadLetters,
        metrics: Metrics | None = None,
        deadlines: Deadlines | None = None,
        bus_items: BusItems | None = None,
    ) -> None:
        self._deadlines = deadlines or Deadlines()
        self._bus_items = bus_items or BusItems()  # stateless, like the catalogue
        self._catalogue = catalogue
        self._telemetry = telemetry
        self._notifier = notifier
        self._dead_letters = dead_letters
        self._metrics = metrics or default_metrics

    def handle(self, event: Any) -> PresenceResult:
        if not isinstance(event, dict):
            self._dead_letters.send("event is not an object", "gateway_presence", event)
            return PresenceResult("dead_letter")
        client_id, kind, stamp = (
            event.get("clientId"),
            event.get("eventType"),
            event.get("timestamp"),
        )
        if kind not in {"connected", "disconnected"} or not isinstance(stamp, int):
            self._dead_letters.send("not a presence event", "gateway_presence", event)
            return PresenceResult("dead_letter")
        thing = thing_of_client(client_id) if isinstance(client_id, str) else None
        if thing is None or not looks_like_thing_name(thing):
            logger.debug("presence of client %r ignored: not a gateway's client id", client_id)
            self._metrics.add_metric(name=NOT_A_GATEWAY_METRIC, unit=MetricUnit.Count, value=1)
            return PresenceResult("not_a_gateway")
        try:
            gateway = self._catalogue.find_gateway_by_thing(thing)
        except NotFoundError:
            self._dead_letters.send(f"unknown client {client_id}", "gateway_presence", event)
            return PresenceResult("dead_letter")
        at = from_ms(stamp)
        online = kind == "connected"
        if not online and is_extra_connection(str(client_id)):
            # AWS sends no lifecycle events for client ids holding "#" today; should one
            # come, a further connection closing (the nucleus closes one when its
            # subscriptions shrink) does not mean the gateway is gone: its first one does.
            return PresenceResult("extra_connection")
        telemetry_by = at + GATEWAY_SILENT_AFTER if online else None
        if not self._catalogue.mark_gateway_seen(gateway, online, at, telemetry_by):
            return PresenceResult("stale")
        if online:
            # the condition cleared: the sweep's silence or this gateway's last disconnect
            self._notifier.resolve(
                gateway.company_id, "gateway_offline", f"gateway:{gateway.gateway_id}", at
            )
        else:
            self._notifier.notify(
                Alert(
                    gateway.company_id,
                    "gateway_offline",
                    f"gateway:{gateway.gateway_id}",
                    at,
                    "staff",
                    None,
                    {"why": str(event.get("disconnectReason") or "disconnected")},
                )
            )
        return PresenceResult("online" if online else "offline")

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(UTC)
        counts = dict.fromkeys(self.COUNTERS, 0)
        for due in self._deadlines.due(SILENCE_DEADLINE, now):
            counts["due"] += 1
            self._gateway_due(due, counts)
        for due in self._deadlines.due(METER_DEADLINE, now):
            counts["due"] += 1
            self._meter_due(due, counts)
        return counts

    def _gateway_due(self, due: Due, counts: dict[str, int]) -> None:
        """A gateway that had to send telemetry by now: silent since the deadline was set
        (its connection, or the writer that last saw its telemetry), or it spoke."""
        company_id, gateway_id = due.company_id, due.gateway_id
        since = from_ms(due.due_at_ms) - GATEWAY_SILENT_AFTER
        latest = self._telemetry.latest_cycles(company_id, gateway_id, limit=1)
        last_received = from_ms(int(latest[0].received_at_ms)) if latest else None
        if last_received is not None and last_received > since:
            counts["spoke"] += 1
        else:
            details: dict[str, Any] = {"why": "no telemetry", "since": since.isoformat()}
            if latest:
                details["last_cycle"] = from_ms(int(latest[0].cycle_at_ms)).isoformat()
            # the event's time is the deadline's start: a repeat is the same notification
            self._raise(
                Alert(
                    company_id,
                    GATEWAY_SILENT,
                    f"gateway:{gateway_id}",
                    since,
                    "staff",
                    None,
                    details,
                ),
                gateway_id,
            )
            counts["gateways_silent"] += 1
        self._deadlines.end(due)

    def _meter_due(self, due: Due, counts: dict[str, int]) -> None:
        """A meter ingest found silent (OFFLINE_AFTER failed cycles in a row)."""
        meter_id = str(due.meter_id)
        try:
            meter = self._catalogue.get_meter(due.company_id, meter_id)
        except NotFoundError:
            return  # removed with its deadline
        if not meter.online and meter.presence_at is not None:
            self._raise(
                Alert(
                    due.company_id,
                    METER_SILENT,
                    f"meter:{meter_id}",
                    meter.presence_at,
                    "staff",
                    None,
                    {"gateway": meter.gateway_id, "error": meter.last_error or "no answer"},
                ),
                str(meter.gateway_id),
            )
            counts["meters_silent"] += 1
        self._catalogue.end_meter_wait(due.company_id, meter_id, meter.presence_at)

    def _raise(self, alert: Alert, gateway_id: str) -> None:
        """A condition only the bus's telemetry clears: alerted, then marked on the bus
        item for ingest to resolve (open_conditions.py). In this order, and both before
        the deadline ends: a run cut short between them does both again (the alert is
        the same one), and a message ingested in between finds the mark next time."""
        self._notifier.notify(alert)
        condition = OpenCondition(alert.topic, alert.subject_ref, alert.at)
        self._bus_items.mark_open(alert.company_id, gateway_id, condition.mark)
