"""The local IoT against a real mosquitto: rules, shadows over MQTT and iot-data, presence."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
import uuid

import boto3
import paho.mqtt.client as mqtt
import pytest
from botocore.exceptions import ClientError
from iot_helpers import WAIT_S, Recorder

from local_iot import LocalIot


def iot_data():
    # Built exactly as the cloud code builds it: no endpoint_url, the variable decides.
    return boto3.client("iot-data", region_name="ap-northeast-1")


def test_telemetry_reaches_ingest_with_the_aws_event_shape(
    local_iot: LocalIot, device_factory, recorder: Recorder
) -> None:
    # GIVEN a gateway connected with its thing name as client id
    gateway = device_factory("gw-tele-1")
    payload = json.dumps({"v": 1, "g": "somebody-else", "s": 1}).encode()
    before_ms = time.time_ns() // 1_000_000
    # WHEN it publishes one telemetry message, QoS 1
    gateway.publish("powerlet/gw/gw-tele-1/telemetry", payload)
    # THEN ingest_telemetry gets the rule's event: raw bytes, gateway from topic and client id
    [(_, event, context)] = recorder.wait_for(
        lambda n, e: n == "ingest_telemetry" and e.get("thing_name") == "gw-tele-1"
    )
    assert set(event) == {"raw", "thing_name", "client_id", "received_at_ms"}
    assert base64.b64decode(event["raw"]) == payload
    assert event["client_id"] == "gw-tele-1"
    assert before_ms <= event["received_at_ms"] <= time.time_ns() // 1_000_000
    assert context.function_name == "ingest_telemetry"
    assert 0 < context.get_remaining_time_in_millis() <= 60_000


def test_client_id_is_the_real_publisher_even_on_another_gateways_topic(
    local_iot: LocalIot, device_factory, recorder: Recorder
) -> None:
    intruder = device_factory("not-gw-tele-2")
    intruder.publish("powerlet/gw/gw-tele-2/telemetry", b"not json at all")
    [(_, event, _)] = recorder.wait_for(
        lambda n, e: n == "ingest_telemetry" and e.get("thing_name") == "gw-tele-2"
    )
    assert event["client_id"] == "not-gw-tele-2"
    assert base64.b64decode(event["raw"]) == b"not json at all"


def test_cloud_desired_state_reaches_the_device_as_delta_and_documents(
    local_iot: LocalIot, device_factory, recorder: Recorder
) -> None:
    # GIVEN a gateway subscribed to its meter's shadow topics
    prefix = "$aws/things/gw-sh-1/shadow/name/meter-m1"
    gateway = device_factory("gw-sh-1").subscribe(
        f"{prefix}/update/delta", f"{prefix}/update/documents"
    )
    desired = {"power": "off", "reason": "credit_exhausted", "cmd": "c-1", "cutoff": None}
    # WHEN the cloud writes the desired state through boto3's iot-data client
    answer = iot_data().update_thing_shadow(
        thingName="gw-sh-1",
        shadowName="meter-m1",
        payload=json.dumps({"state": {"desired": desired}, "clientToken": "cloud-1"}),
    )
    accepted = json.loads(answer["payload"].read())
    assert accepted["state"] == {"desired": desired} and accepted["clientToken"] == "cloud-1"
    # THEN the device gets the delta (no cutoff: null deletes) and the documents message
    delta = json.loads(gateway.wait_for(f"{prefix}/update/delta"))
    assert delta["state"] == {"power": "off", "reason": "credit_exhausted", "cmd": "c-1"}
    assert delta["version"] == accepted["version"]
    documents = json.loads(gateway.wait_for(f"{prefix}/update/documents"))
    assert documents["previous"] is None
    assert documents["current"]["state"]["desired"]["cmd"] == "c-1"
    # AND the relay_confirmation rule hands the documents message to its handler
    [(_, event, _)] = recorder.wait_for(
        lambda n, e: n == "relay_confirmation" and e.get("thing_name") == "gw-sh-1"
    )
    assert event["shadow_name"] == "meter-m1"
    assert event["current"] == documents["current"]
    assert isinstance(event["received_at_ms"], int)


def test_device_report_is_accepted_and_the_cloud_reads_it(
    local_iot: LocalIot, device_factory
) -> None:
    prefix = "$aws/things/gw-sh-2/shadow/name/meter-m2"
    gateway = device_factory("gw-sh-2").subscribe(f"{prefix}/update/accepted")
    reported = {"power": "on", "cmd": None, "source": "startup", "at": 1_700_000_000}
    # WHEN the gateway reports over MQTT
    gateway.publish(
        f"{prefix}/update",
        json.dumps({"state": {"reported": reported}, "clientToken": "gw-1"}).encode(),
    )
    # THEN it is accepted with its token echoed
    accepted = json.loads(gateway.wait_for(f"{prefix}/update/accepted"))
    assert accepted["clientToken"] == "gw-1" and accepted["state"] == {"reported": reported}
    # AND the cloud's get_thing_shadow sees the reported state and metadata
    shadow = json.loads(
        iot_data().get_thing_shadow(thingName="gw-sh-2", shadowName="meter-m2")["payload"].read()
    )
    # (a null in an update deletes the key, as in AWS: "cmd" is not stored)
    assert shadow["state"]["reported"] == {k: v for k, v in reported.items() if v is not None}
    assert shadow["metadata"]["reported"]["power"]["timestamp"] == accepted["timestamp"]
    names = iot_data().list_named_shadows_for_thing(thingName="gw-sh-2")["results"]
    assert names == ["meter-m2"]


def test_a_stale_version_is_rejected_over_mqtt_and_over_the_api(
    local_iot: LocalIot, device_factory
) -> None:
    prefix = "$aws/things/gw-sh-3/shadow/name/meter-m3"
    client = iot_data()
    client.update_thing_shadow(
        thingName="gw-sh-3", shadowName="meter-m3", payload=b'{"state":{"desired":{"power":"on"}}}'
    )
    client.update_thing_shadow(
        thingName="gw-sh-3", shadowName="meter-m3", payload=b'{"state":{"desired":{"power":"off"}}}'
    )
    gateway = device_factory("gw-sh-3").subscribe(f"{prefix}/update/rejected")
    gateway.publish(
        f"{prefix}/update",
        b'{"state":{"reported":{"power":"on"}},"version":1,"clientToken":"stale"}',
    )
    rejected = json.loads(gateway.wait_for(f"{prefix}/update/rejected"))
    assert rejected["code"] == 409 and rejected["clientToken"] == "stale"
    with pytest.raises(ClientError) as caught:
        client.update_thing_shadow(
            thingName="gw-sh-3",
            shadowName="meter-m3",
            payload=b'{"state":{"desired":{"power":"on"}},"version":1}',
        )
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_thing_shadow(thingName="gw-sh-3", shadowName="meter-none")


def test_get_over_mqtt_answers_with_the_delta(local_iot: LocalIot, device_factory) -> None:
    prefix = "$aws/things/gw-sh-4/shadow/name/meter-m4"
    iot_data().update_thing_shadow(
        thingName="gw-sh-4", shadowName="meter-m4", payload=b'{"state":{"desired":{"power":"off"}}}'
    )
    gateway = device_factory("gw-sh-4").subscribe(f"{prefix}/get/accepted")
    gateway.publish(f"{prefix}/get", b'{"clientToken":"g"}')
    document = json.loads(gateway.wait_for(f"{prefix}/get/accepted"))
    assert document["state"]["delta"] == {"power": "off"} and document["clientToken"] == "g"


def _raw_connect(port: int, client_id: str) -> socket.socket:
    """An MQTT 3.1.1 CONNECT by hand, so the test can drop the TCP connection uncleanly."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    sock.sendall(bytes([0x10, len(body)]) + body)
    assert sock.recv(4) == b"\x20\x02\x00\x00", "no CONNACK"
    return sock


