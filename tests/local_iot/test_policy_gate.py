"""The device endpoint enforces the deployed gateway policy: certificates over TLS, and
every CONNECT, PUBLISH, SUBSCRIBE and delivery evaluated per client with its thing bound."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from iot_helpers import WAIT_S, AttachedPolicies, Device, Recorder, wait_until

from local_iot import LocalIot

NOT_AUTHORIZED = 0x87
SUBACK_FAILURE_V3 = 0x80
GatewayFactory = Callable[..., Device]


def telemetry(thing: str) -> str:
    return f"powerlet/gw/{thing}/telemetry"


def shadow(thing: str, name: str) -> str:
    return f"$aws/things/{thing}/shadow/name/{name}"


def _ingested(recorder: Recorder, thing: str, raw: bytes) -> bool:
    wanted = base64.b64encode(raw).decode()
    return any(
        n == "ingest_telemetry" and e.get("thing_name") == thing and e.get("raw") == wanted
        for n, e, _ in list(recorder.calls)
    )


def test_a_gateway_publishes_and_subscribes_its_own_topics_over_tls(
    gateway_factory: GatewayFactory, recorder: Recorder
) -> None:
    # GIVEN gateway pl-own-gw1 connected over TLS with its certificate, as its thing name
    gateway = gateway_factory("pl-own-gw1")
    assert not gateway.connack.is_failure
    # WHEN it subscribes to its shadow answers and publishes telemetry
    gateway.subscribe("$aws/things/pl-own-gw1/shadow/name/+/update/delta")
    gateway.subscribe(f"{shadow('pl-own-gw1', 'meter-m1')}/get/accepted")
    info = gateway.publish(telemetry("pl-own-gw1"), b'{"v":1}')
    # THEN the broker grants both and ingest gets the message, naming the gateway as client
    assert gateway.subacks == [[1], [1]]
    assert gateway.pubacks[info.mid] < 0x80
    [(_, event, _)] = recorder.wait_for(
        lambda n, e: n == "ingest_telemetry" and e.get("thing_name") == "pl-own-gw1"
    )
    assert event["client_id"] == "pl-own-gw1"


def test_a_gateway_cannot_connect_under_another_client_id(
    gateway_factory: GatewayFactory, local_iot: LocalIot
) -> None:
    # WHEN pl-own-gw2's certificate connects as pl-other-gw2 (MQTT 5 and 3.1.1)
    refused5 = gateway_factory("pl-own-gw2", client_id="pl-other-gw2")
    refused3 = gateway_factory("pl-own-gw2", client_id="pl-other-gw2b", protocol=mqtt.MQTTv311)
    # THEN the CONNACK says "not authorized" (paho reports 3.1.1's code 5 as 0x87 too)
    assert refused5.connack.value == NOT_AUTHORIZED
    assert refused3.connack.value == NOT_AUTHORIZED
    assert local_iot.gate is not None
    refusal = next(r for r in local_iot.gate.refusals() if r.client_id == "pl-other-gw2")
    assert refusal.action == "iot:Connect" and refusal.resource.endswith(":client/pl-other-gw2")


def test_a_certificate_attached_to_no_thing_cannot_connect(
    gateway_factory: GatewayFactory,
) -> None:
    device = gateway_factory("pl-loose-gw1", attached=False)
    assert device.connack.value == NOT_AUTHORIZED


def test_a_client_without_a_certificate_gets_no_mqtt_session(local_iot: LocalIot) -> None:
    # GIVEN a TLS client that trusts the broker but presents no certificate
    assert local_iot.ca is not None
    context = ssl.create_default_context(cafile=str(local_iot.ca.ca_path))
    with socket.create_connection(("127.0.0.1", local_iot.mqtt_port), timeout=WAIT_S) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                # WHEN it sends a CONNECT (MQTT 3.1.1, client id "x")
                tls.sendall(bytes.fromhex("100d00044d5154540402001e000178"))
                answer = tls.recv(16)
        except (ssl.SSLError, ConnectionError):
            answer = b""
    # THEN the broker closes the connection without a CONNACK
    assert answer == b""


def test_a_publish_on_another_gateways_topic_is_refused_by_the_broker(
    gateway_factory: GatewayFactory, recorder: Recorder
) -> None:
    # GIVEN gateway pl-own-gw3 (MQTT 5)
    gateway = gateway_factory("pl-own-gw3")
    forged = b'{"forged":"gw3"}'
    # WHEN it publishes on pl-other-gw3's telemetry topic and on a shadow of another thing
    refused = gateway.publish(telemetry("pl-other-gw3"), forged)
    classic = gateway.publish("$aws/things/pl-own-gw3/shadow/update", b"{}")
    # THEN both PUBACKs say "not authorized" and nothing reaches ingest
    assert gateway.pubacks[refused.mid] == NOT_AUTHORIZED
    assert gateway.pubacks[classic.mid] == NOT_AUTHORIZED
    mark = gateway.publish(telemetry("pl-own-gw3"), b'{"mark":"gw3"}')
    assert gateway.pubacks[mark.mid] < 0x80
    wait_until(lambda: _ingested(recorder, "pl-own-gw3", b'{"mark":"gw3"}'))
    assert not _ingested(recorder, "pl-other-gw3", forged)


def test_an_mqtt311_client_is_disconnected_on_a_refused_publish(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = gateway_factory("pl-own-gw4", protocol=mqtt.MQTTv311)
    gateway.client.publish(telemetry("pl-other-gw4"), b"{}", qos=1)
    assert gateway.disconnected.wait(WAIT_S), "AWS IoT disconnects an MQTT 3.1.1 client"


def test_subscriptions_outside_the_policy_are_refused_one_by_one(
    gateway_factory: GatewayFactory,
) -> None:
    # GIVEN MQTT 5 and MQTT 3.1.1 gateways
    for protocol, failure in ((mqtt.MQTTv5, NOT_AUTHORIZED), (mqtt.MQTTv311, SUBACK_FAILURE_V3)):
        gateway = gateway_factory("pl-own-gw5", protocol=protocol)
        # WHEN one SUBSCRIBE asks for its own delta filter, another gateway's, and wildcards
        gateway.subscribe(
            "$aws/things/pl-own-gw5/shadow/name/+/update/delta",
            "$aws/things/pl-other-gw5/shadow/name/+/update/delta",
            "$aws/things/+/shadow/name/+/update/delta",
            "#",
        )
        # THEN only its own is granted (+ and # are literal characters to the policy)
        assert gateway.subacks[-1] == [1, failure, failure, failure], protocol
        gateway.close()


def test_a_message_the_policy_does_not_let_it_receive_is_not_delivered(
    gateway_factory: GatewayFactory, device_factory: Callable[..., Device]
) -> None:
    # GIVEN a gateway subscribed to every named shadow's delta of its thing (allowed)
    gateway = gateway_factory("pl-own-gw6").subscribe(
        "$aws/things/pl-own-gw6/shadow/name/+/update/delta"
    )
    cloud = device_factory("cloud-side-6")
    # WHEN deltas of a non-meter shadow and then of a meter shadow are published
    cloud.publish(f"{shadow('pl-own-gw6', 'secret')}/update/delta", b'{"state":{}}')
    cloud.publish(f"{shadow('pl-own-gw6', 'meter-m6')}/update/delta", b'{"state":{}}')
    # THEN it receives the meter's only: the policy grants Receive on meter-* shadows
    gateway.wait_for(f"{shadow('pl-own-gw6', 'meter-m6')}/update/delta")
    assert [t for t, _ in gateway.messages] == [f"{shadow('pl-own-gw6', 'meter-m6')}/update/delta"]


def test_removing_the_publish_statement_breaks_a_gateways_normal_publish(
    gateway_factory: GatewayFactory, attached_policies: AttachedPolicies, recorder: Recorder
) -> None:
    # GIVEN the gateway's own policy without its publish statement
    sid = "PublishTelemetryShadowRequestsJobsAndHealth"

    def without_publish(own: dict[str, Any]) -> dict[str, Any]:
        kept = [s for s in own["Statement"] if s["Sid"] != sid]
        assert len(kept) == len(own["Statement"]) - 1
        return {**own, "Statement": kept}

    attached_policies.edit = without_publish
    try:
        gateway = gateway_factory("pl-own-gw7")
        # WHEN the gateway publishes its telemetry as it always does
        info = gateway.publish(telemetry("pl-own-gw7"), b'{"cut":7}')
        # THEN the broker refuses it
        assert gateway.pubacks[info.mid] == NOT_AUTHORIZED
    finally:
        attached_policies.edit = None
    # AND with the deployed policy the same publish passes
    again = gateway_factory("pl-own-gw7")
    info = again.publish(telemetry("pl-own-gw7"), b'{"whole":7}')
    assert again.pubacks[info.mid] < 0x80
    wait_until(lambda: _ingested(recorder, "pl-own-gw7", b'{"whole":7}'))
    time.sleep(0.2)
    assert not _ingested(recorder, "pl-own-gw7", b'{"cut":7}')


def test_the_second_connection_of_a_nucleus_may_connect_and_publish(
    gateway_factory: GatewayFactory, recorder: Recorder
) -> None:
    # GIVEN the gateway's certificate on a second connection, as the nucleus names it
    second = gateway_factory("pl-own-gw8", client_id="pl-own-gw8#2")
    assert not second.connack.is_failure
    # WHEN it publishes telemetry and subscribes to a meter's shadow answers
    info = second.publish(telemetry("pl-own-gw8"), b'{"second":8}')
    second.subscribe(f"{shadow('pl-own-gw8', 'meter-m8')}/update/delta")
    # THEN both pass: the policy names the thing, no variable needs the client id to match
    assert second.pubacks[info.mid] < 0x80 and second.subacks == [[1]]
    wait_until(lambda: _ingested(recorder, "pl-own-gw8", b'{"second":8}'))
    # AND another thing's name with a suffix is no connection of it
    other = gateway_factory("pl-own-gw8", client_id="pl-own-gw80")
    assert other.connack.value == NOT_AUTHORIZED


def test_the_gateway_transport_stays_down_when_its_subscriptions_are_refused(
    local_iot: LocalIot, attached_policies: AttachedPolicies
) -> None:
    """The component's own MQTT transport against the device endpoint: a policy that lacks
    the subscribe statement keeps it down (and says why), the deployed one brings it up."""
    from meter_gateway.config import MqttConfig
    from meter_gateway.transport.mqtt import MqttTransport

    assert local_iot.ca is not None
    creds = local_iot.ca.issue("pl-own-gw9")
    settings = MqttConfig(
        host="localhost",
        port=local_iot.mqtt_port,
        tls=True,
        cert_path=str(creds.cert_path),
        key_path=str(creds.key_path),
        ca_path=str(creds.ca_path),
    )

    async def link_state() -> tuple[int, bool]:
        transport = MqttTransport(settings, "pl-own-gw9")
        await transport.start()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not transport.connections:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the SUBACK is in by now either way
        state = (transport.connections, transport.connected)
        await transport.stop()
        return state

    def without_subscribe(own: dict[str, Any]) -> dict[str, Any]:
        kept = [s for s in own["Statement"] if s["Sid"] != "SubscribeShadowAnswersAndJobs"]
        return {**own, "Statement": kept}

    attached_policies.edit = without_subscribe
    try:
        connections, up = asyncio.run(link_state())
    finally:
        attached_policies.edit = None
    assert connections >= 1 and not up
    assert asyncio.run(link_state())[1]
