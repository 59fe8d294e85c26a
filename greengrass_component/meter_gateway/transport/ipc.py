"""Greengrass IPC through awsiotsdk's GreengrassCoreIPCClientV2 (production on a core device).

- telemetry: publish_to_iot_core (QoS 1) through the nucleus's MQTT connection;
- shadows: get/update_thing_shadow against ShadowManager's local copy (works offline; the
  ShadowManager syncs it with the cloud);
- deltas: subscribe_to_iot_core on the cloud's `update/delta` topics, and subscribe_to_topic on
  the same topics of the local pub/sub, where ShadowManager republishes local deltas. Either
  may be missing depending on the ShadowManager sync settings; duplicates are dropped by
  version in the relay controller.

Cloud reachability: the nucleus accepts QoS 1 publishes while offline into its own spooler,
which lives in memory, so a successful publish proves nothing. The nucleus itself knows: its
MQTT connection to IoT Core is kept alive with PINGREQ (keepAliveTimeoutMs 60 s, pingTimeoutMs
30 s), which IoT Core does not meter. This transport subscribes to that state
(`SubscribeToIoTCoreConnectionStatus`: the current status first, then every change) and
counts the cloud reachable while it is CONNECTED; otherwise `publish` refuses, so cycles wait
in the durable spool. No message is sent to learn it (the gateway used to send a shadow `get`
every 30 s: 2,700 shadow operations per meter-month, docs/gateway.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from meter_gateway.errors import (
    PublishFailedError,
    PublishTimeoutError,
    ShadowRejectedError,
    ShadowRequestTimeoutError,
    TransportError,
    TransportUnavailableError,
)
from meter_gateway.transport.base import DeltaHandler, shadow_topic

log = logging.getLogger(__name__)

QOS_AT_LEAST_ONCE = "1"
CONNECTED = "CONNECTED"  # awsiot model.ConnectionStatus
# After the status stream closes (a nucleus restart), subscribe again this often; until it
# answers, the cloud counts as unreachable.
RESUBSCRIBE_S = 5.0


def read_component_configuration() -> Any:
    """The component's whole configuration (used by `python -m meter_gateway --greengrass`)."""
    from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2

    client = GreengrassCoreIPCClientV2()
    try:
        return client.get_configuration(key_path=[]).value
    finally:
        client.close()


