"""The Greengrass v2 stand-in refuses what the CreateDeployment API reference says AWS
refuses, and answers through botocore's own greengrassv2 model (so what the product sends
is serialised, and errors parsed, exactly as against AWS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ParamValidationError

from chalicelib.application.gateway_deployments import (
    GatewayDeployer,
    create_deployment_request,
    deployment_settings,
)
from chalicelib.data import builders
from local_aws.greengrass_v2 import GreengrassV2StandIn

ACCOUNT = "123456789012"
GROUP_ARN = f"arn:aws:iot:ap-northeast-1:{ACCOUNT}:thinggroup/powerlet-gw-pl-acme_gw1"
RECIPE = {"ComponentName": "com.powerlet.MeterGateway", "ComponentVersion": "1.0.7"}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def attach(client: Any, standin: GreengrassV2StandIn) -> None:
    """Serve ``client``'s requests from ``standin`` (botocore still serialises and parses)."""

    def send(request: Any, **_: Any) -> AWSResponse:
        path, _, query = request.url.split("://", 1)[1].partition("/")[2].partition("?")
        params = {k: v[0] for k, v in parse_qs(query).items()}
        status, answer = standin.handle(request.method, "/" + path, request.body or b"", params)
        body = json.dumps(answer).encode()
        headers = {"Content-Type": "application/json"}
        if status >= 400:
            headers["x-amzn-ErrorType"] = answer["__type"]
        return AWSResponse(request.url, status, headers, _Raw(body))  # type: ignore[arg-type]

    client.meta.events.register("before-send.greengrassv2", send)


@pytest.fixture
def standin() -> GreengrassV2StandIn:
    groups = {"powerlet-gw-pl-acme_gw1"}
    return GreengrassV2StandIn(None, lambda _a, _r, kind, name: name in groups)


