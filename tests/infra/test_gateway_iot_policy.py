"""The gateway IoT policies as deployed, evaluated on sample thing names: a gateway (its
nucleus, ShadowManager's cloud sync and the component, on every connection the nucleus
opens) reaches its own topics and shadows and no other gateway's, by either path that
creates its policy (the reseller API, fleet provisioning)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.application.gateway_policy import (
    SUBSCRIPTIONS_PER_CONNECTION,
    connections_of,
    gateway_policy_document,
    subscriptions_of,
)
from chalicelib.pipeline.senders import owner_of_thing
from deploy.iot_policy import UNSCOPED_GATEWAY_ACTIONS
from deploy.policy_check import Account, is_allowed, resolve

ACCOUNT = Account()
ROLE_ALIAS_ARN = ACCOUNT.iot_arn("rolealias/powerlet-ci-greengrass-token-exchange")
REFS = {"GreengrassTokenExchangeRoleAlias.RoleAliasArn": ROLE_ALIAS_ARN}
OWN, OTHER = "pl-formosa_gw1", "pl-thames_gw1"
Policy = dict[str, Any]


@pytest.fixture(scope="module")
def shared(resources: dict[str, Any]) -> Policy:
    return dict(resolve(resources["GatewayPolicy"]["Properties"]["PolicyDocument"], ACCOUNT, REFS))


def registered(shared: Policy, thing: str) -> Policy:
    """What the reseller API attaches: the shared policy and the thing's own."""
    own = gateway_policy_document(thing, ACCOUNT.partition, ACCOUNT.region, ACCOUNT.account_id)
    return {"Statement": own["Statement"] + shared["Statement"]}


def provisioned(resources: dict[str, Any], thing: str) -> Policy:
    """The one policy fleet provisioning creates from the template for ``thing``."""
    body = json.loads(
        resolve(
            resources["GatewayProvisioningTemplate"]["Properties"]["TemplateBody"], ACCOUNT, REFS
        )
    )
    document = body["Resources"]["policy"]["Properties"]["PolicyDocument"]
    owner = owner_of_thing(thing)
    assert owner is not None, thing
    refs = {"CompanyId": owner[0], "GatewayId": owner[1]}
    # the template names the thing from the ids the hook checked, as the API does
    assert resolve(body["Resources"]["thing"]["Properties"]["ThingName"], ACCOUNT, refs) == thing
    return dict(json.loads(resolve(document, ACCOUNT, refs)))


@pytest.fixture(scope="module", params=["registered", "provisioned"])
def policy_of(request: pytest.FixtureRequest, resources: dict[str, Any], shared: Policy) -> Any:
    if request.param == "registered":
        return lambda thing: registered(shared, thing)
    return lambda thing: provisioned(resources, thing)


def topic(name: str) -> str:
    return ACCOUNT.iot_arn("topic/" + name)


def topicfilter(name: str) -> str:
    return ACCOUNT.iot_arn("topicfilter/" + name)


def both(name: str) -> list[tuple[str, str]]:
    """Subscribe to a topic and receive on it."""
    return [("iot:Subscribe", topicfilter(name)), ("iot:Receive", topic(name))]


def needs(thing: str, meter: str) -> list[tuple[str, str]]:
    """Every (action, resource) the gateway ``thing`` needs for meter ``meter``."""
    things = f"$aws/things/{thing}"
    meter_shadow = f"{things}/shadow/name/meter-{meter}"
    deployment = f"{things}/shadow/name/AWSManagedGreengrassV2Deployment"
    return [
        # the component
        ("iot:Publish", topic(f"powerlet/gw/{thing}/telemetry")),
        ("iot:Publish", topic(f"{meter_shadow}/update")),
        ("iot:Publish", topic(f"{meter_shadow}/get")),
        ("iot:Subscribe", topicfilter(f"{things}/shadow/name/+/update/delta")),
        ("iot:Subscribe", topicfilter(f"{things}/shadow/name/+/get/accepted")),
        ("iot:Subscribe", topicfilter(f"{things}/shadow/name/+/update/rejected")),
        *both(f"{meter_shadow}/update/accepted"),
        *both(f"{meter_shadow}/get/rejected"),
        # ShadowManager's cloud sync: MQTT for changes, HTTPS for reads and writes
        *both(f"{meter_shadow}/update/delta"),
        *both(f"{meter_shadow}/delete/accepted"),
        *both(f"{things}/shadow/update/delta"),
        *both(f"{things}/shadow/delete/accepted"),
        ("iot:GetThingShadow", ACCOUNT.iot_arn(f"thing/{thing}/meter-{meter}")),
        ("iot:UpdateThingShadow", ACCOUNT.iot_arn(f"thing/{thing}/meter-{meter}")),
        ("iot:DeleteThingShadow", ACCOUNT.iot_arn(f"thing/{thing}/meter-{meter}")),
        ("iot:UpdateThingShadow", ACCOUNT.iot_arn(f"thing/{thing}")),
        # the nucleus: deployments (shadow and jobs), health
        ("iot:Publish", topic(f"{deployment}/update")),
        ("iot:Publish", topic(f"{deployment}/get")),
        *both(f"{deployment}/update/accepted"),
        *both(f"{deployment}/update/delta"),
        *both(f"{deployment}/get/accepted"),
        ("iot:Publish", topic(f"{things}/jobs/$next/get")),
        *both(f"{things}/jobs/notify-next"),
        *both(f"{things}/jobs/$next/get/accepted"),
        ("iot:Publish", topic(f"{things}/greengrassv2/health/json")),
    ]


