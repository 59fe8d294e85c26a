"""MQTT clients of the end-to-end tier: cloud-side observers on mosquitto's internal port,
and devices on the device endpoint (TLS, a certificate of their thing, policies enforced)."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt

from local_run.system import LocalSystem

CONNECT_WAIT_S = 10.0


def observer(system: LocalSystem, client_id: str) -> mqtt.Client:
    """What an IAM principal is in AWS (the console's test client, say): no IoT policy."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    return _started(client, system.internal_mqtt_port)


def device(system: LocalSystem, thing: str, client_id: str | None = None) -> mqtt.Client:
    """A device holding a certificate of ``thing``, over TLS, MQTT 5."""
    assert system.ca is not None
    credentials = system.ca.issue(thing)
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or thing, protocol=mqtt.MQTTv5
    )
    client.tls_set(
        ca_certs=str(credentials.ca_path),
        certfile=str(credentials.cert_path),
        keyfile=str(credentials.key_path),
    )
    return _started(client, system.mqtt_port)


def _started(client: mqtt.Client, port: int) -> mqtt.Client:
    connected = threading.Event()
    client.on_connect = lambda *_args: connected.set()
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    assert connected.wait(CONNECT_WAIT_S), "no CONNACK"
    return client