@pytest.fixture
def greengrass(standin: GreengrassV2StandIn) -> Any:
    client = boto3.client(
        "greengrassv2",
        region_name="ap-northeast-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    attach(client, standin)
    client.create_component_version(inlineRecipe=json.dumps(RECIPE).encode())
    return client


def _request(**overrides: Any) -> dict[str, Any]:
    gateway = builders.gateway("acme", "gw1", "pl-acme_gw1", property_id="p1", serial={})
    meter = builders.meter("acme", "m1", "gw1", 1, profile="dds238", unit_id="u1")
    request = create_deployment_request(
        deployment_settings(gateway, [meter]), GROUP_ARN, "1.0.7", "2.3.9"
    )
    request.update(overrides)
    return request


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_a_deployment_as_the_product_builds_it_is_accepted_and_read_back(greengrass: Any) -> None:
    # GIVEN the request the deployer builds for a gateway with one meter
    request = _request()
    # WHEN it is created
    answer = greengrass.create_deployment(**request)
    # THEN it is the target's latest deployment, holding exactly what was sent
    stored = greengrass.get_deployment(deploymentId=answer["deploymentId"])
    assert stored["targetArn"] == GROUP_ARN and stored["isLatestForTarget"] is True
    component = stored["components"]["com.powerlet.MeterGateway"]
    update = component["configurationUpdate"]
    assert update["reset"] == ["/meters", "/profiles"]
    assert json.loads(update["merge"])["meters"][0]["meter_id"] == "m1"
    sync = json.loads(
        stored["components"]["aws.greengrass.ShadowManager"]["configurationUpdate"]["merge"]
    )
    assert sync == {"synchronize": {"coreThing": {"classic": True, "namedShadows": ["meter-m1"]}}}


def test_a_new_deployment_replaces_the_targets_latest_with_the_next_revision(
    greengrass: Any,
) -> None:
    first = greengrass.create_deployment(**_request())["deploymentId"]
    second = greengrass.create_deployment(**_request())["deploymentId"]
    latest = greengrass.list_deployments(targetArn=GROUP_ARN, historyFilter="LATEST_ONLY")
    assert [d["deploymentId"] for d in latest["deployments"]] == [second]
    assert latest["deployments"][0]["revisionId"] == "2"
    every = greengrass.list_deployments(targetArn=GROUP_ARN, historyFilter="ALL")["deployments"]
    assert {d["deploymentId"] for d in every} == {first, second}


def test_the_target_is_required_by_the_model_and_by_the_service(
    greengrass: Any, standin: GreengrassV2StandIn
) -> None:
    with pytest.raises(ParamValidationError):
        greengrass.create_deployment(components={})
    # a caller that skips botocore's validation meets the service's
    status, answer = standin.handle("POST", "/greengrass/v2/deployments", b"{}", {})
    assert (status, answer["__type"]) == (400, "ValidationException")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"targetArn": "arn:aws:iot:ap-northeast-1:123456789012:policy/x"}, "ValidationException"),
        (
            {"targetArn": f"arn:aws:iot:ap-northeast-1:{ACCOUNT}:thinggroup/nobody"},
            "ResourceNotFoundException",
        ),
        ({"deploymentName": "x" * 257}, "ValidationException"),
    ],
)
def test_targets_and_names_aws_refuses_are_refused(
    greengrass: Any, overrides: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as exc:
        greengrass.create_deployment(**_request(**overrides))
    assert _code(exc) == code


def _component(**spec: Any) -> dict[str, Any]:
    return {"com.powerlet.MeterGateway": {"componentVersion": "1.0.7", **spec}}


@pytest.mark.parametrize(
    ("components", "code"),
    [
        # a version nobody created, of ours and of AWS's
        ({"com.powerlet.MeterGateway": {"componentVersion": "9.9.9"}}, "ResourceNotFoundException"),
        (
            {"aws.greengrass.ShadowManager": {"componentVersion": "0.0.1"}},
            "ResourceNotFoundException",
        ),
        # merge must be a serialized JSON object
        (_component(configurationUpdate={"merge": "[1, 2]"}), "ValidationException"),
        (_component(configurationUpdate={"merge": "{not json"}), "ValidationException"),
        # reset holds JSON pointers
        (_component(configurationUpdate={"reset": ["meters"]}), "ValidationException"),
        (_component(configurationUpdate={"reset": ["/x"] * 257}), "ValidationException"),
    ],
)
def test_component_specifications_aws_refuses_are_refused(
    greengrass: Any, components: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as exc:
        greengrass.create_deployment(targetArn=GROUP_ARN, components=components)
    assert _code(exc) == code


def test_a_component_version_is_created_once(greengrass: Any) -> None:
    with pytest.raises(ClientError) as exc:
        greengrass.create_component_version(inlineRecipe=json.dumps(RECIPE).encode())
    assert _code(exc) == "ConflictException"


class _Iot:
    """The one IoT call the deployer makes, answered as IoT answers it."""

    def create_thing_group(self, thingGroupName: str) -> dict[str, str]:
        return {
            "thingGroupArn": f"arn:aws:iot:ap-northeast-1:{ACCOUNT}:thinggroup/{thingGroupName}"
        }


def test_the_deployer_reports_a_refusal_instead_of_raising(greengrass: Any) -> None:
    # GIVEN a deployer configured with a component version Greengrass does not have
    gateway = builders.gateway("acme", "gw1", "pl-acme_gw1", property_id="p1", serial={})
    settings = deployment_settings(gateway, [])
    wrong = GatewayDeployer(greengrass, _Iot(), "9.9.9", "2.3.9")
    # WHEN it deploys THEN the outcome names AWS's refusal
    outcome = wrong.deploy(settings)
    assert outcome.status == "failed" and "ResourceNotFoundException" in (outcome.reason or "")
    # AND with the right version the deployment is created for the gateway's group
    right = GatewayDeployer(greengrass, _Iot(), "1.0.7", "2.3.9").deploy(settings)
    assert (right.status, right.target_arn) == ("created", GROUP_ARN)
    # AND a stage with no component version deploys nothing, and says so
    assert GatewayDeployer(greengrass, _Iot(), None, "2.3.9").deploy(settings).status == (
        "not_configured"
    )
