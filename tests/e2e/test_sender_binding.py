"""Who sent it, locally as in AWS: a device that is not the gateway cannot put telemetry on
the gateway's topic into the books. The broker refuses it first (the deployed IoT policy,
enforced by the local device endpoint); a sender the policy does not bind (a cloud-side
client) is refused by ingest, the second lock; a monitoring client is no dead letter."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt

from .conftest import Running
from .mqtt_clients import device, observer
from .portfolio import thing_of
from .probes import wait_for

TARGET = "gw-plain"
WAIT_S = 30.0
# Handlers run on a pool of workers: a moment for one dispatched just before the marker.
HANDLER_MARGIN_S = 1.0
NOT_AUTHORIZED = 0x87


def test_another_client_on_a_gateways_topic_is_refused_and_a_monitor_is_ignored(
    running: Running,
) -> None:
    probe, system = running.probe, running.system
    topic = f"powerlet/gw/{thing_of(TARGET)}/telemetry"
    intruder_id = thing_of("gw-intruder")  # another thing's name, not this gateway's
    probe.dead_letters()  # start from an empty queue
    # GIVEN a monitoring client watching gw-plain's telemetry, and one real message of it
    monitor = observer(system, "e2e-monitor")
    captured: list[bytes] = []
    got_one = threading.Event()

    def keep(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        captured.append(bytes(msg.payload))
        got_one.set()

    monitor.on_message = keep
    monitor.subscribe(topic, qos=1)
    assert got_one.wait(WAIT_S), "no telemetry from gw-plain"

    def forged_cycle() -> tuple[str, bytes]:
        """A new, valid cycle of gw-plain (a spool id ingest has never seen)."""
        nonce = uuid.uuid4().hex[:16]
        return nonce, json.dumps(json.loads(captured[0]) | {"sid": nonce, "s": 1}).encode()

    # WHEN a device with another thing's certificate publishes one on gw-plain's topic
    at_broker, at_broker_raw = forged_cycle()
    intruder = device(system, intruder_id)
    acks: dict[int, int] = {}
    intruder.on_publish = lambda _c, _u, mid, reason, _p: acks.__setitem__(mid, reason.value)
    info = intruder.publish(topic, at_broker_raw, qos=1)
    info.wait_for_publish(5)
    # THEN the broker refuses it: PUBACK "not authorized"
    assert acks[info.mid] == NOT_AUTHORIZED

    # WHEN a client the IoT policy does not bind (cloud side) publishes another forged cycle
    at_ingest, at_ingest_raw = forged_cycle()
    cloud_side = observer(system, intruder_id)
    cloud_side.publish(topic, at_ingest_raw, qos=1).wait_for_publish(5)
    letters: list[dict[str, Any]] = []

    def letter_for(raw: bytes) -> dict[str, Any] | None:
        letters.extend(probe.dead_letters())
        wanted = base64.b64encode(raw).decode()
        return next((x for x in letters if (x.get("event") or {}).get("raw") == wanted), None)

    # THEN ingest dead-letters it, naming the client and the gateway it claimed to be
    letter = wait_for("the forged cycle dead-lettered", lambda: letter_for(at_ingest_raw), WAIT_S)
    assert repr(intruder_id) in letter["reason"] and repr(thing_of(TARGET)) in letter["reason"]
    assert letter["event"]["client_id"] == intruder_id  # the broker's view of the publisher
    # AND the one the broker refused never reached ingest; no cycle of either was stored
    time.sleep(HANDLER_MARGIN_S)
    assert letter_for(at_broker_raw) is None
    assert all(str(c.spool_id) not in {at_broker, at_ingest} for c in probe.cycles(TARGET))

    # WHEN the clients disconnect
    for client in (monitor, intruder, cloud_side):
        client.loop_stop()
        client.disconnect()

    # THEN the intruder (shaped like a gateway, registered as none) is an unknown client
    # on connecting and disconnecting, and those letters also show that the presence events
    # of the monitor, which came before, were handled ...
    def intruder_presence() -> list[dict[str, Any]] | None:
        letters.extend(probe.dead_letters())
        found = [x for x in letters if x.get("reason") == f"unknown client {intruder_id}"]
        return found if len(found) >= 4 else None

    wait_for("the intruder's presence dead-lettered", intruder_presence, WAIT_S)
    time.sleep(HANDLER_MARGIN_S)
    # ... without a dead letter: a monitoring client is plainly not a gateway
    letters.extend(probe.dead_letters())
    assert not [x for x in letters if "e2e-monitor" in json.dumps(x)]