CONNECTIONS = ("", "#2", "#3")  # the nucleus's first, second and third connection


def test_a_gateway_may_do_what_its_nucleus_sync_and_component_do_on_every_connection(
    policy_of: Any,
) -> None:
    policy = policy_of(OWN)
    for suffix in CONNECTIONS:
        client = OWN + suffix
        assert is_allowed(policy, OWN, "iot:Connect", ACCOUNT.iot_arn(f"client/{client}"))
        for action, resource in needs(OWN, "flat-1a"):
            assert is_allowed(policy, OWN, action, resource, client_id=client), (
                client,
                action,
                resource,
            )


def test_over_https_no_thing_variable_is_needed(policy_of: Any) -> None:
    # GIVEN ShadowManager's HTTPS call: AWS resolves thing variables over MQTT only
    resource = ACCOUNT.iot_arn(f"thing/{OWN}/meter-flat-1a")
    # THEN the written-out thing name still grants it
    assert is_allowed(policy_of(OWN), OWN, "iot:UpdateThingShadow", resource, mqtt=False)
    # ... which a policy written with the variable would not (why the policy is per gateway)
    with_variable = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:UpdateThingShadow",
                "Resource": ACCOUNT.iot_arn("thing/${iot:Connection.Thing.ThingName}/meter-*"),
            }
        ]
    }
    assert not is_allowed(with_variable, OWN, "iot:UpdateThingShadow", resource, mqtt=False)
    second = f"{OWN}#2"
    assert not is_allowed(with_variable, OWN, "iot:UpdateThingShadow", resource, client_id=second)


def test_a_gateway_may_not_touch_another_gateways_topics_or_shadows(policy_of: Any) -> None:
    policy = policy_of(OWN)
    for client in (OTHER, f"{OTHER}#2", f"{OWN}0", f"{OWN}-x"):
        resource = ACCOUNT.iot_arn(f"client/{client}")
        assert not is_allowed(policy, OWN, "iot:Connect", resource), client
    for action, resource in needs(OTHER, "flat-1a"):
        assert not is_allowed(policy, OWN, action, resource), (action, resource)


def test_mqtt_wildcards_do_not_widen_a_subscription(policy_of: Any) -> None:
    policy = policy_of(OWN)
    for wide in (
        "$aws/things/+/shadow/name/+/update/delta",
        "powerlet/gw/+/telemetry",
        "#",
        f"$aws/things/{OWN}/#",
        f"$aws/things/{OWN}/shadow/#",
    ):
        assert not is_allowed(policy, OWN, "iot:Subscribe", topicfilter(wide)), wide


def test_a_certificate_not_attached_to_the_thing_cannot_connect(policy_of: Any) -> None:
    resource = ACCOUNT.iot_arn(f"client/{OWN}")
    assert not is_allowed(policy_of(OWN), OWN, "iot:Connect", resource, attached=False)


def test_a_gateway_may_not_write_shadows_it_has_no_business_with(policy_of: Any) -> None:
    policy = policy_of(OWN)
    for name in (
        f"$aws/things/{OWN}/shadow/update",  # the classic shadow is ShadowManager's, over HTTPS
        f"$aws/things/{OWN}/shadow/name/x/update",
        f"$aws/things/{OWN}/shadow/name/gateway-heartbeat/update",
        # the heartbeat is gone: the nucleus's keep-alive tells the gateway its link
        f"$aws/things/{OWN}/shadow/name/gateway-heartbeat/get",
    ):
        assert not is_allowed(policy, OWN, "iot:Publish", topic(name)), name


def test_both_paths_grant_the_same(resources: dict[str, Any], shared: Policy) -> None:
    def normal(policy: Policy) -> list[str]:
        return sorted(json.dumps(s, sort_keys=True) for s in policy["Statement"])

    assert normal(provisioned(resources, OWN)) == normal(registered(shared, OWN))


