"""Who sent it, locally as in AWS: a client that is not the gateway cannot put telemetry on
the gateway's topic into the books, and a monitoring client is no dead letter."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt

from .conftest import Running
from .portfolio import thing_of
from .probes import wait_for

TARGET = "gw-plain"
WAIT_S = 30.0
# Handlers run on a pool of workers: a moment for one dispatched just before the marker.
HANDLER_MARGIN_S = 1.0


def test_another_client_on_a_gateways_topic_is_refused_and_a_monitor_is_ignored(
    running: Running,
) -> None:
    probe, port = running.probe, running.system.mqtt_port
    topic = f"powerlet/gw/{thing_of(TARGET)}/telemetry"
    intruder_id = thing_of("gw-intruder")  # another thing's name, not this gateway's
    probe.dead_letters()  # start from an empty queue
    # GIVEN a monitoring client watching gw-plain's telemetry, and one real message of it
    monitor = _client(port, "e2e-monitor")
    captured: list[bytes] = []
    got_one = threading.Event()

    def keep(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        captured.append(bytes(msg.payload))
        got_one.set()

    monitor.on_message = keep
    monitor.subscribe(topic, qos=1)
    assert got_one.wait(WAIT_S), "no telemetry from gw-plain"
    # ... forged into a new, valid cycle of gw-plain (a spool id ingest has never seen)
    nonce = uuid.uuid4().hex[:16]
    forged = json.loads(captured[0]) | {"sid": nonce, "s": 1}
    forged_raw = json.dumps(forged).encode()

    # WHEN a client with another identity publishes it on gw-plain's topic
    intruder = _client(port, intruder_id)
    intruder.publish(topic, forged_raw, qos=1).wait_for_publish(5)
    letters: list[dict[str, Any]] = []

    def refused() -> dict[str, Any] | None:
        letters.extend(probe.dead_letters())
        wanted = base64.b64encode(forged_raw).decode()
        return next((x for x in letters if (x.get("event") or {}).get("raw") == wanted), None)

    # THEN ingest dead-letters it, naming the client and the gateway it claimed to be
    letter = wait_for("the forged cycle dead-lettered", refused, WAIT_S)
    assert repr(intruder_id) in letter["reason"] and repr(thing_of(TARGET)) in letter["reason"]
    assert letter["event"]["client_id"] == intruder_id  # the broker's view of the publisher
    # AND no cycle of that spool was stored
    assert all(str(c.spool_id) != nonce for c in probe.cycles(TARGET))

    # WHEN both clients disconnect
    for client in (monitor, intruder):
        client.loop_stop()
        client.disconnect()

    # THEN the intruder (shaped like a gateway, registered as none) is an unknown client
    # twice, and those two letters also show that the presence events of the monitor,
    # which came before, were handled ...
    def intruder_presence() -> list[dict[str, Any]] | None:
        letters.extend(probe.dead_letters())
        found = [x for x in letters if x.get("reason") == f"unknown client {intruder_id}"]
        return found if len(found) >= 2 else None

    wait_for("the intruder's presence dead-lettered", intruder_presence, WAIT_S)
    time.sleep(HANDLER_MARGIN_S)
    # ... without a dead letter: a monitoring client is plainly not a gateway
    letters.extend(probe.dead_letters())
    assert not [x for x in letters if "e2e-monitor" in json.dumps(x)]


def _client(port: int, client_id: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    return client
