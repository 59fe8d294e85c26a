"""MqttTransport against a real mosquitto: QoS 1 publish, shadow get/update, deltas, link loss."""

from __future__ import annotations

import asyncio
import json

import pytest
from mqtt_helpers import Mosquitto, MqttProbe, ShadowService, wait_until

from meter_gateway.config import MqttConfig
from meter_gateway.errors import TransportUnavailableError
from meter_gateway.transport.mqtt import MqttTransport

THING = "gw-test-1"


@pytest.fixture
def broker(tmp_path):
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


async def _connected(transport: MqttTransport, timeout_s: float = 10) -> None:
    async def wait() -> None:
        while not transport.connected:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout_s)


def _transport(port: int) -> MqttTransport:
    return MqttTransport(
        MqttConfig(
            host="127.0.0.1", port=port, min_reconnect_delay_ms=100, max_reconnect_delay_ms=500
        ),
        THING,
    )


async def test_publish_is_acknowledged_and_arrives(broker):
    # GIVEN a subscriber and a connected transport
    probe = MqttProbe(broker.port, "probe").start()
    probe.subscribe("powerlet/gw/+/telemetry")
    transport = _transport(broker.port)
    await transport.start()
    try:
        await _connected(transport)
        # WHEN a message is published
        await transport.publish("powerlet/gw/gw-test-1/telemetry", b'{"s":1}', 5_000)
        # THEN the broker acknowledged it (we returned) and the subscriber got it
        await asyncio.to_thread(
            wait_until, lambda: probe.payloads("powerlet/gw/gw-test-1/telemetry")
        )
        assert probe.payloads("powerlet/gw/gw-test-1/telemetry") == [{"s": 1}]
        # AND the broker saw the thing name as the client id (what clientid() reports)
        log = broker.workdir / "mosquitto.log"
        await asyncio.to_thread(
            wait_until, lambda: f" as {THING} (" in log.read_text(errors="replace")
        )
    finally:
        await transport.stop()
        probe.stop()


async def test_shadow_get_update_and_delta_over_the_topic_protocol(broker):
    # GIVEN the stand-in shadow service and a transport listening for deltas
    shadows = ShadowService(broker.port).start()
    transport = _transport(broker.port)
    deltas = []
    transport.on_delta(lambda name, state, version: deltas.append((name, state, version)))
    await transport.start()
    try:
        await _connected(transport)
        # WHEN nothing exists yet THEN get says so
        assert await transport.get_shadow("meter-a", 5_000) is None
        # WHEN the cloud sets a desired state THEN the delta reaches the gateway
        shadows.cloud_sets_desired(THING, "meter-a", {"power": "off", "reason": "r", "cmd": "c1"})
        await asyncio.to_thread(wait_until, lambda: deltas)
        assert deltas[0][0] == "meter-a" and deltas[0][1]["power"] == "off"
        # AND reporting is accepted and stored
        await transport.update_shadow(
            "meter-a", {"state": {"reported": {"power": "off", "at": 1}}}, 5_000
        )
        assert shadows.reported(THING, "meter-a") == {"power": "off", "at": 1}
        doc = await transport.get_shadow("meter-a", 5_000)
        assert doc["state"]["desired"]["cmd"] == "c1"
    finally:
        await transport.stop()
        shadows.stop()


async def test_link_loss_is_seen_and_publishes_refuse_until_it_returns(broker):
    transport = _transport(broker.port)
    await transport.start()
    try:
        await _connected(transport)
        # WHEN the broker goes away
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(wait_until, lambda: not transport.connected)
        # THEN a publish fails fast instead of queueing in memory
        with pytest.raises(TransportUnavailableError):
            await transport.publish("t/x", b"{}", 1_000)
        # WHEN it returns THEN the transport reconnects by itself
        await asyncio.to_thread(broker.start)
        await _connected(transport)
        await transport.publish("t/x", json.dumps({"ok": 1}).encode(), 5_000)
        assert transport.connections >= 2
    finally:
        await transport.stop()