class IpcTransport:
    def __init__(
        self,
        thing_name: str,
        *,
        client: Any = None,
        resubscribe_s: float = RESUBSCRIBE_S,
    ) -> None:
        self.thing_name = thing_name
        self._client = client
        self._owns_client = client is None
        self.resubscribe_s = resubscribe_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._delta_handlers: list[DeltaHandler] = []
        self._cloud_connected = False
        self._status_closed = asyncio.Event()
        self._status_task: asyncio.Task[None] | None = None
        self._operations: list[Any] = []

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._client is None:
            from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2

            self._client = await asyncio.to_thread(GreengrassCoreIPCClientV2)
        delta_filter = shadow_topic(self.thing_name, "+", "update/delta")
        try:
            _, op = await asyncio.to_thread(
                self._client.subscribe_to_iot_core,
                topic_name=delta_filter,
                qos=QOS_AT_LEAST_ONCE,
                on_stream_event=self._on_iot_core_message,
            )
            self._operations.append(op)
            _, op = await asyncio.to_thread(
                self._client.subscribe_to_topic,
                topic=delta_filter,
                on_stream_event=self._on_local_message,
            )
            self._operations.append(op)
        except Exception as exc:
            raise TransportError(f"greengrass IPC subscribe failed: {exc}") from exc
        # A nucleus without the operation refuses it: say so rather than guess the link.
        await self._subscribe_status()
        self._status_task = asyncio.create_task(self._keep_status(), name="ipc-link-status")

    async def stop(self) -> None:
        if self._status_task is not None:
            self._status_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._status_task
        for op in self._operations:
            with contextlib.suppress(Exception):
                op.close()
        self._operations.clear()
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    @property
    def connected(self) -> bool:
        return self._cloud_connected

    def on_delta(self, handler: DeltaHandler) -> None:
        self._delta_handlers.append(handler)

    # --- the nucleus's connection to IoT Core ---------------------------------------------

    async def _subscribe_status(self) -> None:
        self._status_closed.clear()
        try:
            _, op = await asyncio.to_thread(
                self._require_client().subscribe_to_iot_core_connection_status,
                on_stream_event=self._on_status_event,
                on_stream_error=self._on_status_error,
                on_stream_closed=self._on_status_closed,
            )
        except Exception as exc:
            raise TransportError(
                "greengrass IPC SubscribeToIoTCoreConnectionStatus failed (the nucleus must "
                f"offer it, docs/gateway.md): {exc}"
            ) from exc
        self._operations.append(op)

    async def _keep_status(self) -> None:
        while True:
            await self._status_closed.wait()
            self._cloud_connected = False
            await asyncio.sleep(self.resubscribe_s)
            try:
                await self._subscribe_status()
            except TransportError as exc:
                log.warning("link status: %s; trying again", exc)
                self._status_closed.set()

    def _on_status_event(self, event: Any) -> None:
        status = getattr(getattr(event, "connection_status_event", None), "status", None)
        self._call_soon(self._set_cloud_connected, status == CONNECTED)

    def _on_status_error(self, error: Exception) -> bool:
        log.warning("link status stream failed: %s", error)
        return True  # close it; _keep_status subscribes again

    def _on_status_closed(self) -> None:
        self._call_soon(self._status_closed.set)

    def _set_cloud_connected(self, connected: bool) -> None:
        if connected != self._cloud_connected:
            log.info("nucleus %s IoT Core", "connected to" if connected else "disconnected from")
        self._cloud_connected = connected

    # --- stream callbacks (IPC executor threads) -------------------------------------------

    def _call_soon(self, callback: Any, *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)

    def _dispatch(self, topic: str, payload: bytes) -> None:
        self._call_soon(self._on_message, topic, payload)

    def _on_iot_core_message(self, event: Any) -> None:
        message = event.message
        self._dispatch(message.topic_name, bytes(message.payload or b""))

    def _on_local_message(self, event: Any) -> None:
        binary = event.binary_message
        if binary is not None:
            self._dispatch(binary.context.topic, bytes(binary.message or b""))
            return
        as_json = event.json_message
        if as_json is not None:
            self._dispatch(as_json.context.topic, json.dumps(as_json.message).encode())

    def _on_message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        if len(parts) != 8 or parts[2] != self.thing_name:
            return
        shadow_name, op, result = parts[5], parts[6], parts[7]
        if op != "update" or result != "delta":
            return
        try:
            body = json.loads(payload)
        except ValueError:
            return
        state = body.get("state") if isinstance(body, dict) else None
        if isinstance(state, dict):
            version = body.get("version")
            for handler in self._delta_handlers:
                handler(shadow_name, state, version if isinstance(version, int) else None)

    # --- operations --------------------------------------------------------------------------

    def _require_client(self) -> Any:
        if self._client is None:
            raise TransportUnavailableError("greengrass IPC is not started")
        return self._client

    async def publish(self, topic: str, payload: bytes, timeout_ms: int) -> None:
        client = self._require_client()
        if not self.connected:
            raise TransportUnavailableError("cloud unreachable (the nucleus is not connected)")
        try:
            await asyncio.wait_for(
                asyncio.wrap_future(
                    client.publish_to_iot_core_async(
                        topic_name=topic, qos=QOS_AT_LEAST_ONCE, payload=payload
                    )
                ),
                timeout_ms / 1000,
            )
        except TimeoutError as exc:
            raise PublishTimeoutError(
                f"IPC publish to {topic}: no answer in {timeout_ms} ms"
            ) from exc
        except Exception as exc:
            raise PublishFailedError(f"IPC publish to {topic} failed: {exc}") from exc

    async def get_shadow(self, shadow_name: str, timeout_ms: int) -> dict[str, Any] | None:
        client = self._require_client()
        try:
            response = await asyncio.wait_for(
                asyncio.wrap_future(
                    client.get_thing_shadow_async(
                        thing_name=self.thing_name, shadow_name=shadow_name
                    )
                ),
                timeout_ms / 1000,
            )
        except TimeoutError as exc:
            raise ShadowRequestTimeoutError(f"shadow {shadow_name} get: no answer") from exc
        except Exception as exc:
            if type(exc).__name__ == "ResourceNotFoundError":
                return None
            raise ShadowRejectedError(f"shadow {shadow_name} get failed: {exc}") from exc
        try:
            doc = json.loads(response.payload)
        except ValueError as exc:
            raise ShadowRejectedError(f"shadow {shadow_name}: not JSON") from exc
        return doc if isinstance(doc, dict) else None

    async def update_shadow(
        self, shadow_name: str, document: dict[str, Any], timeout_ms: int
    ) -> None:
        client = self._require_client()
        payload = json.dumps(document, separators=(",", ":")).encode()
        try:
            await asyncio.wait_for(
                asyncio.wrap_future(
                    client.update_thing_shadow_async(
                        thing_name=self.thing_name, shadow_name=shadow_name, payload=payload
                    )
                ),
                timeout_ms / 1000,
            )
        except TimeoutError as exc:
            raise ShadowRequestTimeoutError(f"shadow {shadow_name} update: no answer") from exc
        except Exception as exc:
            raise ShadowRejectedError(f"shadow {shadow_name} update failed: {exc}") from exc
