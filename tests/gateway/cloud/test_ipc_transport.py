"""IpcTransport over a stand-in GreengrassCoreIPCClientV2 (no nucleus in CI)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from types import SimpleNamespace

import pytest

from meter_gateway.errors import ShadowRejectedError, TransportError, TransportUnavailableError
from meter_gateway.transport.ipc import IpcTransport

THING = "gg-core-1"


class ResourceNotFoundError(Exception):
    """Same name as awsiot's model.ResourceNotFoundError."""


def _done(value=None, error=None) -> concurrent.futures.Future:
    future: concurrent.futures.Future = concurrent.futures.Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


def _matches(topic_filter: str, topic: str) -> bool:
    pattern, parts = topic_filter.split("/"), topic.split("/")
    if len(pattern) != len(parts):
        return False
    return all(p in ("+", t) for p, t in zip(pattern, parts, strict=True))


class FakeIpcClient:
    """Records calls the way GreengrassCoreIPCClientV2 receives them."""

    def __init__(self) -> None:
        self.iot_core_streams: dict[str, object] = {}
        self.local_streams: dict[str, object] = {}
        self.published: list[tuple[str, str, bytes]] = []
        self.shadows: dict[str, bytes] = {}
        self.updates: list[tuple[str, str, bytes]] = []
        self.status_streams: list[SimpleNamespace] = []
        self.status = "DISCONNECTED"
        self.offers_status = True

    def subscribe_to_iot_core_connection_status(
        self, *, on_stream_event, on_stream_error, on_stream_closed
    ):
        if not self.offers_status:
            raise RuntimeError("UnsupportedOperation")  # an older nucleus
        stream = SimpleNamespace(event=on_stream_event, closed=on_stream_closed)
        self.status_streams.append(stream)
        self._send_status(stream)  # the nucleus sends the current status first
        return SimpleNamespace(), SimpleNamespace(close=lambda: None)

    def _send_status(self, stream: SimpleNamespace) -> None:
        status = SimpleNamespace(status=self.status)
        stream.event(SimpleNamespace(connection_status_event=status))

    # what the nucleus does when its MQTT connection (kept alive with PINGREQ) changes
    def link(self, status: str) -> None:
        self.status = status
        self._send_status(self.status_streams[-1])

    def restart_nucleus(self) -> None:
        self.status_streams[-1].closed()

    def subscribe_to_iot_core(self, *, topic_name, qos, on_stream_event):
        self.iot_core_streams[topic_name] = on_stream_event
        return SimpleNamespace(), SimpleNamespace(close=lambda: None)

    def subscribe_to_topic(self, *, topic, on_stream_event):
        self.local_streams[topic] = on_stream_event
        return SimpleNamespace(), SimpleNamespace(close=lambda: None)

    def publish_to_iot_core(self, *, topic_name, qos, payload):
        self.published.append((topic_name, qos, payload))

    def publish_to_iot_core_async(self, *, topic_name, qos, payload):
        self.published.append((topic_name, qos, payload))
        return _done()

    def get_thing_shadow_async(self, *, thing_name, shadow_name):
        if shadow_name not in self.shadows:
            return _done(error=ResourceNotFoundError("no shadow"))
        return _done(SimpleNamespace(payload=self.shadows[shadow_name]))

    def update_thing_shadow_async(self, *, thing_name, shadow_name, payload):
        self.updates.append((thing_name, shadow_name, payload))
        return _done(SimpleNamespace(payload=b"{}"))

    # what the nucleus does when a message arrives on a subscribed topic
    def cloud_message(self, topic: str, body: dict) -> None:
        message = SimpleNamespace(topic_name=topic, payload=json.dumps(body).encode())
        for topic_filter, stream in self.iot_core_streams.items():
            if _matches(topic_filter, topic):
                stream(SimpleNamespace(message=message))

    def local_message(self, topic: str, body: dict) -> None:
        context = SimpleNamespace(topic=topic)
        binary = SimpleNamespace(context=context, message=json.dumps(body).encode())
        for topic_filter, stream in self.local_streams.items():
            if _matches(topic_filter, topic):
                stream(SimpleNamespace(binary_message=binary, json_message=None))


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


async def test_publishes_wait_in_the_spool_while_the_nucleus_is_not_connected():
    client = FakeIpcClient()
    transport = IpcTransport(THING, client=client, resubscribe_s=0.01)
    await transport.start()
    try:
        # GIVEN the nucleus is not connected to IoT Core: it would spool in memory, so we refuse
        await _settle()
        assert not transport.connected
        with pytest.raises(TransportUnavailableError):
            await transport.publish("powerlet/gw/gg-core-1/telemetry", b"{}", 1_000)
        # WHEN its connection comes up (the nucleus tells us; nothing is sent to find out)
        client.link("CONNECTED")
        await _settle()
        # THEN telemetry goes out through publish_to_iot_core at QoS 1
        await transport.publish("powerlet/gw/gg-core-1/telemetry", b'{"s":1}', 1_000)
        assert client.published == [("powerlet/gw/gg-core-1/telemetry", "1", b'{"s":1}')]
        # AND when keep-alive finds the link dead, the cloud counts as unreachable at once
        client.link("DISCONNECTED")
        await _settle()
        assert not transport.connected
        # AND a nucleus restart closes the stream: unreachable until it answers again
        client.link("CONNECTED")
        await _settle()
        assert transport.connected
        client.restart_nucleus()
        await _settle()
        assert len(client.status_streams) == 2
        assert transport.connected  # the new stream's first event: still CONNECTED
        # AND in all this the transport published nothing of its own (no heartbeat)
        assert [p[0] for p in client.published] == ["powerlet/gw/gg-core-1/telemetry"]
    finally:
        await transport.stop()


async def test_a_nucleus_without_the_link_status_operation_is_refused_at_start():
    client = FakeIpcClient()
    client.offers_status = False
    transport = IpcTransport(THING, client=client)
    with pytest.raises(TransportError, match="SubscribeToIoTCoreConnectionStatus"):
        await transport.start()


async def test_deltas_arrive_from_iot_core_and_from_the_local_shadow_manager():
    client = FakeIpcClient()
    transport = IpcTransport(THING, client=client)
    deltas = []
    transport.on_delta(lambda name, state, version: deltas.append((name, state, version)))
    await transport.start()
    try:
        topic = f"$aws/things/{THING}/shadow/name/meter-a/update/delta"
        assert f"$aws/things/{THING}/shadow/name/+/update/delta" in client.iot_core_streams
        client.cloud_message(topic, {"state": {"power": "off"}, "version": 4})
        client.local_message(topic, {"state": {"power": "off"}, "version": 4})
        await _settle()
        assert deltas == [("meter-a", {"power": "off"}, 4)] * 2
    finally:
        await transport.stop()


async def test_shadow_get_and_update_go_to_the_shadow_manager():
    client = FakeIpcClient()
    transport = IpcTransport(THING, client=client)
    await transport.start()
    try:
        assert await transport.get_shadow("meter-a", 1_000) is None
        client.shadows["meter-a"] = json.dumps({"state": {"desired": {"power": "on"}}}).encode()
        assert (await transport.get_shadow("meter-a", 1_000))["state"]["desired"] == {"power": "on"}
        await transport.update_shadow("meter-a", {"state": {"reported": {"power": "on"}}}, 1_000)
        assert json.loads(client.updates[0][2]) == {"state": {"reported": {"power": "on"}}}
        client.shadows["meter-b"] = b"not json"
        with pytest.raises(ShadowRejectedError):
            await transport.get_shadow("meter-b", 1_000)
    finally:
        await transport.stop()
