"""Onboarding what a building really has: a Modbus TCP gateway instead of a serial port
(carried into the configuration the gateway component reads), and a prepaid unit only on
a meter something can switch off."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meter_gateway.config import parse_config

from .conftest import ResellerApi
from .test_reseller_api import FLAT, company_body, gateway_body

pytestmark = pytest.mark.functional

CO = "tcp-rentals"
GATEWAYS = f"/v1/reseller/companies/{CO}/gateways"


@pytest.fixture(scope="module")
def company(reseller_api: ResellerApi) -> str:
    made = reseller_api.call("POST", "/v1/reseller/companies", company_body(CO), "co-tcp")
    assert made.status_code == 201, made.body
    return CO


def tcp_gateway(gateway_id: str, **bus: Any) -> dict[str, Any]:
    return {**gateway_body(gateway_id), "bus": {"transport": "tcp", **bus}}


def meter(meter_id: str, address: int, profile: str, billing_mode: str, **extra: Any) -> Any:
    unit = {
        "unit_id": f"u-{meter_id}",
        "name": "Flat",
        "unit_type": "flat",
        "billing_mode": billing_mode,
        "tariff": FLAT,
    }
    return {"meter_id": meter_id, "profile": profile, "bus_address": address, "unit": unit} | extra


def field_errors(response: Any) -> dict[str, str]:
    assert response.status_code == 400, response.body
    return {e["field"]: e["message"] for e in json.loads(response.body)["errors"]}


def test_a_tcp_gateway_reaches_the_component_configuration(
    reseller_api: ResellerApi, company: str
) -> None:
    # GIVEN a building whose meters sit behind a Modbus TCP gateway
    body = tcp_gateway("gw-tcp", host="modbus-gw.building.lan", tcp_port=5020, read_cost="rtu")
    # WHEN the reseller registers it and a meter on it
    made = reseller_api.call("POST", GATEWAYS, body, "gw-tcp")
    assert made.status_code == 201, made.body
    one = {"meters": [meter("t-m1", 1, "dds238", "prepaid")]}
    meters = reseller_api.call("POST", f"{GATEWAYS}/gw-tcp/meters", one, "m-tcp")
    assert meters.status_code == 201, meters.body
    deployment = json.loads(meters.body)["deployment"]
    # THEN the deployment's bus is the TCP link, with no serial settings beside it
    assert deployment["configuration"]["bus"] == {
        "transport": "tcp",
        "host": "modbus-gw.building.lan",
        "tcp_port": 5020,
        "read_cost": "rtu",
    }
    # AND the component reads it as its own configuration: a TCP bus to that host and port
    config = parse_config({"thing_name": deployment["thing_name"], **deployment["configuration"]})
    assert (config.bus.transport, config.bus.host, config.bus.tcp_port) == (
        "tcp",
        "modbus-gw.building.lan",
        5020,
    )
    assert config.bus.resolved_read_cost() == "rtu"
    assert [m.meter_id for m in config.meters] == ["t-m1"]


def test_an_ip_address_is_a_host_too(reseller_api: ResellerApi, company: str) -> None:
    made = reseller_api.call("POST", GATEWAYS, tcp_gateway("gw-ip", host="10.0.0.17"), "gw-ip")
    assert made.status_code == 201, made.body
    bus = json.loads(made.body)["deployment"]["configuration"]["bus"]
    assert bus == {"transport": "tcp", "host": "10.0.0.17", "tcp_port": 502}
    assert parse_config(json.loads(made.body)["deployment"]["configuration"]).bus.host == (
        "10.0.0.17"
    )


@pytest.mark.parametrize(
    ("bus", "field", "words"),
    [
        ({"host": "bad host!"}, "bus.host", "neither a hostname nor an IP"),
        ({"host": "-x.lan"}, "bus.host", "neither a hostname nor an IP"),
        ({"host": "gw.lan", "tcp_port": 0}, "bus.tcp_port", "greater than or equal to 1"),
        ({"host": "gw.lan", "tcp_port": 65536}, "bus.tcp_port", "less than or equal to 65535"),
        ({}, "bus", "transport tcp needs host"),
        ({"host": "gw.lan", "port": "/dev/ttyUSB0"}, "bus", "no serial settings"),
    ],
)
def test_a_bad_tcp_link_is_refused_with_its_field(
    reseller_api: ResellerApi, company: str, bus: dict[str, Any], field: str, words: str
) -> None:
    refused = reseller_api.call("POST", GATEWAYS, tcp_gateway("gw-bad", **bus), "gw-bad")
    errors = field_errors(refused)
    assert words in errors[field], errors


def test_tcp_settings_on_a_serial_bus_are_refused(reseller_api: ResellerApi, company: str) -> None:
    body = {**gateway_body("gw-mixed"), "bus": {"port": "/dev/ttyUSB0", "host": "gw.lan"}}
    errors = field_errors(reseller_api.call("POST", GATEWAYS, body, "gw-mixed"))
    assert "for transport tcp" in errors["bus"]


def test_a_prepaid_unit_on_a_meter_without_relay_is_refused(
    reseller_api: ResellerApi, company: str
) -> None:
    made = reseller_api.call("POST", GATEWAYS, tcp_gateway("gw-r", host="gw-r.lan"), "gw-r")
    assert made.status_code == 201, made.body
    path = f"{GATEWAYS}/gw-r/meters"
    # GIVEN an SDM120 (no relay of its own, says the catalogue) billing a prepaid unit
    bare = {"meters": [meter("r-m1", 1, "sdm120", "prepaid")]}
    # WHEN it is registered without a relay THEN 400, saying why and what to do
    errors = field_errors(reseller_api.call("POST", path, bare, "r-bare"))
    message = errors["meters[0]"]
    assert "u-r-m1 is prepaid" in message and "sdm120" in message
    assert "relay_module" in message and "postpaid" in message
    # AND with a relay module channel, or billed postpaid, it is taken
    relayed = meter(
        "r-m1", 1, "sdm120", "prepaid", relay={"address": 90, "profile": "relay_module"}
    )
    postpaid = meter("r-m2", 2, "sdm120", "postpaid")
    taken = reseller_api.call("POST", path, {"meters": [relayed, postpaid]}, "r-ok")
    assert taken.status_code == 201, taken.body
