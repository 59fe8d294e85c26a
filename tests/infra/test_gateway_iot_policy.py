"""The gateway IoT policy, evaluated on sample thing names: a gateway reaches its
own topics and shadows and no other gateway's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deploy.iot_policy import UNSCOPED_GATEWAY_ACTIONS
from deploy.policy_check import Account, is_allowed, resolve

ACCOUNT = Account()
ROLE_ALIAS_ARN = ACCOUNT.iot_arn("rolealias/powerlet-ci-greengrass-token-exchange")
OWN, OTHER = "pl-formosa-gw1", "pl-thames-gw1"


@pytest.fixture(scope="module")
def policy(resources: dict[str, Any]) -> dict[str, Any]:
    document = resources["GatewayPolicy"]["Properties"]["PolicyDocument"]
    return dict(
        resolve(
            document, ACCOUNT, {"GreengrassTokenExchangeRoleAlias.RoleAliasArn": ROLE_ALIAS_ARN}
        )
    )


def topic(name: str) -> str:
    return ACCOUNT.iot_arn("topic/" + name)


def topicfilter(name: str) -> str:
    return ACCOUNT.iot_arn("topicfilter/" + name)


def own_and_others(thing: str, meter: str) -> list[tuple[str, str]]:
    """Every (action, resource) a gateway named ``thing`` needs for meter ``meter``."""
    shadow = f"$aws/things/{thing}/shadow/name/meter-{meter}"
    heartbeat = f"$aws/things/{thing}/shadow/name/gateway-heartbeat"
    return [
        ("iot:Connect", ACCOUNT.iot_arn(f"client/{thing}")),
        ("iot:Publish", topic(f"powerlet/gw/{thing}/telemetry")),
        ("iot:Publish", topic(f"{shadow}/update")),
        ("iot:Publish", topic(f"{shadow}/get")),
        ("iot:Publish", topic(f"{heartbeat}/get")),
        ("iot:Subscribe", topicfilter(f"$aws/things/{thing}/shadow/name/+/update/delta")),
        ("iot:Subscribe", topicfilter(f"{shadow}/update/accepted")),
        ("iot:Subscribe", topicfilter(f"{heartbeat}/get/accepted")),
        ("iot:Receive", topic(f"{shadow}/update/delta")),
        ("iot:Receive", topic(f"{shadow}/get/accepted")),
        ("iot:Receive", topic(f"{heartbeat}/get/rejected")),
        ("iot:GetThingShadow", ACCOUNT.iot_arn(f"thing/{thing}/meter-{meter}")),
        ("iot:UpdateThingShadow", ACCOUNT.iot_arn(f"thing/{thing}/meter-{meter}")),
    ]


def test_a_gateway_may_use_its_own_topics_and_shadows(policy: dict[str, Any]) -> None:
    # GIVEN gateway pl-formosa-gw1 connected with its own thing name as client id
    for action, resource in own_and_others(OWN, "flat-1a"):
        # THEN everything its component does is allowed
        assert is_allowed(policy, OWN, action, resource), (action, resource)


def test_a_gateway_may_not_touch_another_gateways_topics_or_shadows(
    policy: dict[str, Any],
) -> None:
    # GIVEN the same gateway  WHEN it tries anything of pl-thames-gw1's
    for action, resource in own_and_others(OTHER, "flat-1a"):
        # THEN it is denied, connecting under the other's client id included
        assert not is_allowed(policy, OWN, action, resource), (action, resource)


def test_mqtt_wildcards_do_not_widen_a_subscription(policy: dict[str, Any]) -> None:
    # GIVEN filters that would match every gateway if IoT expanded them
    for wide in (
        "$aws/things/+/shadow/name/+/update/delta",
        "powerlet/gw/+/telemetry",
        "#",
        f"$aws/things/{OWN}/#",
    ):
        # THEN they are refused: + and # are literal characters in a policy match
        assert not is_allowed(policy, OWN, "iot:Subscribe", topicfilter(wide)), wide


def test_a_certificate_not_attached_to_the_thing_cannot_connect(policy: dict[str, Any]) -> None:
    resource = ACCOUNT.iot_arn(f"client/{OWN}")
    assert not is_allowed(policy, OWN, "iot:Connect", resource, attached=False)


def test_a_gateway_may_not_write_other_shadows_of_its_own_thing(policy: dict[str, Any]) -> None:
    # GIVEN its own thing  WHEN it publishes to a classic or a non-meter shadow
    for name in (f"$aws/things/{OWN}/shadow/update", f"$aws/things/{OWN}/shadow/name/x/update"):
        # THEN it is refused: only meter-* shadows and the heartbeat get are its business
        assert not is_allowed(policy, OWN, "iot:Publish", topic(name)), name


def test_only_data_plane_calls_without_resource_support_are_unscoped(
    policy: dict[str, Any],
) -> None:
    for statement in policy["Statement"]:
        if statement["Resource"] == "*" or "*" in statement["Resource"]:
            assert set(statement["Action"]) <= UNSCOPED_GATEWAY_ACTIONS
    assert is_allowed(policy, OWN, "iot:AssumeRoleWithCertificate", ROLE_ALIAS_ARN)


THING_NAMES = st.from_regex(r"pl-[a-z0-9]{1,8}-[a-z0-9]{1,8}", fullmatch=True)
METER_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,17}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(own=THING_NAMES, other=THING_NAMES, meter=METER_IDS)
def test_isolation_holds_for_any_two_thing_names(
    policy: dict[str, Any], own: str, other: str, meter: str
) -> None:
    # GIVEN two distinct gateways and any meter id
    assume(own != other)
    # THEN each is allowed its own and refused the other's, whatever the names
    for action, resource in own_and_others(own, meter):
        assert is_allowed(policy, own, action, resource)
    for action, resource in own_and_others(other, meter):
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
