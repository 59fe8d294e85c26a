"""Greengrass IPC through awsiotsdk's GreengrassCoreIPCClientV2 (production on a core device).

- telemetry: publish_to_iot_core (QoS 1) through the nucleus's MQTT connection;
- shadows: get/update_thing_shadow against ShadowManager's local copy (works offline; the
  ShadowManager syncs it with the cloud);
- deltas: subscribe_to_iot_core on the cloud's `update/delta` topics, and subscribe_to_topic on
  the same topics of the local pub/sub, where ShadowManager republishes local deltas. Either
  may be missing depending on the ShadowManager sync settings; duplicates are dropped by
  version in the relay controller.

Cloud reachability: the nucleus accepts publishes while offline into its own spooler, which
lives in memory, so a successful publish proves nothing. This transport therefore sends a
shadow `get` through IoT Core every `heartbeat_s` and counts the cloud reachable while answers
come back; while they do not, `publish` refuses, so cycles wait in the durable spool instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
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
DEFAULT_HEARTBEAT_S = 30.0
# The cloud counts as reachable this many heartbeats after the last answer.
HEARTBEAT_GRACE = 2.5
HEARTBEAT_SHADOW = "gateway-heartbeat"


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
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
        clock: Any = time.monotonic,
    ) -> None:
        self.thing_name = thing_name
        self._client = client
        self._owns_client = client is None
        self.heartbeat_s = heartbeat_s
        self.clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._delta_handlers: list[DeltaHandler] = []
        self._last_cloud_answer: float | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._operations: list[Any] = []

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._client is None:
            from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2

            self._client = await asyncio.to_thread(GreengrassCoreIPCClientV2)
        delta_filter = shadow_topic(self.thing_name, "+", "update/delta")
        answer_filter = shadow_topic(self.thing_name, HEARTBEAT_SHADOW, "get/+")
        try:
            _, op = await asyncio.to_thread(
                self._client.subscribe_to_iot_core,
                topic_name=delta_filter,
                qos=QOS_AT_LEAST_ONCE,
                on_stream_event=self._on_iot_core_message,
            )
            self._operations.append(op)
            _, op = await asyncio.to_thread(
                self._client.subscribe_to_iot_core,
                topic_name=answer_filter,
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
        self._heartbeat_task = asyncio.create_task(self._heartbeat_loop(), name="ipc-heartbeat")

    async def stop(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task
        for op in self._operations:
            with contextlib.suppress(Exception):
                op.close()
        self._operations.clear()
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    @property
    def connected(self) -> bool:
        if self._last_cloud_answer is None:
            return False
        age_s: float = self.clock() - self._last_cloud_answer
        return age_s <= self.heartbeat_s * HEARTBEAT_GRACE

    def on_delta(self, handler: DeltaHandler) -> None:
        self._delta_handlers.append(handler)

    # --- heartbeat -------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        topic = shadow_topic(self.thing_name, HEARTBEAT_SHADOW, "get")
        while True:
            body = json.dumps({"clientToken": uuid.uuid4().hex}).encode()
            try:
                await asyncio.to_thread(
                    self._client.publish_to_iot_core,
                    topic_name=topic,
                    qos=QOS_AT_LEAST_ONCE,
                    payload=body,
                )
            except Exception as exc:
                log.debug("heartbeat publish failed: %s", exc)
            await asyncio.sleep(self.heartbeat_s)

    # --- stream callbacks (IPC executor threads) -------------------------------------------

    def _dispatch(self, topic: str, payload: bytes) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._on_message, topic, payload)

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
        if shadow_name == HEARTBEAT_SHADOW and op == "get":
            # accepted or rejected (404: the heartbeat shadow need not exist): the cloud answered
            self._last_cloud_answer = self.clock()
            return
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
            raise TransportUnavailableError("cloud unreachable (no heartbeat answer)")
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
