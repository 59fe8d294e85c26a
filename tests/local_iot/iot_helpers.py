"""Helpers for the local IoT tier: a recording Chalice app and a paho test device.

The cloud handlers are someone else's; these tests route to a Chalice app of
their own whose ``@app.lambda_function``s have the same names and record calls.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from chalice import Chalice
from paho.mqtt.enums import CallbackAPIVersion

from local_iot.pki import DeviceCredentials, Identity
from local_iot.policies import deployed_policies

WAIT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Recorder:
    """Thread-safe list of (name, event, context) with waiting."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], Any]] = []
        self._cond = threading.Condition()

    def add(self, name: str, event: dict[str, Any], context: Any) -> None:
        with self._cond:
            self.calls.append((name, event, context))
            self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[str, dict[str, Any]], bool], timeout_s: float = WAIT_S
    ) -> list[tuple[str, dict[str, Any], Any]]:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: any(predicate(n, e) for n, e, _ in self.calls), timeout=timeout_s
            )
            assert ok, "timed out waiting for a handler call"
            return [(n, e, c) for n, e, c in self.calls if predicate(n, e)]


def recording_app(recorder: Recorder, attempts: dict[str, int]) -> Chalice:
    app = Chalice(app_name="powerlet-local-iot-test")

    @app.lambda_function(name="ingest_telemetry")
    def ingest_telemetry(event: dict[str, Any], context: Any) -> None:
        recorder.add("ingest_telemetry", event, context)
        if "Ym9vbS" in event.get("raw", ""):  # base64 of b"boom..."
            attempts[event["raw"]] = attempts.get(event["raw"], 0) + 1
            raise ValueError("ingest exploded on purpose")

    @app.lambda_function(name="relay_confirmation")
    def relay_confirmation(event: dict[str, Any], context: Any) -> None:
        recorder.add("relay_confirmation", event, context)

    @app.lambda_function(name="gateway_presence")
    def gateway_presence(event: dict[str, Any], context: Any) -> None:
        recorder.add("gateway_presence", event, context)

    return app


class Device:
    """A test MQTT client (paho) that keeps every message it receives: plain on the
    emulation's internal port, or with ``credentials`` over TLS on the device endpoint."""

    def __init__(
        self,
        port: int,
        client_id: str,
        protocol: int = mqtt.MQTTv311,
        credentials: DeviceCredentials | None = None,
    ) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.subacks: list[list[int]] = []
        self.disconnected = threading.Event()
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._connected = threading.Event()
        self.connack: Any = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol
        )
        if credentials is not None:
            self.client.tls_set(
                ca_certs=str(credentials.ca_path),
                certfile=str(credentials.cert_path),
                keyfile=str(credentials.key_path),
            )
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.disconnected.set()
        self.pubacks: dict[int, int] = {}  # mid -> PUBACK reason code (MQTT 5)
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._connected.wait(WAIT_S), "no CONNACK"

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connack = reason
        self._connected.set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        self.pubacks[mid] = int(getattr(reason, "value", reason) or 0)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, codes: Any, _props: Any) -> None:
        self.subacks.append([int(getattr(c, "value", c)) for c in codes])
        self._subscribed.set()

    def subscribe(self, *filters: str) -> Device:
        self._subscribed.clear()
        self.client.subscribe([(f, 1) for f in filters])
        assert self._subscribed.wait(WAIT_S), "no SUBACK"
        return self

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(WAIT_S)
        return info

    def wait_for(self, topic: str, timeout_s: float = WAIT_S) -> bytes:
        with self._cond:
            ok = self._cond.wait_for(lambda: any(t == topic for t, _ in self.messages), timeout_s)
            assert ok, f"nothing arrived on {topic}; got {[t for t, _ in self.messages]}"
            return next(p for t, p in self.messages if t == topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((message.topic, bytes(message.payload)))
            self._cond.notify_all()


def wait_until(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


class AttachedPolicies:
    """The policies a test certificate has attached: the deployed ones (the shared gateway
    policy and its thing's own), unless a test sets ``edit`` to change the thing's own
    (each new connection binds what is here then)."""

    def __init__(self) -> None:
        self.deployed = deployed_policies(stage="iottest")
        self.edit: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __call__(self, identity: Identity) -> list[dict[str, Any]]:
        shared, own = self.deployed(identity)
        return [shared, self.edit(own) if self.edit else own]
