"""Who sent it: ingest accepts a gateway's own MQTT clients only (pure)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.pipeline.errors import (
    ForeignSenderError,
    InvalidTelemetryError,
    MissingClientIdError,
)
from chalicelib.pipeline.senders import (
    is_extra_connection,
    looks_like_thing_name,
    thing_name_for,
    thing_of_client,
)
from chalicelib.pipeline.telemetry import parse_event
from local_aws import demo_data

THING = thing_name_for("co-1", "gw-a")
OTHER = thing_name_for("co-1", "gw-b")


def event(client_id: Any = THING, *, omit_client: bool = False) -> dict[str, Any]:
    """A valid cycle on THING's topic, published by ``client_id``."""
    document = {
        "v": 1,
        "g": THING,
        "sid": "0123456789abcdef",
        "s": 1,
        "t": 1_795_000_000_000,
        "d": 300,
        "sp": {"n": 0, "th": 0, "dr": 0},
        "m": [{"i": "m1", "dt": 20, "ie": "12.345"}],
    }
    out = {
        "raw": base64.b64encode(json.dumps(document).encode()).decode(),
        "thing_name": THING,
        "client_id": client_id,
        "received_at_ms": 1_795_000_001_000,
    }
    if omit_client:
        del out["client_id"]
    return out


@pytest.mark.parametrize("client_id", [THING, f"{THING}#1", f"{THING}#2", f"{THING}#99"])
def test_the_gateway_and_its_numbered_connections_are_accepted(client_id: str) -> None:
    # GIVEN a cycle on the gateway's topic from its own client (or the nucleus's #n one)
    # WHEN parsed THEN it is the gateway's telemetry
    assert parse_event(event(client_id)).thing_name == THING


@pytest.mark.parametrize(
    "client_id",
    [
        OTHER,  # another gateway
        f"{THING}x",  # a prefix trick
        f"x{THING}",
        f"{THING}#",
        f"{THING}#0",
        f"{THING}#-1",
        f"{THING}#01",  # the nucleus never pads
        f"{THING}#100",  # far beyond any bus's connections
        f"{THING}#2#3",
        f"{THING}#2 ",
        f"{OTHER}#2",
        "#2",
        "e2e-monitor",
    ],
)
def test_any_other_client_is_refused_naming_client_and_gateway(client_id: str) -> None:
    # GIVEN a valid cycle on THING's topic published by a client that is not THING
    # WHEN parsed THEN it is refused, and the reason says who claimed which gateway
    with pytest.raises(ForeignSenderError) as caught:
        parse_event(event(client_id))
    assert repr(client_id) in caught.value.reason and repr(THING) in caught.value.reason
    assert isinstance(caught.value, InvalidTelemetryError)  # ingest dead-letters it


@pytest.mark.parametrize("client_id", [None, "", "n/a", 42])
def test_a_message_without_an_mqtt_client_id_is_refused(client_id: Any) -> None:
    # GIVEN the rule gave no usable client id (undefined, or "n/a": not sent over MQTT)
    # WHEN parsed THEN it is refused: nothing shows the gateway sent it
    for missing in (event(client_id), event(omit_client=True)):
        with pytest.raises(MissingClientIdError) as caught:
            parse_event(missing)
        assert "no MQTT client id" in caught.value.reason and THING in caught.value.reason


def test_the_sender_is_checked_before_the_payload_is_read() -> None:
    # GIVEN a foreign client's message that is not even JSON
    bad = event(OTHER) | {"raw": base64.b64encode(b"not json").decode()}
    # WHEN parsed THEN the refusal is about the sender, not the payload
    with pytest.raises(ForeignSenderError):
        parse_event(bad)


def test_thing_of_client_reads_the_nucleus_names() -> None:
    assert thing_of_client(THING) == THING
    assert thing_of_client(f"{THING}#7") == THING
    assert thing_of_client(f"{THING}#0") is None and thing_of_client("#3") is None
    assert is_extra_connection(f"{THING}#2")
    assert not is_extra_connection(THING) and not is_extra_connection(f"{THING}#x")


@pytest.mark.parametrize(
    "client_id",
    [
        "e2e-monitor",
        "powerlet-local-iot",  # the local emulation's own client
        "auto-3F2504E0-4F89-11D3-9A0C-0305E82C3301",  # mosquitto_sub without -i
        "mosq-Kp0cN8eXq2Zr7s",
        "paho123",
        "pl-",
        "pl-UPPER-gw",
    ],
)
def test_clients_that_are_plainly_not_gateways_do_not_look_like_thing_names(
    client_id: str,
) -> None:
    assert not looks_like_thing_name(client_id)


def test_product_thing_names_look_like_thing_names() -> None:
    longest = thing_name_for("c" * 32, "g" * 40)
    for name in (THING, thing_name_for("formosa", "gw-tpe-1"), longest):
        assert looks_like_thing_name(name)
    assert len(longest) <= 128  # AWS IoT's limit for thing names and client ids


def test_the_demo_gateways_are_named_as_the_product_names_them() -> None:
    # Presence looks up only such names: a demo gateway must be one.
    for gateway in demo_data.GATEWAYS:
        assert gateway["thing_name"] == thing_name_for(gateway["company_id"], gateway["gateway_id"])
