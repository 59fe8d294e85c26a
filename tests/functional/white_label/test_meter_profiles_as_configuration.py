"""A new meter model as configuration, end to end (issue 17): a reseller stores a profile
written only from a datasheet, registers a meter of that model, and the gateway's
Greengrass deployment carries the profile; the configuration the device ends up with
(recipe defaults, then the deployment's reset and merge) polls the simulated meter and
switches its keyed relay. No component build, no code: the cloud rates its readings from
the profile's own rating."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from chalice.test import Client

from chalicelib.domain.meter_models import configured_models
from chalicelib.domain.metering import DEFAULT_RATING, rating_of
from chalicelib.wiring.container import Container
from local_aws.greengrass_v2 import device_configuration
from local_aws.stack import free_port
from meter_gateway.bus import BusSettings, ModbusMeterBus
from meter_gateway.config import parse_config
from meter_gateway.simulator import DeviceSpec, ManualClock, MeterSimulator
from tests.datasheet_profiles import ACME_DATASHEET

from .conftest import ResellerApi, new_reseller
from .test_reseller_api import FLAT, body, company_body, gateway_body

pytestmark = pytest.mark.functional

CO = "profile-co"
RECIPE = Path(__file__).resolve().parents[3] / "greengrass_component" / "recipe.yaml"
PROFILES = f"/v1/reseller/companies/{CO}/meter-profiles"


@pytest.fixture(scope="module")
def api(client: Client, services: Container) -> ResellerApi:
    api = ResellerApi(client, new_reseller("rs-profiles"))
    created = api.call("POST", "/v1/reseller/companies", company_body(CO), "c-profiles")
    assert created.status_code == 201, created.body
    return api


def keyed_meter(meter_id: str, unit_id: str) -> dict[str, Any]:
    unit = {
        "unit_id": unit_id,
        "name": "Flat K",
        "unit_type": "flat",
        "billing_mode": "prepaid",
        "tariff": FLAT,
    }
    return {"meter_id": meter_id, "profile": "acme_km1", "bus_address": 1, "unit": unit}


def on_device(deployment: dict[str, Any]) -> dict[str, Any]:
    """What the component runs with after its first deployment (recipe defaults, then the
    deployment's update, as the nucleus applies it)."""
    default = yaml.safe_load(RECIPE.read_text())["ComponentConfiguration"]["DefaultConfiguration"]
    update = deployment["components"]["com.powerlet.MeterGateway"]["configurationUpdate"]
    config = device_configuration(default, None, update)
    config.pop("accessControl")  # Greengrass's own key, never passed to the component
    return config


def test_a_datasheet_profile_reaches_the_gateway_as_configuration_and_switches_the_meter(
    api: ResellerApi, services: Container
) -> None:
    # GIVEN the datasheet's profile stored for the company (no shipped file, no code)
    stored = api.call("PUT", f"{PROFILES}/acme_km1", ACME_DATASHEET)
    assert stored.status_code == 200, stored.body
    assert body(stored)["model"]["relay"] == "own_keyed"
    # WHEN a gateway is registered with a meter of that model
    gw = api.call("POST", f"/v1/reseller/companies/{CO}/gateways", gateway_body("gw-p"), "g-p")
    assert gw.status_code == 201, gw.body
    meters = api.call(
        "POST",
        f"/v1/reseller/companies/{CO}/gateways/gw-p/meters",
        {"meters": [keyed_meter("km-1", "flat-k")]},
        "m-p",
    )
    assert meters.status_code == 201, meters.body
    assert body(meters)["greengrass"]["status"] == "created"
    # THEN the deployment Greengrass holds carries the profile with the meter, whose
    # relay is its own keyed one
    greengrass = boto3.client("greengrassv2")
    deployment = greengrass.get_deployment(deploymentId=body(meters)["greengrass"]["deployment_id"])
    config = on_device(deployment)
    assert config["meters"] == [
        {
            "meter_id": "km-1",
            "address": 1,
            "profile": "acme_km1",
            "relay": {"address": 1, "profile": "acme_km1", "channel": 0},
        }
    ]
    assert config["profiles"]["acme_km1"]["model"] == ACME_DATASHEET["model"]

    # WHEN the gateway starts with that configuration (its own validation and library)
    port = free_port()
    config["bus"] = {**config["bus"], "transport": "tcp", "host": "127.0.0.1", "tcp_port": port}
    gateway_config = parse_config({**config, "thing_name": body(gw)["thing_name"]})
    library = gateway_config.profile_library()
    assert library.is_configured("acme_km1")
    (meter,) = gateway_config.meter_configs()

    async def run() -> None:
        simulator = MeterSimulator(
            [DeviceSpec(1, "acme_km1")], clock=ManualClock(), seed=3, profiles=library
        )
        await simulator.start_tcp("127.0.0.1", port)
        bus = ModbusMeterBus(
            BusSettings(transport="tcp", tcp_port=port, timeout_ms=300, retries=2),
            profiles=library,
        )
        try:
            await bus.connect()
            # THEN it polls the meter ...
            (sample,) = await bus.poll([meter])
            assert sample.ok and sample.relay_on is True
            assert "import_kwh" in sample.values
            # ... and switches its keyed relay (serial read, key written, command, read back)
            result = await bus.set_relay(meter, False)
            assert result.ok and result.actual_on is False
            assert simulator.meters[1].relay_on is False
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(run(), timeout=30))

    # AND the cloud rates its readings from the profile's own rating, not the default
    gateway = services.catalogue.get_gateway(CO, "gw-p")
    rating = rating_of("acme_km1", None, configured_models(gateway.profiles))
    assert rating.max_current_a == Decimal(60) != DEFAULT_RATING.max_current_a
    assert rating.register_step_kwh == Decimal("0.01") and rating.float_register is False


