"""The device endpoint of the local IoT: TLS with client certificates, and every CONNECT,
PUBLISH, SUBSCRIBE and delivered message authorised by the IoT policies attached to the
certificate, evaluated with the connection's policy variables bound, as AWS IoT Core does.

mosquitto cannot evaluate an IoT policy (its ACLs are MQTT topic filters; a policy's
``meter-*`` matches inside a topic level and across levels, and a policy distinguishes
Subscribe on the literal filter from Receive per delivered message), so the gate sits in
front of it: it terminates TLS, reads the client's certificate (the principal, like
mosquitto's ``require_certificate`` + ``use_identity_as_username``), evaluates each packet
with ``deploy.policy_check`` (the evaluator the infra tier checks the deployed documents
with), and passes what the policy allows to mosquitto on a loopback port that only the
emulation itself uses. What it does on a refusal follows AWS IoT Core's MQTT reason codes:

- CONNECT: CONNACK "not authorized" (0x87 in MQTT 5, 0x05 in 3.1.1), then closed;
- PUBLISH: MQTT 5 QoS 1 gets PUBACK 0x87; QoS 0 is dropped; MQTT 3.1.1 is disconnected;
- SUBSCRIBE: the refused filters get 0x87 (MQTT 5) or 0x80 (3.1.1) in the SUBACK, the
  others are subscribed;
- a message on a topic the client may not ``iot:Receive`` is not delivered (acknowledged
  to mosquitto by the gate, so it is not redelivered).

A retained publish also needs ``iot:RetainPublish``. QoS 2 (which AWS IoT does not
support) closes the connection; requested subscription QoS 2 is granted as 1. A CONNECT
with a Will is refused: no Powerlet client uses one, so the gate does not evaluate wills.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from deploy.policy_check import BoundPolicy

from .errors import BrokerStartError, MqttProtocolError
from .mqtt_wire import (
    CONNECT,
    MQTT_5,
    PUBLISH,
    SUBACK,
    SUBSCRIBE,
    Connect,
    Packet,
    Suback,
    Subscribe,
    connack_not_authorized,
    parse_connect,
    parse_publish,
    parse_suback,
    parse_subscribe,
    puback,
    read_packet,
    subscribe_refused,
)
from .pki import DeviceCredentials, Identity, identity_of

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
HANDSHAKE_TIMEOUT_S = 10.0
START_TIMEOUT_S = 10.0

# The policies attached to the certificate that connected (AWS: ListAttachedPolicies).
PolicySource = Callable[[Identity], Sequence[dict[str, Any]]]


@dataclass(frozen=True)
class Refusal:
    """One thing the policy refused: who, as which client, what, on which resource."""

    principal: str
    client_id: str
    action: str
    resource: str


class PolicyGate:
    """Listens on ``port`` (TLS, client certificate required) and forwards to mosquitto on
    ``upstream_port``; ``arn_prefix`` is ``arn:aws:iot:<region>:<account>:``."""

    def __init__(
        self,
        port: int,
        upstream_port: int,
        server: DeviceCredentials,
        policies: PolicySource,
        arn_prefix: str,
    ) -> None:
        self.port = port
        self._upstream_port = upstream_port
        self._policies = policies
        self._arn = arn_prefix
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(server.ca_path))
        self._tls.verify_mode = ssl.CERT_REQUIRED
        self._tls.load_cert_chain(str(server.cert_path), str(server.key_path))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()
        self._refusals: list[Refusal] = []

    # --- lifecycle (from any thread) --------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="iot-gate", daemon=True)
        self._thread.start()
        listening: Future[asyncio.Server] = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(
                self._serve,
                "127.0.0.1",
                self.port,
                ssl=self._tls,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S,
            ),
            loop,
        )
        try:
            self._server = listening.result(START_TIMEOUT_S)
        except OSError as exc:
            self.stop()
            raise BrokerStartError(f"the IoT gate cannot listen on {self.port}: {exc}") from exc

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        server, self._server = self._server, None

        async def shut() -> None:
            if server is not None:
                server.close()
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()

        try:
            asyncio.run_coroutine_threadsafe(shut(), loop).result(START_TIMEOUT_S)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(START_TIMEOUT_S)
            loop.close()

    def refusals(self) -> list[Refusal]:
        with self._lock:
            return list(self._refusals)

    # --- one connection ---------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            peer = writer.get_extra_info("peercert") or {}
            identity = identity_of(peer.get("subject", ()))
            first = await asyncio.wait_for(read_packet(reader), CONNECT_TIMEOUT_S)
            if first is None:
                return
            connect = parse_connect(first)
            session = _Session(self, identity, connect, writer)
            if not session.may_connect():
                writer.write(connack_not_authorized(connect.level).encode())
                await writer.drain()
                return
            up_reader, upstream = await asyncio.open_connection("127.0.0.1", self._upstream_port)
            session.upstream = upstream
            upstream.write(connect.with_username(identity.common_name).encode())
            await upstream.drain()
            inbound = asyncio.ensure_future(session.from_client(reader))
            outbound = asyncio.ensure_future(session.from_broker(up_reader))
            _done, pending = await asyncio.wait(
                {inbound, outbound}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
        except (MqttProtocolError, TimeoutError, ConnectionError, ssl.SSLError) as exc:
            log.info("closing a device connection: %s", exc)
        finally:
            for stream in (upstream, writer):
                if stream is not None:
                    stream.close()

    # --- used by sessions -------------------------------------------------------------------

    def resource(self, kind: str, name: str) -> str:
        return f"{self._arn}{kind}/{name}"

    def policies_of(self, identity: Identity) -> Sequence[dict[str, Any]]:
        return self._policies(identity)

    def refused(self, refusal: Refusal) -> None:
        log.info(
            "policy refused %s %s to %s (client %s)",
            refusal.action,
            refusal.resource,
            refusal.principal,
            refusal.client_id,
        )
        with self._lock:
            self._refusals.append(refusal)


class _Session:
    """One device connection after CONNECT: the bound policy and the packet rules."""

    def __init__(
        self, gate: PolicyGate, identity: Identity, connect: Connect, writer: asyncio.StreamWriter
    ) -> None:
        self._gate = gate
        self._identity = identity
        self._connect = connect
        self._client = writer
        self.upstream: asyncio.StreamWriter | None = None
        statements = [s for p in gate.policies_of(identity) for s in p["Statement"]]
        self._policy = BoundPolicy(
            {"Statement": statements},
            identity.thing_name,
            client_id=connect.client_id,
            attached=identity.attached,
        )
        self._aliases_in: dict[int, str] = {}  # topic aliases the client set
        self._aliases_out: dict[int, str] = {}  # topic aliases the broker set
        self._pending_subacks: dict[int, list[int | None]] = {}

    @property
    def level(self) -> int:
        return self._connect.level

    def _allows(self, action: str, kind: str, name: str) -> bool:
        resource = self._gate.resource(kind, name)
        if self._policy.allows(action, resource):
            return True
        self._gate.refused(
            Refusal(self._identity.common_name, self._connect.client_id, action, resource)
        )
        return False

    def may_connect(self) -> bool:
        if self._connect.has_will:
            log.info("refusing %s: a CONNECT with a Will", self._connect.client_id)
            return False
        return self._allows("iot:Connect", "client", self._connect.client_id)

    async def from_client(self, reader: asyncio.StreamReader) -> None:
        assert self.upstream is not None
        while (packet := await read_packet(reader)) is not None:
            if packet.kind == CONNECT:
                raise MqttProtocolError("a second CONNECT")
            if packet.kind == PUBLISH:
                if not await self._client_publish(packet):
                    return
                continue
            if packet.kind == SUBSCRIBE:
                await self._client_subscribe(packet)
                continue
            self.upstream.write(packet.encode())
            await self.upstream.drain()

    async def _client_publish(self, packet: Packet) -> bool:
        """Forward or refuse one PUBLISH; False when the connection must close."""
        assert self.upstream is not None
        publish = parse_publish(packet, self.level)
        if publish.qos == 2:
            raise MqttProtocolError("QoS 2 (AWS IoT Core supports QoS 0 and 1)")
        topic = _topic(publish.topic, publish.topic_alias, self._aliases_in)
        allowed = self._allows("iot:Publish", "topic", topic)
        if allowed and publish.retain:
            allowed = self._allows("iot:RetainPublish", "topic", topic)
        if allowed:
            self.upstream.write(packet.encode())
            await self.upstream.drain()
            return True
        if self.level != MQTT_5:
            return False  # AWS IoT disconnects an MQTT 3.1.1 client on a refused publish
        if publish.packet_id is not None:
            self._client.write(puback(publish.packet_id, self.level, 0x87).encode())
            await self._client.drain()
        return True

    async def _client_subscribe(self, packet: Packet) -> None:
        assert self.upstream is not None
        request = parse_subscribe(packet, self.level)
        kept: list[tuple[str, int]] = []
        slots: list[int | None] = []  # per requested filter: its index upstream, or refused
        for topic_filter, options in request.entries:
            if self._allows("iot:Subscribe", "topicfilter", topic_filter):
                slots.append(len(kept))
                kept.append((topic_filter, (options & ~0x03) | min(options & 0x03, 1)))
            else:
                slots.append(None)
        if not kept:
            refused = (subscribe_refused(self.level),) * len(slots)
            answer = Suback(request.packet_id, b"\x00" if self.level == MQTT_5 else b"", refused)
            self._client.write(answer.encode().encode())
            await self._client.drain()
            return
        self._pending_subacks[request.packet_id] = slots
        forwarded = Subscribe(request.packet_id, request.properties, tuple(kept))
        self.upstream.write(forwarded.encode().encode())
        await self.upstream.drain()

    async def from_broker(self, reader: asyncio.StreamReader) -> None:
        assert self.upstream is not None
        while (packet := await read_packet(reader)) is not None:
            if packet.kind == PUBLISH:
                publish = parse_publish(packet, self.level)
                topic = _topic(publish.topic, publish.topic_alias, self._aliases_out)
                if not self._allows("iot:Receive", "topic", topic):
                    if publish.packet_id is not None:
                        self.upstream.write(puback(publish.packet_id, self.level).encode())
                        await self.upstream.drain()
                    continue
            elif packet.kind == SUBACK:
                packet = self._merge_suback(packet)
            self._client.write(packet.encode())
            await self._client.drain()

    def _merge_suback(self, packet: Packet) -> Packet:
        answer = parse_suback(packet, self.level)
        slots = self._pending_subacks.pop(answer.packet_id, None)
        if slots is None:
            return packet
        refused = subscribe_refused(self.level)
        codes = tuple(refused if i is None else answer.codes[i] for i in slots)
        return Suback(answer.packet_id, answer.properties, codes).encode()


def _topic(topic: str, alias: int | None, aliases: dict[int, str]) -> str:
    """The topic a PUBLISH is on, through MQTT 5 topic aliases (set, or used)."""
    if alias is None:
        return topic
    if topic:
        aliases[alias] = topic
        return topic
    if alias not in aliases:
        raise MqttProtocolError(f"topic alias {alias} used before it was set")
    return aliases[alias]
