"""The emulation's own MQTT connection to the broker (paho-mqtt, MQTT 5)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .errors import BrokerStartError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
KEEPALIVE_S = 30
MAX_INFLIGHT = 100
MAX_OUTGOING_QUEUE = 10_000


class MqttLink:
    """Connects, subscribes to ``filters`` (again after a reconnect), and publishes."""

    def __init__(
        self,
        port: int,
        client_id: str,
        filters: Sequence[str],
        on_message: Callable[[str, bytes, bool], None],
    ) -> None:
        self.port = port
        self.client_id = client_id
        self._filters = list(filters)
        self._on_message = on_message
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self._client.max_inflight_messages_set(MAX_INFLIGHT)
        self._client.max_queued_messages_set(MAX_OUTGOING_QUEUE)
        self._client.on_connect = self._connected
        self._client.on_subscribe = lambda *_args: self._subscribed.set()
        self._client.on_message = self._message

    def start(self) -> None:
        self._client.connect("127.0.0.1", self.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        if not self._subscribed.wait(CONNECT_TIMEOUT_S):
            self.stop()
            raise BrokerStartError(f"could not connect and subscribe to the broker on {self.port}")

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.error("publish to %s failed: %s", topic, mqtt.error_string(info.rc))

    def _connected(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        if self._filters:
            client.subscribe([(f, 1) for f in self._filters])
        else:
            self._subscribed.set()

    def _message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self._on_message(message.topic, bytes(message.payload), bool(message.retain))
        except Exception:  # one bad message must not stop the network loop
            log.exception("handling a message on %s failed", message.topic)
