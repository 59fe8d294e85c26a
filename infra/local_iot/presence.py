"""Turn broker connects and disconnects into AWS IoT presence events.

AWS publishes ``$aws/events/presence/connected/<clientId>`` and
``.../disconnected/<clientId>`` (developer guide, "Connect/Disconnect events").
Only clients we saw connect get a disconnected event, as in AWS.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection
from typing import Any

from .broker_log import (
    CLIENT_INITIATED_DISCONNECT,
    BrokerEvent,
    ClientConnected,
    ClientDisconnected,
)

PRESENCE_TOPIC = "$aws/events/presence/{event_type}/{client_id}"
ANONYMOUS_PRINCIPAL = "local-anonymous"
MAX_TRACKED_CLIENTS = 100_000
_NOT_IN_A_TOPIC_LEVEL = set("/+#")

log = logging.getLogger(__name__)


class PresenceTracker:
    def __init__(
        self,
        publish: Callable[[str, dict[str, Any]], None],
        internal_client_ids: Collection[str] = (),
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self._publish = publish
        self._internal = frozenset(internal_client_ids)
        self._clock_ms = clock_ms
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, str]] = {}  # client id -> (session id, principal)
        self._versions: dict[str, int] = {}

    def on_broker_event(self, event: BrokerEvent) -> None:
        if isinstance(event, ClientConnected) and event.client_id not in self._internal:
            self._connected(event)
        elif isinstance(event, ClientDisconnected):
            self._disconnected(event)

    def _connected(self, event: ClientConnected) -> None:
        session = uuid.uuid4().hex
        principal = event.username or ANONYMOUS_PRINCIPAL
        with self._lock:
            if len(self._versions) >= MAX_TRACKED_CLIENTS and event.client_id not in self._versions:
                self._versions.clear()  # bounded memory; only ordering hints are lost
            self._sessions[event.client_id] = (session, principal)
            version = self._next_version(event.client_id)
        self._emit(
            "connected",
            event.client_id,
            {
                "sessionIdentifier": session,
                "principalIdentifier": principal,
                "ipAddress": event.ip_address,
                "versionNumber": version,
            },
        )

    def _disconnected(self, event: ClientDisconnected) -> None:
        with self._lock:
            known = self._sessions.pop(event.client_id, None)
            if known is None:
                return
            version = self._next_version(event.client_id)
        session, principal = known
        self._emit(
            "disconnected",
            event.client_id,
            {
                "sessionIdentifier": session,
                "principalIdentifier": principal,
                "clientInitiatedDisconnect": event.reason == CLIENT_INITIATED_DISCONNECT,
                "disconnectReason": event.reason,
                "versionNumber": version,
            },
        )

    def _next_version(self, client_id: str) -> int:
        version = self._versions.get(client_id, -1) + 1
        self._versions[client_id] = version
        return version

    def _emit(self, event_type: str, client_id: str, fields: dict[str, Any]) -> None:
        if _NOT_IN_A_TOPIC_LEVEL & set(client_id):
            log.warning("no presence event for client id %r: it cannot be a topic level", client_id)
            return
        message = {
            "clientId": client_id,
            "timestamp": self._clock_ms(),
            "eventType": event_type,
            **fields,
        }
        self._publish(PRESENCE_TOPIC.format(event_type=event_type, client_id=client_id), message)
