"""`python -m local_iot shadows`: the shadow service alone, for a gateway on a bare broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

from iot_helpers import Device, free_port

from local_iot.shadows_only import StandaloneShadows

THING = "gw-bare-1"
PREFIX = f"$aws/things/{THING}/shadow/name/meter-flat-1"


def _set_desired(endpoint: str, desired: dict[str, object]) -> None:
    # What a person does without the cloud: the iot-data API, here with plain HTTP.
    request = urllib.request.Request(
        f"{endpoint}/things/{THING}/shadow?name=meter-flat-1",
        data=json.dumps({"state": {"desired": desired}}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # loopback only
        assert answer.status == 200


def test_a_bare_broker_with_the_shadow_service_answers_a_gateways_shadow_traffic() -> None:
    # GIVEN a bare mosquitto and the shadow service started beside it
    with StandaloneShadows(free_port(), start_broker=True) as shadows:
        device = Device(shadows.mqtt_port, THING).subscribe(f"{PREFIX}/#")
        # WHEN the gateway asks for a shadow nobody has written
        device.publish(f"{PREFIX}/get", b'{"clientToken":"t1"}')
        # THEN it gets the AWS answer (404), not silence
        assert json.loads(device.wait_for(f"{PREFIX}/get/rejected"))["code"] == 404
        # WHEN a person sets desired through the HTTP API
        _set_desired(shadows.endpoint, {"power": "off", "cmd": "c1", "reason": "manual_off"})
        # THEN the gateway gets the delta it switches relays on
        delta = json.loads(device.wait_for(f"{PREFIX}/update/delta"))
        assert delta["state"]["cmd"] == "c1" and delta["state"]["power"] == "off"
        # AND its report is stored, as the cloud side sees it
        device.publish(f"{PREFIX}/update", b'{"state":{"reported":{"power":"off","cmd":"c1"}}}')
        url = f"{shadows.endpoint}/things/{THING}/shadow?name=meter-flat-1"
        deadline = time.monotonic() + 5
        while True:
            with urllib.request.urlopen(url, timeout=5) as answer:  # loopback only
                document = json.loads(answer.read())
            if document["state"].get("reported") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert document["state"]["reported"] == {"power": "off", "cmd": "c1"}
        device.close()


def test_the_command_line_starts_and_stops_cleanly() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "local_iot", "shadows", "--mqtt-port", str(port),
         "--shadow-api-port", "0", "--start-broker"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        printed = json.loads(process.stdout.readline())
        assert printed["AWS_ENDPOINT_URL_IOT_DATA_PLANE"].startswith("http://127.0.0.1:")
        device = Device(port, THING).subscribe(f"{PREFIX}/#")
        device.publish(f"{PREFIX}/get", b"{}")
        assert json.loads(device.wait_for(f"{PREFIX}/get/rejected"))["code"] == 404
        device.close()
    finally:
        process.terminate()
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.returncode == 0