def test_presence_events_for_a_clean_and_an_unclean_disconnect(
    local_iot: LocalIot, device_factory, recorder: Recorder
) -> None:
    # GIVEN one gateway that disconnects properly and one whose connection just dies
    clean = device_factory("gw-pres-clean", protocol=mqtt.MQTTv5)
    recorder.wait_for(lambda n, e: n == "gateway_presence" and e["clientId"] == "gw-pres-clean")
    clean.close()
    dropped = _raw_connect(local_iot.internal_mqtt_port, "gw-pres-dropped")
    recorder.wait_for(lambda n, e: n == "gateway_presence" and e["clientId"] == "gw-pres-dropped")
    dropped.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    dropped.close()  # RST, no DISCONNECT packet
    # THEN each gets connected then disconnected, with AWS's reason and the same session
    for client_id, reason in [
        ("gw-pres-clean", "CLIENT_INITIATED_DISCONNECT"),
        ("gw-pres-dropped", "CONNECTION_LOST"),
    ]:
        events = [
            e
            for _, e, _ in recorder.wait_for(
                lambda n, e, cid=client_id: (
                    n == "gateway_presence"
                    and e["clientId"] == cid
                    and e["eventType"] == "disconnected"
                )
            )
        ]
        connected = next(
            e
            for n, e, _ in recorder.calls
            if n == "gateway_presence"
            and e["clientId"] == client_id
            and e["eventType"] == "connected"
        )
        [gone] = events
        assert gone["disconnectReason"] == reason
        assert gone["clientInitiatedDisconnect"] is (reason == "CLIENT_INITIATED_DISCONNECT")
        assert gone["sessionIdentifier"] == connected["sessionIdentifier"]
        assert gone["versionNumber"] == connected["versionNumber"] + 1
        assert connected["ipAddress"] == "127.0.0.1"
        assert gone["timestamp"] >= connected["timestamp"]
        assert isinstance(gone["received_at_ms"], int)


