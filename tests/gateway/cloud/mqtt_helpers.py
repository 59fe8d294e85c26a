"""A real mosquitto per test, an MQTT probe client, and a stand-in for the AWS shadow service.

The local broker has no shadow service; `ShadowService` plays it over the same topics
(`$aws/things/+/shadow/name/+/update|get` in, `accepted`/`rejected`/`delta`/`documents` out),
keeping the documents in a `ShadowBook`.
"""

from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from awscrt import mqtt5
from cloud_fakes import ShadowBook

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
WAIT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout_s: float = WAIT_S, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class Mosquitto:
    """Our own broker on a free loopback port, with persistence so sessions survive a stop."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            # Run as whoever runs the tests (as root it would switch to user mosquitto, which
            # cannot write the persistence file in the test's directory).
            f"user {getpass.getuser()}\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "max_queued_messages 100000\n"
            f"log_dest file {workdir}/mosquitto.log\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)])
        wait_until(self._listening, what=f"mosquitto on {self.port}")

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves sessions and queued messages
            self.proc.wait(timeout=10)
        self.proc = None


class MqttProbe:
    """A test-side MQTT 5 client; with `session=True` the broker queues for it while away."""

    def __init__(self, port: int, client_id: str, *, session: bool = False) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._filters: list[str] = []
        self.on_message = None
        self.client = mqtt5.Client(
            mqtt5.ClientOptions(
                host_name="127.0.0.1",
                port=port,
                connect_options=mqtt5.ConnectPacket(
                    client_id=client_id,
                    keep_alive_interval_sec=30,
                    session_expiry_interval_sec=3600 if session else 0,
                ),
                session_behavior=mqtt5.ClientSessionBehaviorType.REJOIN_ALWAYS
                if session
                else mqtt5.ClientSessionBehaviorType.CLEAN,
                min_reconnect_delay_ms=100,
                max_reconnect_delay_ms=500,
                on_publish_callback_fn=self._on_publish,
                on_lifecycle_event_connection_success_fn=self._on_connected,
                on_lifecycle_event_disconnection_fn=lambda _d: self._connected.clear(),
            )
        )

    def start(self) -> MqttProbe:
        self.client.start()
        assert self._connected.wait(WAIT_S), "probe could not connect"
        return self

    def stop(self) -> None:
        self.client.stop()

    def _on_connected(self, _data) -> None:
        self._connected.set()
        if self._filters:  # renew, in case the broker lost the session
            self._subscribe(self._filters)

    def _subscribe(self, filters: list[str]):
        return self.client.subscribe(
            mqtt5.SubscribePacket(
                subscriptions=[
                    mqtt5.Subscription(topic_filter=f, qos=mqtt5.QoS.AT_LEAST_ONCE) for f in filters
                ]
            )
        )

    def subscribe(self, *filters: str) -> None:
        self._filters.extend(filters)
        self._subscribe(list(filters)).result(WAIT_S)

    def publish(self, topic: str, payload: bytes | dict) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload).encode()
        self.client.publish(
            mqtt5.PublishPacket(topic=topic, payload=payload, qos=mqtt5.QoS.AT_LEAST_ONCE)
        )

    def _on_publish(self, data) -> None:
        packet = data.publish_packet
        payload = bytes(packet.payload or b"")
        with self._lock:
            self.messages.append((packet.topic, payload))
        if self.on_message is not None:
            self.on_message(packet.topic, payload)

    def payloads(self, topic: str) -> list[dict]:
        with self._lock:
            return [json.loads(p) for t, p in self.messages if t == topic]


class ShadowService:
    """Answers the AWS IoT named-shadow topics of every thing, as the real service would."""

    def __init__(self, port: int) -> None:
        self.books: dict[str, ShadowBook] = {}
        self._lock = threading.Lock()
        self.probe = MqttProbe(port, "test-shadow-service", session=True)
        self.probe.on_message = self._handle

    def start(self) -> ShadowService:
        self.probe.start()
        self.probe.subscribe(
            "$aws/things/+/shadow/name/+/update", "$aws/things/+/shadow/name/+/get"
        )
        return self

    def stop(self) -> None:
        self.probe.stop()

    def book(self, thing: str) -> ShadowBook:
        return self.books.setdefault(thing, ShadowBook())

    def _topic(self, thing: str, name: str, suffix: str) -> str:
        return f"$aws/things/{thing}/shadow/name/{name}/{suffix}"

    def _handle(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        if len(parts) != 7:
            return  # our own answers (accepted/delta/...) come back through no filter of ours
        thing, name, op = parts[2], parts[5], parts[6]
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            body = {}
        token = body.get("clientToken")
        with self._lock:
            book = self.book(thing)
            if op == "get":
                doc = book.get(name)
                if doc is None:
                    answer = {"code": 404, "message": f"No shadow exists with name: '{name}'"}
                    self._send(thing, name, "get/rejected", answer, token)
                else:
                    self._send(thing, name, "get/accepted", doc, token)
                return
            state = body.get("state")
            if not isinstance(state, dict):
                self._send(
                    thing, name, "update/rejected", {"code": 400, "message": "no state"}, token
                )
                return
            previous = book.get(name)
            accepted, delta = book.update(name, state)
            self._send(thing, name, "update/accepted", accepted, token)
            self._send(
                thing,
                name,
                "update/documents",
                {"previous": previous, "current": book.get(name)},
                None,
            )
            if delta is not None:
                self._send(thing, name, "update/delta", delta, None)

    def _send(self, thing: str, name: str, suffix: str, body: dict, token: str | None) -> None:
        if token is not None:
            body = {**body, "clientToken": token}
        self.probe.publish(self._topic(thing, name, suffix), body)

    def cloud_sets_desired(self, thing: str, name: str, desired: dict) -> None:
        """What the cloud's account policy does: update desired; the delta goes to the device."""
        with self._lock:
            previous = self.book(thing).get(name)
            _, delta = self.book(thing).update(name, {"desired": desired})
            self._send(
                thing,
                name,
                "update/documents",
                {"previous": previous, "current": self.book(thing).get(name)},
                None,
            )
            if delta is not None:
                self._send(thing, name, "update/delta", delta, None)

    def reported(self, thing: str, name: str) -> dict | None:
        with self._lock:
            return self.book(thing).reported(name)
