"""What the gateway needs from the cloud link; the poller, spool and relay code see only this.

Implementations: `mqtt.MqttTransport` (awscrt MQTT 5, AWS IoT shadow topic protocol, TLS to
AWS IoT Core or plain TCP to a local broker) and `ipc.IpcTransport` (Greengrass IPC).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

# (shadow name, the delta's `state` object, the shadow version); called on the event loop.
DeltaHandler = Callable[[str, dict[str, Any], int | None], None]


def shadow_topic(thing_name: str, shadow_name: str, suffix: str) -> str:
    """`$aws/things/<thing>/shadow/name/<shadow>/<suffix>`, suffix like "update/delta"."""
    return f"$aws/things/{thing_name}/shadow/name/{shadow_name}/{suffix}"


class CloudTransport(Protocol):
    """Bound to one thing (the gateway's); shadows are named shadows of that thing."""

    async def start(self) -> None:
        """Begin connecting; returns at once, the link comes up (and back) in the background."""

    async def stop(self) -> None: ...

    @property
    def connected(self) -> bool:
        """The link to the cloud is up now (best knowledge of this transport)."""

    async def publish(self, topic: str, payload: bytes, timeout_ms: int) -> None:
        """QoS 1; returns once acknowledged. Raises TransportUnavailableError when the link is
        down, PublishTimeoutError or PublishFailedError otherwise."""

    async def get_shadow(self, shadow_name: str, timeout_ms: int) -> dict[str, Any] | None:
        """The whole named shadow of this gateway's thing, or None when it does not exist."""

    async def update_shadow(
        self, shadow_name: str, document: dict[str, Any], timeout_ms: int
    ) -> None:
        """Send `{"state": {...}}`; returns once the shadow service accepted it."""

    def on_delta(self, handler: DeltaHandler) -> None:
        """Receive `update/delta` of this thing's named shadows, now and after reconnects.

        Register before start()."""