@pytest.mark.parametrize(
    ("name", "document", "status", "named"),
    [
        # a field of the wrong type is named as the gateway would name it
        ("acme_bad", {**ACME_DATASHEET, "max_read_registers": 500}, 400, "max_read_registers"),
        (
            "acme_bad",
            {**ACME_DATASHEET, "registers": {"import_kwh": {"address": 0, "function_code": 7}}},
            400,
            "registers.import_kwh",
        ),
        ("acme_bad", {**ACME_DATASHEET, "colour": "red"}, 400, "colour"),
        # a shipped profile's name is not the company's to replace
        ("sdm120", ACME_DATASHEET, 409, "shipped"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_field(
    api: ResellerApi, name: str, document: dict[str, Any], status: int, named: str
) -> None:
    answer = api.call("PUT", f"{PROFILES}/{name}", document)
    assert answer.status_code == status, answer.body
    assert named in json.loads(answer.body)["detail"]


def test_a_changed_profile_needs_a_higher_version_and_an_unknown_one_is_refused(
    api: ResellerApi,
) -> None:
    first = api.call("PUT", f"{PROFILES}/acme_v", ACME_DATASHEET)
    assert first.status_code == 200 and body(first)["stored"] is True
    # the same document again is a replay
    assert body(api.call("PUT", f"{PROFILES}/acme_v", ACME_DATASHEET))["stored"] is False
    # another document under the same version is refused; a higher version is taken
    edited = {**ACME_DATASHEET, "turnaround_ms": 40}
    assert api.call("PUT", f"{PROFILES}/acme_v", edited).status_code == 409
    newer = api.call("PUT", f"{PROFILES}/acme_v", {**edited, "version": 4})
    assert newer.status_code == 200 and body(newer)["version"] == 4
    listed = body(api.call("GET", PROFILES))["profiles"]
    assert {p["name"]: p["version"] for p in listed}["acme_v"] == 4
    # a meter naming a profile that is neither shipped nor the company's is refused
    gw = api.call("POST", f"/v1/reseller/companies/{CO}/gateways", gateway_body("gw-u"), "g-u")
    assert gw.status_code == 201, gw.body
    meter = {**keyed_meter("km-u", "flat-u"), "profile": "nobody_s"}
    refused = api.call(
        "POST", f"/v1/reseller/companies/{CO}/gateways/gw-u/meters", {"meters": [meter]}, "m-u"
    )
    assert refused.status_code == 400, refused.body
    assert "nobody_s" in refused.body.decode() or "nobody_s" in str(refused.body)
