"""The Device Shadow service alone, for a gateway on a bare MQTT broker (no cloud, no rules).

A gateway in plain-MQTT mode switches relays only through its named shadows
(``meter-<meterId>``): it asks ``$aws/things/<thing>/shadow/name/<name>/get`` and waits for
``update/delta``. A bare broker answers neither, so the relays never move and the gateway
keeps retrying its gets. ``python -m local_iot shadows`` supplies that service against any
broker on loopback (or starts its own mosquitto), and the ``iot-data`` HTTP API beside it,
so a person or a script can set ``desired`` without the cloud (docs/gateway.md, "Local use
without the cloud").
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import tempfile
import threading
from pathlib import Path

from .broker import Mosquitto
from .mqtt_link import MqttLink
from .shadow_http import ShadowApiServer
from .shadow_service import REQUEST_FILTERS, ShadowService

log = logging.getLogger(__name__)

CLIENT_ID = "powerlet-local-shadows"


class StandaloneShadows:
    """ShadowService over MQTT on ``mqtt_port`` plus its HTTP API on ``api_port`` (0 = any)."""

    def __init__(self, mqtt_port: int, api_port: int = 0, start_broker: bool = False) -> None:
        self.mqtt_port = mqtt_port
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self.broker: Mosquitto | None = None
        if start_broker:
            self._tempdir = tempfile.TemporaryDirectory(prefix="local-shadows-")
            self.broker = Mosquitto(mqtt_port, Path(self._tempdir.name), lambda _event: None)
        self.shadows = ShadowService(lambda topic, payload: self._publish(topic, payload, 1))
        self._link = MqttLink(mqtt_port, CLIENT_ID, list(REQUEST_FILTERS), self._on_message)
        self._api = ShadowApiServer(self.shadows, api_port, self._publish)

    @property
    def endpoint(self) -> str:
        return self._api.endpoint

    def start(self) -> StandaloneShadows:
        if self.broker is not None:
            self.broker.start()
        self._link.start()
        self._api.start()
        log.info("shadow service on mqtt 127.0.0.1:%d, iot-data %s", self.mqtt_port, self.endpoint)
        return self

    def stop(self) -> None:
        self._api.stop()
        self._link.stop()
        if self.broker is not None:
            self.broker.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def __enter__(self) -> StandaloneShadows:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        self.shadows.on_message(topic, payload, retained)

    def _publish(self, topic: str, payload: bytes, qos: int) -> None:
        self._link.publish(topic, payload, qos=min(qos, 1))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_iot shadows", description=__doc__)
    parser.add_argument("--mqtt-port", type=int, default=1883, help="the broker's port (loopback)")
    parser.add_argument("--shadow-api-port", type=int, default=5081)
    parser.add_argument(
        "--start-broker", action="store_true", help="start a mosquitto on --mqtt-port as well"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s local_iot %(levelname)s %(message)s"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with StandaloneShadows(args.mqtt_port, args.shadow_api_port, args.start_broker) as shadows:
        env = {"AWS_ENDPOINT_URL_IOT_DATA_PLANE": shadows.endpoint, "MQTT_PORT": args.mqtt_port}
        print(json.dumps(env), flush=True)
        stop.wait()
    return 0