def test_a_handler_that_keeps_raising_sends_the_event_to_the_dead_letter_queue(
    local_iot: LocalIot, device_factory, recorder: Recorder, attempts: dict[str, int]
) -> None:
    # GIVEN a message that makes the ingest handler raise every time
    marker = f"boom-{uuid.uuid4().hex}".encode()
    device_factory("gw-dlq").publish("powerlet/gw/gw-dlq/telemetry", marker)
    raw = base64.b64encode(marker).decode()
    # THEN after AWS's two retries the on-failure record carries the event and the error
    sqs = boto3.client("sqs", region_name="ap-northeast-1")
    url = sqs.get_queue_url(QueueName="powerlet-iottest-dead-letters")["QueueUrl"]
    record = None
    deadline = time.monotonic() + WAIT_S
    while record is None and time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("requestPayload", {}).get("raw") == raw:
                record = body
    assert record is not None, "no dead letter for the failing event"
    assert attempts[raw] == 3
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["functionArn"].endswith(
        ":function:powerlet-iottest-ingest_telemetry:$LATEST"
    )
    assert record["requestPayload"]["thing_name"] == "gw-dlq"
    assert record["responsePayload"] == {
        "errorMessage": "ingest exploded on purpose",
        "errorType": "ValueError",
    }


def test_handlers_in_this_process_reach_the_emulations_shadows(
    sqs_standin: str, recorder: Recorder, attempts: dict[str, int]
) -> None:
    # GIVEN a process with no iot-data endpoint set (as `python -m local_iot` starts)
    from iot_helpers import recording_app

    from local_iot import LocalIotSettings
    from local_iot.settings import ENV_IOT_DATA_ENDPOINT

    saved = os.environ.pop(ENV_IOT_DATA_ENDPOINT, None)
    iot = LocalIot(LocalIotSettings(stage="iotenv"), recording_app(recorder, attempts))
    try:
        # WHEN the emulation starts
        iot.start()
        # THEN the handlers it runs in this process write shadows into the emulation (that
        # the device sees), not into the AWS stand-in (regression: under `make run` the
        # policy's relay decisions never reached the gateways)
        assert os.environ[ENV_IOT_DATA_ENDPOINT] == iot.iot_data_endpoint
    finally:
        iot.stop()
        if saved is None:
            os.environ.pop(ENV_IOT_DATA_ENDPOINT, None)
        else:
            os.environ[ENV_IOT_DATA_ENDPOINT] = saved
