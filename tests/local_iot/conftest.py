"""A real mosquitto, the local IoT runtime and an SQS stand-in (moto server) per session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest
from iot_helpers import AttachedPolicies, Device, Recorder, free_port, recording_app

from local_iot import LocalIot, LocalIotSettings


@pytest.fixture(scope="session")
def sqs_standin() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    saved = dict(os.environ)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "ap-northeast-1",
            "AWS_DEFAULT_REGION": "ap-northeast-1",
        }
    )
    try:
        yield endpoint
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="session")
def attempts() -> dict[str, int]:
    return {}


@pytest.fixture(scope="session")
def attached_policies() -> AttachedPolicies:
    return AttachedPolicies()


@pytest.fixture(scope="session")
def local_iot(
    sqs_standin: str,
    recorder: Recorder,
    attempts: dict[str, int],
    attached_policies: AttachedPolicies,
) -> Iterator[LocalIot]:
    settings = LocalIotSettings(stage="iottest", retry_delay_ms=10)
    iot = LocalIot(settings, recording_app(recorder, attempts), policies=attached_policies).start()
    # Only the endpoint variable changes: the cloud code's boto3 client is built as in AWS.
    os.environ.update(iot.env())
    try:
        yield iot
    finally:
        iot.stop()


@pytest.fixture
def device_factory(local_iot: LocalIot) -> Iterator[Callable[..., Device]]:
    made: list[Device] = []

    def make(client_id: str, protocol: int = mqtt.MQTTv311) -> Device:
        # Cloud-side clients: the rules and shadows tests, not the policy (test_policy_gate).
        device = Device(local_iot.internal_mqtt_port, client_id, protocol)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()


@pytest.fixture
def gateway_factory(local_iot: LocalIot) -> Iterator[Callable[..., Device]]:
    """Devices on the device endpoint: TLS with a certificate of the thing ``thing``."""
    made: list[Device] = []

    def make(
        thing: str,
        client_id: str | None = None,
        protocol: int = mqtt.MQTTv5,
        attached: bool = True,
    ) -> Device:
        assert local_iot.ca is not None
        credentials = local_iot.ca.issue(thing, attached=attached)
        device = Device(local_iot.mqtt_port, client_id or thing, protocol, credentials)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()
