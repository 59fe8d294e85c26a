"""The reseller API keeps each gateway's Greengrass deployment equal to its bus: created at
registration and again whenever a meter is added, changed or removed, for the gateway's own
thing group, with ShadowManager syncing exactly its meters' shadows (docs/deploy.md)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.wiring.container import Container

from .conftest import ResellerApi, new_reseller
from .test_reseller_api import body, company_body, gateway_body, meters_body

pytestmark = pytest.mark.functional

CO = "deploy-co"


@pytest.fixture(scope="module")
def api(client: Client, services: Container) -> ResellerApi:
    api = ResellerApi(client, new_reseller("rs-deploy"))
    created = api.call("POST", "/v1/reseller/companies", company_body(CO), "c-deploy")
    assert created.status_code == 201, created.body
    return api


def latest(thing_group_arn: str) -> dict[str, Any]:
    """The target's latest deployment as Greengrass holds it."""
    greengrass = boto3.client("greengrassv2")
    rows = greengrass.list_deployments(targetArn=thing_group_arn, historyFilter="LATEST_ONLY")
    (row,) = rows["deployments"]
    return dict(greengrass.get_deployment(deploymentId=row["deploymentId"]))


def component_config(deployment: dict[str, Any]) -> dict[str, Any]:
    update = deployment["components"]["com.powerlet.MeterGateway"]["configurationUpdate"]
    assert update["reset"] == ["/meters", "/profiles"]
    return dict(json.loads(update["merge"]))


def synced(deployment: dict[str, Any]) -> list[str]:
    spec = deployment["components"]["aws.greengrass.ShadowManager"]
    merge = json.loads(spec["configurationUpdate"]["merge"])
    return list(merge["synchronize"]["coreThing"]["namedShadows"])


def test_every_change_to_a_bus_is_deployed_to_its_gateways_group(api: ResellerApi) -> None:
    base = f"/v1/reseller/companies/{CO}/gateways"
    # WHEN a gateway is registered
    gateway = api.call("POST", base, gateway_body("gw-d"), "g-deploy")
    assert gateway.status_code == 201, gateway.body
    outcome = body(gateway)["greengrass"]
    # THEN a deployment was created for its own thing group, which holds its thing
    assert outcome["status"] == "created", outcome
    group = outcome["target_arn"].rsplit("/", 1)[1]
    assert group == f"powerlet-gw-{body(gateway)['thing_name']}"
    members = boto3.client("iot").list_things_in_thing_group(thingGroupName=group)["things"]
    assert members == [body(gateway)["thing_name"]]
    first = latest(outcome["target_arn"])
    assert first["deploymentId"] == outcome["deployment_id"]
    assert component_config(first)["meters"] == [] and synced(first) == []

    # WHEN two meters are registered
    meters = api.call("POST", f"{base}/gw-d/meters", meters_body(), "m-deploy")
    assert meters.status_code == 201, meters.body
    # THEN the next revision carries them, their bus and ShadowManager's sync of their shadows
    second = latest(outcome["target_arn"])
    assert int(second["revisionId"]) == int(first["revisionId"]) + 1
    config = component_config(second)
    assert [m["meter_id"] for m in config["meters"]] == ["acme-m1", "acme-m2"]
    assert config["bus"]["baudrate"] == 9600
    assert synced(second) == ["meter-acme-m1", "meter-acme-m2"]
    assert config == body(meters)["deployment"]["configuration"]

    # WHEN a meter is exchanged for another model (the DDS238 for an SDM120 + relay module)
    changed = api.call(
        "PATCH",
        f"{base}/gw-d/meters/acme-m1",
        {"profile": "sdm120", "relay": {"address": 101, "profile": "relay_module", "channel": 0}},
    )
    assert changed.status_code == 200, changed.body
    # THEN the gateway is deployed with the new model and its relay
    row = component_config(latest(outcome["target_arn"]))["meters"][0]
    assert row == {
        "meter_id": "acme-m1",
        "address": 1,
        "profile": "sdm120",
        "relay": {"address": 101, "profile": "relay_module", "channel": 0},
    }

    # WHEN a meter of the building itself is added and then removed
    main = {"meters": [{"meter_id": "d-main", "profile": "sdm630", "bus_address": 9, "unit": None}]}
    assert api.call("POST", f"{base}/gw-d/meters", main, "m-main").status_code == 201
    assert "meter-d-main" in synced(latest(outcome["target_arn"]))
    removed = api.call("DELETE", f"{base}/gw-d/meters/d-main")
    assert removed.status_code == 200, removed.body
    # THEN it is gone from the component and from ShadowManager's sync
    final = latest(outcome["target_arn"])
    assert synced(final) == ["meter-acme-m1", "meter-acme-m2"]
    assert [m["meter_id"] for m in component_config(final)["meters"]] == ["acme-m1", "acme-m2"]


def test_a_units_meter_is_not_removed_and_nothing_is_deployed(api: ResellerApi) -> None:
    base = f"/v1/reseller/companies/{CO}/gateways"
    gateway = api.call("POST", base, gateway_body("gw-k"), "g-keep")
    assert gateway.status_code == 201, gateway.body
    body_ = meters_body()
    for index, meter in enumerate(body_["meters"]):
        meter["meter_id"] = f"k-m{index}"
        meter["unit"]["unit_id"] = f"k-unit-{index}"
    assert api.call("POST", f"{base}/gw-k/meters", body_, "m-keep").status_code == 201
    target = body(gateway)["greengrass"]["target_arn"]
    before = latest(target)["deploymentId"]
    refused = api.call("DELETE", f"{base}/gw-k/meters/k-m0")
    assert refused.status_code == 409, refused.body
    assert latest(target)["deploymentId"] == before
    # another gateway's meter is not this gateway's to change
    assert api.call("PATCH", f"{base}/gw-d/meters/k-m0", {"profile": "sdm120"}).status_code == 404


def test_a_failed_deployment_is_reported_and_can_be_retried(
    api: ResellerApi, services: Container
) -> None:
    base = f"/v1/reseller/companies/{CO}/gateways"
    gateway = api.call("POST", base, gateway_body("gw-r"), "g-retry")
    assert gateway.status_code == 201
    deployer = services.gateway_deployer
    # GIVEN Greengrass refuses (a component version it does not have)
    broken = type(deployer)(
        deployer._greengrass, deployer._iot, "9.9.9", deployer.shadow_manager_version
    )
    object.__setattr__(services.gateways, "_deployer", broken)
    try:
        failed = api.call("POST", f"{base}/gw-r/deployment")
    finally:
        object.__setattr__(services.gateways, "_deployer", deployer)
    assert failed.status_code == 200
    assert body(failed)["greengrass"]["status"] == "failed"
    assert "ResourceNotFoundException" in body(failed)["greengrass"]["reason"]
    # WHEN it is retried with Greengrass answering THEN it is created
    retried = api.call("POST", f"{base}/gw-r/deployment")
    assert body(retried)["greengrass"]["status"] == "created"
