"""Plain MQTT 5 through awscrt, speaking the AWS IoT named-shadow topic protocol.

TLS with the device certificate for AWS IoT Core; plain TCP for a local broker (mosquitto in
the local stack). The raw `awscrt.mqtt5.Client` is used for both because the awsiot builders
always set up TLS.

Ordering and loss: publishes are QoS 1. The client is told to fail operations while it is
disconnected (FAIL_ALL_ON_DISCONNECT), so nothing hides in an in-memory queue: the durable
spool above is the only queue, and a cycle is deleted from it only after its PUBACK.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from typing import Any

from awscrt import exceptions as crt_exceptions
from awscrt import io, mqtt5

from meter_gateway.config import MqttConfig
from meter_gateway.errors import (
    PublishFailedError,
    PublishTimeoutError,
    ShadowRejectedError,
    ShadowRequestTimeoutError,
    TransportUnavailableError,
)
from meter_gateway.transport.base import DeltaHandler, shadow_topic

log = logging.getLogger(__name__)

MAX_PENDING_SHADOW_REQUESTS = 256
SUBSCRIBE_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
# Reason codes below 0x80 are successes (0x10 = "no matching subscribers" is still accepted).
FIRST_FAILURE_REASON = 0x80


class MqttTransport:
    def __init__(self, settings: MqttConfig, thing_name: str) -> None:
        self.settings = settings
        self.thing_name = thing_name
        # Always the thing name: the IoT policy lets a certificate connect as its thing
        # only, and ingest refuses telemetry from any other client (docs/iot-contracts.md).
        self.client_id = thing_name
        self._client: mqtt5.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = False
        self._delta_handlers: list[DeltaHandler] = []
        self._pending: dict[str, asyncio.Future[tuple[str, dict[str, Any]]]] = {}
        self._session_task: asyncio.Task[None] | None = None
        self._stopped = threading.Event()
        self.connections = 0  # successful (re)connections, for logs and tests

    # --- lifecycle -----------------------------------------------------------------------

    def _tls_context(self) -> io.ClientTlsContext | None:
        if not self.settings.tls:
            return None
        assert self.settings.cert_path and self.settings.key_path  # checked by MqttConfig
        options = io.TlsContextOptions.create_client_with_mtls_from_path(
            self.settings.cert_path, self.settings.key_path
        )
        if self.settings.ca_path:
            options.override_default_trust_store_from_path(None, self.settings.ca_path)
        return io.ClientTlsContext(options)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        options = mqtt5.ClientOptions(
            host_name=self.settings.host,
            port=self.settings.port,
            tls_ctx=self._tls_context(),
            connect_options=mqtt5.ConnectPacket(
                client_id=self.client_id,
                keep_alive_interval_sec=self.settings.keep_alive_s,
            ),
            # Subscriptions are renewed at every connection; no broker-side session to trust.
            session_behavior=mqtt5.ClientSessionBehaviorType.CLEAN,
            offline_queue_behavior=mqtt5.ClientOperationQueueBehaviorType.FAIL_ALL_ON_DISCONNECT,
            retry_jitter_mode=mqtt5.ExponentialBackoffJitterMode.FULL,
            min_reconnect_delay_ms=self.settings.min_reconnect_delay_ms,
            max_reconnect_delay_ms=self.settings.max_reconnect_delay_ms,
            ack_timeout_sec=30,
            on_publish_callback_fn=self._on_publish_crt,
            on_lifecycle_event_connection_success_fn=self._on_connected_crt,
            on_lifecycle_event_disconnection_fn=self._on_disconnected_crt,
            on_lifecycle_event_connection_failure_fn=self._on_connection_failure_crt,
            on_lifecycle_event_stopped_fn=lambda _data: self._stopped.set(),
        )
        self._stopped.clear()
        self._client = mqtt5.Client(options)
        self._client.start()

    async def stop(self) -> None:
        client, self._client = self._client, None
        self._connected = False
        if client is not None:
            client.stop()
            # stop() is asynchronous; wait (bounded) so sockets are closed when we return.
            await asyncio.to_thread(self._stopped.wait, STOP_TIMEOUT_S)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(TransportUnavailableError("transport stopped"))
        self._pending.clear()

    @property
    def connected(self) -> bool:
        return self._connected

    def on_delta(self, handler: DeltaHandler) -> None:
        self._delta_handlers.append(handler)

    # --- callbacks from the CRT's own thread: hop onto the event loop ----------------------

    def _call_soon(self, fn: Any, *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    def _on_connected_crt(self, _data: mqtt5.LifecycleConnectSuccessData) -> None:
        self._call_soon(self._on_connected)

    def _on_disconnected_crt(self, data: mqtt5.LifecycleDisconnectData) -> None:
        self._call_soon(self._on_disconnected, str(data.exception))

    def _on_connection_failure_crt(self, data: mqtt5.LifecycleConnectFailureData) -> None:
        log.debug("mqtt connection attempt failed: %s", data.exception)

    def _on_publish_crt(self, data: mqtt5.PublishReceivedData) -> None:
        packet = data.publish_packet
        self._call_soon(self._on_message, packet.topic, bytes(packet.payload or b""))

    # --- on the event loop -----------------------------------------------------------------

    def _on_connected(self) -> None:
        self.connections += 1
        log.info("mqtt connected to %s:%s", self.settings.host, self.settings.port)
        if self._session_task is None or self._session_task.done():
            self._session_task = asyncio.ensure_future(self._subscribe_all())

    def _on_disconnected(self, reason: str) -> None:
        if self._connected:
            log.warning("mqtt link down: %s", reason)
        self._connected = False

    def _filters(self) -> list[str]:
        base = shadow_topic(self.thing_name, "+", "")
        return [
            base + suffix
            for suffix in (
                "get/accepted",
                "get/rejected",
                "update/accepted",
                "update/rejected",
                "update/delta",
            )
        ]

    async def _subscribe_all(self) -> None:
        client = self._client
        if client is None:
            return
        packet = mqtt5.SubscribePacket(
            subscriptions=[
                mqtt5.Subscription(topic_filter=f, qos=mqtt5.QoS.AT_LEAST_ONCE)
                for f in self._filters()
            ]
        )
        try:
            suback = await asyncio.wait_for(
                asyncio.wrap_future(client.subscribe(packet)), SUBSCRIBE_TIMEOUT_S
            )
        except (TimeoutError, crt_exceptions.AwsCrtError) as exc:
            # The next connection success tries again; until then we count as disconnected.
            log.warning("mqtt subscribe failed, link considered down: %s", exc)
            return
        refused = [
            f
            for f, code in zip(self._filters(), suback.reason_codes or [], strict=False)
            if int(code) >= FIRST_FAILURE_REASON
        ]
        if refused:
            # The IoT policy does not grant these: shadow answers would never arrive. Stay
            # "down" (telemetry waits in the spool) and say so; a reconnect tries again.
            log.error("the broker refused subscriptions %s: check the IoT policy", refused)
            return
        self._connected = True

    def _on_message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        # $aws/things/<thing>/shadow/name/<shadow>/<op>/<result>
        if len(parts) != 8 or parts[2] != self.thing_name or parts[3:5] != ["shadow", "name"]:
            log.debug("ignoring message on %s", topic)
            return
        shadow_name, op, result = parts[5], parts[6], parts[7]
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            log.warning("ignoring non-JSON message on %s", topic)
            return
        if not isinstance(body, dict):
            return
        if op == "update" and result == "delta":
            state = body.get("state")
            if isinstance(state, dict):
                version = body.get("version")
                for handler in self._delta_handlers:
                    handler(shadow_name, state, version if isinstance(version, int) else None)
            return
        token = body.get("clientToken")
        future = self._pending.get(token) if isinstance(token, str) else None
        if future is not None and not future.done():
            future.set_result((result, body))

    # --- operations --------------------------------------------------------------------------

    def _require_client(self) -> mqtt5.Client:
        if self._client is None or not self._connected:
            raise TransportUnavailableError(
                f"mqtt link to {self.settings.host}:{self.settings.port} is down"
            )
        return self._client

    async def publish(self, topic: str, payload: bytes, timeout_ms: int) -> None:
        client = self._require_client()
        packet = mqtt5.PublishPacket(topic=topic, payload=payload, qos=mqtt5.QoS.AT_LEAST_ONCE)
        try:
            result = await asyncio.wait_for(
                asyncio.wrap_future(client.publish(packet)), timeout_ms / 1000
            )
        except TimeoutError as exc:
            raise PublishTimeoutError(f"no PUBACK on {topic} within {timeout_ms} ms") from exc
        except crt_exceptions.AwsCrtError as exc:
            if not self._connected:
                raise TransportUnavailableError(f"mqtt link went down: {exc.name}") from exc
            raise PublishFailedError(f"publish to {topic} failed: {exc.name}") from exc
        puback = getattr(result, "puback", None)
        if puback is not None and int(puback.reason_code) >= FIRST_FAILURE_REASON:
            raise PublishFailedError(f"broker refused publish to {topic}: {puback.reason_code!r}")

    async def _shadow_request(
        self, shadow_name: str, op: str, body: dict[str, Any], timeout_ms: int
    ) -> tuple[str, dict[str, Any]]:
        if len(self._pending) >= MAX_PENDING_SHADOW_REQUESTS:
            raise ShadowRequestTimeoutError("too many shadow requests waiting for an answer")
        token = uuid.uuid4().hex
        assert self._loop is not None
        future: asyncio.Future[tuple[str, dict[str, Any]]] = self._loop.create_future()
        self._pending[token] = future
        deadline = time.monotonic() + timeout_ms / 1000
        try:
            await self.publish(
                shadow_topic(self.thing_name, shadow_name, op),
                json.dumps({**body, "clientToken": token}, separators=(",", ":")).encode(),
                timeout_ms,
            )
            remaining = max(0.0, deadline - time.monotonic())
            return await asyncio.wait_for(future, remaining)
        except TimeoutError as exc:
            raise ShadowRequestTimeoutError(
                f"shadow {shadow_name} {op}: no answer within {timeout_ms} ms"
            ) from exc
        finally:
            self._pending.pop(token, None)

    async def get_shadow(self, shadow_name: str, timeout_ms: int) -> dict[str, Any] | None:
        result, body = await self._shadow_request(shadow_name, "get", {}, timeout_ms)
        if result == "accepted":
            return body
        if body.get("code") == 404:
            return None
        raise ShadowRejectedError(
            f"shadow {shadow_name} get rejected: {body.get('code')} {body.get('message')}"
        )

    async def update_shadow(
        self, shadow_name: str, document: dict[str, Any], timeout_ms: int
    ) -> None:
        result, body = await self._shadow_request(shadow_name, "update", document, timeout_ms)
        if result != "accepted":
            raise ShadowRejectedError(
                f"shadow {shadow_name} update rejected: {body.get('code')} {body.get('message')}"
            )