def test_only_data_plane_calls_without_resource_support_are_unscoped(policy_of: Any) -> None:
    policy = policy_of(OWN)
    for statement in policy["Statement"]:
        if statement["Resource"] == "*" or "*" in statement["Resource"]:
            assert set(statement["Action"]) <= UNSCOPED_GATEWAY_ACTIONS
    assert is_allowed(policy, OWN, "iot:AssumeRoleWithCertificate", ROLE_ALIAS_ARN)


def test_a_full_bus_needs_a_second_connection_and_the_policy_admits_it(policy_of: Any) -> None:
    # GIVEN AWS IoT's 50 subscriptions per connection
    assert SUBSCRIPTIONS_PER_CONNECTION == 50
    # THEN a 32-meter gateway holds more (ShadowManager: 2 per synced shadow) ...
    assert subscriptions_of(32) > SUBSCRIPTIONS_PER_CONNECTION
    assert connections_of(32) == 2 and connections_of(1) == 1
    # ... and each connection it opens may connect, for every bus size
    policy = policy_of(OWN)
    for meters in range(33):
        assert connections_of(meters) * SUBSCRIPTIONS_PER_CONNECTION >= subscriptions_of(meters)
        for n in range(2, connections_of(meters) + 1):
            resource = ACCOUNT.iot_arn(f"client/{OWN}#{n}")
            assert is_allowed(policy, OWN, "iot:Connect", resource)


THING_NAMES = st.from_regex(r"pl-[a-z0-9][a-z0-9-]{0,8}_[a-z0-9][a-z0-9-]{0,8}", fullmatch=True)
METER_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,17}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(own=THING_NAMES, other=THING_NAMES, meter=METER_IDS)
def test_isolation_holds_for_any_two_thing_names(
    shared: Policy, own: str, other: str, meter: str
) -> None:
    assume(own != other)
    policy = registered(shared, own)
    for action, resource in needs(own, meter):
        assert is_allowed(policy, own, action, resource)
    for action, resource in needs(other, meter):
        assert not is_allowed(policy, own, action, resource), (action, resource)


class TestTheEvaluator:
    """The evaluator itself, on hand-written policies."""

    def test_star_matches_across_levels_and_deny_wins(self) -> None:
        policy = {
            "Statement": [
                {"Effect": "Allow", "Action": "iot:Publish", "Resource": "topic/a/*"},
                {"Effect": "Deny", "Action": "iot:Publish", "Resource": "topic/a/secret"},
            ]
        }
        assert is_allowed(policy, "t", "iot:Publish", "topic/a/b/c")
        assert not is_allowed(policy, "t", "iot:Publish", "topic/a/secret")
        assert not is_allowed(policy, "t", "iot:Receive", "topic/a/b")

    def test_a_variable_value_is_literal(self) -> None:
        policy = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iot:Publish",
                    "Resource": "topic/${iot:Connection.Thing.ThingName}/x",
                }
            ]
        }
        assert is_allowed(policy, "a.b", "iot:Publish", "topic/a.b/x")
        # a "." in the thing name is not a regex wildcard
        assert not is_allowed(policy, "a.b", "iot:Publish", "topic/aXb/x")

    def test_thing_variables_resolve_only_for_the_client_id_equal_to_the_thing(self) -> None:
        policy = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iot:Publish",
                    "Resource": [
                        "topic/${iot:Connection.Thing.ThingName}",
                        "topic/c/${iot:ClientId}",
                    ],
                }
            ]
        }
        assert is_allowed(policy, "t1", "iot:Publish", "topic/t1")
        assert not is_allowed(policy, "t1", "iot:Publish", "topic/t1", client_id="t1#2")
        assert is_allowed(policy, "t1", "iot:Publish", "topic/c/t1#2", client_id="t1#2")

    def test_an_unknown_variable_or_condition_is_refused(self) -> None:
        unknown = {"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "${iot:X}"}]}
        with pytest.raises(ValueError, match="policy variable"):
            is_allowed(unknown, "t", "a", "r")
        condition = {
            "Statement": [
                {"Effect": "Allow", "Action": "a", "Resource": "r", "Condition": {"Null": {"x": 1}}}
            ]
        }
        with pytest.raises(ValueError, match="condition"):
            is_allowed(condition, "t", "a", "r")


def test_the_template_takes_no_thing_name_and_calls_the_hook(resources: dict[str, Any]) -> None:
    template = resources["GatewayProvisioningTemplate"]["Properties"]
    body = json.loads(resolve(template["TemplateBody"], ACCOUNT, REFS))
    # a claim names its company, gateway and token; never the thing
    assert set(body["Parameters"]) == {
        "CompanyId",
        "GatewayId",
        "ProvisioningToken",
        "AWS::IoT::Certificate::Id",
    }
    assert template["PreProvisioningHook"]["TargetArn"] == {
        "Fn::GetAtt": ["ProvisioningHook", "Arn"]
    }
    permission = resources["ProvisioningHookProvisioningPermission"]["Properties"]
    assert permission["Principal"] == "iot.amazonaws.com"
