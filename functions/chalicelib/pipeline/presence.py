"""Gateway presence (connect/disconnect lifecycle events) and the offline sweep.

Every MQTT client's connects and disconnects arrive here, not only gateways': a
monitoring tool, a developer's mosquitto_sub. Only a client id shaped like the
product's thing names (senders.py) is looked up; any other is plainly not a gateway
and is counted and dropped, so the dead-letter queue keeps only what needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ..data.catalogue import Catalogue
from ..data.control_state import from_ms
from ..data.errors import NotFoundError, StaleStateError
from ..data.models import Gateway
from ..data.telemetry_store import TelemetryStore
from ..observability import logger
from ..observability import metrics as default_metrics
from .alerts import Alert, Notifier
from .dead_letters import DeadLetters
from .senders import is_extra_connection, looks_like_thing_name, thing_of_client
from .sweeps import GatewaySweep
from .telemetry import rows_of

GATEWAY_SILENT_AFTER = timedelta(minutes=10)
METER_SILENT_CYCLES = 10  # no valid reading in this many latest cycles = offline
NOT_A_GATEWAY_METRIC = "PresenceNotAGateway"


@dataclass(frozen=True)
class PresenceResult:
    status: str  # online | offline | stale | dead_letter | not_a_gateway | extra_connection


class Presence(GatewaySweep):
    COUNTERS = ("gateways_silent", "meters_silent")

    def __init__(
        self,
        catalogue: Catalogue,
        telemetry: TelemetryStore,
        notifier: Notifier,
        dead_letters: DeadLetters,
        metrics: Metrics | None = None,
    ) -> None:
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
        if not self._catalogue.mark_gateway_seen(gateway, online, at):
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

    def _sweep_gateway(
        self, company_id: str, gateway: Gateway, now: datetime, counts: dict[str, int]
    ) -> None:
        gw = gateway.gateway_id
        cycles = self._telemetry.latest_cycles(company_id, gw, limit=METER_SILENT_CYCLES)
        state = self._telemetry.get_state(company_id, gw)
        flags = set(state.flags)
        alerts: list[Alert] = []
        cleared: list[tuple[str, str]] = []  # (topic, subject) of conditions that ended
        last_at = from_ms(int(cycles[0].cycle_at_ms)) if cycles else None
        silent = last_at is None or now - last_at > GATEWAY_SILENT_AFTER
        if silent and "silent" not in flags and last_at is not None:
            flags.add("silent")
            alerts.append(
                Alert(
                    company_id,
                    "gateway_offline",
                    f"gateway:{gw}",
                    last_at,
                    "staff",
                    None,
                    {"why": "no telemetry", "last_cycle": last_at.isoformat()},
                )
            )
        elif not silent:
            if "silent" in flags:
                flags.discard("silent")
                cleared.append(("gateway_offline", f"gateway:{gw}"))
            meters = {m.meter_id for m in self._catalogue.list_meters_of_gateway(company_id, gw)}
            answered = {
                row.meter_id
                for cycle in cycles
                for row in rows_of(cycle)
                if row.import_kwh is not None and not row.error
            }
            for meter_id in sorted(meters):
                flag = f"off:{meter_id}"
                if last_at and meter_id not in answered and len(cycles) >= METER_SILENT_CYCLES:
                    if flag not in flags:
                        flags.add(flag)
                        alerts.append(
                            Alert(
                                company_id,
                                "meter_offline",
                                f"meter:{meter_id}",
                                last_at,
                                "staff",
                                None,
                                {"cycles_without_reading": len(cycles)},
                            )
                        )
                elif flag in flags:
                    flags.discard(flag)
                    cleared.append(("meter_offline", f"meter:{meter_id}"))
        if flags == state.flags:
            return
        try:
            self._telemetry.save_state(replace(state, flags=frozenset(flags)), now)
        except StaleStateError:
            # A concurrent writer won; the next sweep sees the same facts and alerts then.
            return
        for alert in alerts:
            self._notifier.notify(alert)
        for topic, subject in cleared:  # one GetItem each: the sweep reads no batch
            self._notifier.resolve(company_id, topic, subject, now)
        counts["gateways_silent"] += sum(a.topic == "gateway_offline" for a in alerts)
        counts["meters_silent"] += sum(a.topic == "meter_offline" for a in alerts)
