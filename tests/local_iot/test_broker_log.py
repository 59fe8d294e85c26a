"""mosquitto 2.0 log lines become connect, disconnect and publish events."""

from __future__ import annotations

import pytest

from local_iot.broker_log import (
    ClientConnected,
    ClientDisconnected,
    PublishReceived,
    parse_line,
)


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (
            "1795826534: New client connected from 127.0.0.1:51419 as gw-1 (p5, c1, k60).",
            ClientConnected("gw-1", "127.0.0.1", None),
        ),
        (
            "1795826534: New client connected from 127.0.0.1:51319 as gw 2 (p2, c1, k60, u'alice').",
            ClientConnected("gw 2", "127.0.0.1", "alice"),
        ),
        (
            # what an awscrt (AWS IoT SDK) MQTT 5 client looks like: parentheses in the username
            "1795832746: New client connected from 127.0.0.1:60386 as powerlet-formosa-gw-tpe-1"
            " (p5, c1, k60, u'?SDK=IoTDeviceSDK/Python&Platform=Unix&Metadata=(CRTVersion=0.36.1;"
            "IoTSDKFeature=B/A,F/5,G/A;IoTSDKMetricsVersion=1)').",
            ClientConnected(
                "powerlet-formosa-gw-tpe-1",
                "127.0.0.1",
                "?SDK=IoTDeviceSDK/Python&Platform=Unix&Metadata=(CRTVersion=0.36.1;"
                "IoTSDKFeature=B/A,F/5,G/A;IoTSDKMetricsVersion=1)",
            ),
        ),
        ("1: Client gw-1 disconnected.", ClientDisconnected("gw-1", "CLIENT_INITIATED_DISCONNECT")),
        ("1: Client gw-1 closed its connection.", ClientDisconnected("gw-1", "CONNECTION_LOST")),
        (
            "1: Client gw-1 has exceeded timeout, disconnecting.",
            ClientDisconnected("gw-1", "MQTT_KEEP_ALIVE_TIMEOUT"),
        ),
        (
            "1: Client dup already connected, closing old connection.",
            ClientDisconnected("dup", "DUPLICATE_CLIENTID"),
        ),
        (
            "1: Client gw-1 disconnected due to protocol error.",
            ClientDisconnected("gw-1", "CLIENT_ERROR"),
        ),
        (
            "1: Received PUBLISH from gw 1 (d0, q1, r0, m2, 'x/y z', ... (2 bytes))",
            PublishReceived("gw 1", "x/y z", 2, False),
        ),
        ("1: Client <unknown> closed its connection.", None),
        ("1: Sending PUBLISH to gw 1 (d0, q1, r0, m1, 'x/y z', ... (2 bytes))", None),
        ("1: mosquitto version 2.0.11 running", None),
    ],
)
def test_log_lines(line: str, event: object) -> None:
    assert parse_line(line + "\n") == event
