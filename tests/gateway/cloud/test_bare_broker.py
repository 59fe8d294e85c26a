"""As processes, without the cloud: a bare mosquitto, `python -m local_iot shadows`, the meter
simulator and the gateway. Relays follow the shadows set through the local iot-data API: a
keyed-relay meter (Fineco EM115: key from the serial number, two-register write) and an
SDM120 paired with a relay-module channel; telemetry names the profiles it runs."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from process_rig import (
    ENV,
    REPO,
    THING,
    Gateway,
    Ingest,
    Mosquitto,
    Simulator,
    gateway_config,
    wait_until,
)

METERS = [
    {"meter_id": "flat-a", "address": 1, "profile": "fineco_em115",
     "relay": {"address": 1, "profile": "fineco_em115"}},
    {"meter_id": "shop-b", "address": 2, "profile": "sdm120",
     "relay": {"address": 101, "profile": "relay_module", "channel": 3}},
]  # fmt: skip


class LocalShadows:
    """`python -m local_iot shadows --mqtt-port <broker>`: the shadow service alone."""

    def __init__(self, mqtt_port: int) -> None:
        env = {**ENV, "PYTHONPATH": f"{REPO / 'infra'}:{ENV['PYTHONPATH']}"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "local_iot", "shadows", "--mqtt-port", str(mqtt_port),
             "--shadow-api-port", "0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.endpoint = json.loads(self.proc.stdout.readline())["AWS_ENDPOINT_URL_IOT_DATA_PLANE"]

    def _url(self, meter_id: str) -> str:
        return f"{self.endpoint}/things/{THING}/shadow?name=meter-{meter_id}"

    def set_desired(self, meter_id: str, desired: dict[str, object]) -> None:
        body = json.dumps({"state": {"desired": desired}}).encode()
        request = urllib.request.Request(self._url(meter_id), data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:  # loopback only
            assert answer.status == 200

    def reported(self, meter_id: str) -> dict[str, object]:
        try:
            with urllib.request.urlopen(self._url(meter_id), timeout=5) as answer:
                return json.loads(answer.read())["state"].get("reported") or {}
        except urllib.error.HTTPError:
            return {}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def rig(tmp_path):
    broker = Mosquitto(tmp_path)
    broker.start()
    shadows = LocalShadows(broker.port)
    sim = Simulator(tmp_path, "fineco_em115:1,sdm120:2@101/3,relay_module:101", time_scale=60)
    ingest = Ingest(broker)
    gateway = Gateway(tmp_path, gateway_config(tmp_path, sim, broker, meters=METERS))
    yield shadows, sim, ingest, gateway
    gateway.stop()
    ingest.stop()
    sim.stop()
    shadows.stop()
    broker.stop()


def test_relays_follow_local_shadows_on_a_bare_broker(rig):
    shadows, sim, ingest, gateway = rig
    # GIVEN the gateway running against the bare broker and the local shadow service
    gateway.start()
    wait_until(lambda: len(ingest.messages()) >= 2, timeout_s=20, what="telemetry")
    # WHEN a person switches both meters off through the local iot-data API
    for meter_id in ("flat-a", "shop-b"):
        shadows.set_desired(
            meter_id, {"power": "off", "cmd": "c1", "reason": "manual_off", "cutoff": None}
        )
    # THEN the keyed relay and the module channel open, and both are reported off
    wait_until(
        lambda: not sim.meter(1)["relay_on"] and not sim.meter(2)["relay_on"],
        timeout_s=20,
        what="relays open",
    )
    wait_until(
        lambda: all(shadows.reported(m).get("power") == "off" for m in ("flat-a", "shop-b")),
        timeout_s=20,
        what="reports",
    )
    assert shadows.reported("flat-a").get("cmd") == "c1"
    # AND telemetry names the profiles the gateway reads the meters with
    latest = ingest.messages()[-1]
    assert set(latest["pv"]) == {"fineco_em115", "sdm120", "relay_module"}
    assert "refused" not in gateway.logs()
