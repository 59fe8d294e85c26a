"""The IoT policy of one gateway, with its thing name written out (pure: no AWS).

Why per gateway and not one policy with ``${iot:Connection.Thing.ThingName}``: AWS IoT
resolves thing policy variables only for MQTT connections whose client id is the thing name
(https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html). A
Greengrass core breaks both conditions: ShadowManager syncs shadows with the HTTPS data plane
(``GetThingShadow``/``UpdateThingShadow``/``DeleteThingShadow``), and the nucleus opens
``<thing>#2``, ``#3``... once one connection holds the 50 subscriptions AWS IoT allows per
connection (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits).
A variable there resolves to nothing and the statement matches nothing: sync fails with 403
and the second connection cannot even connect. Written-out names work on every connection.

What it grants (https://docs.aws.amazon.com/greengrass/v2/developerguide/device-auth.html,
narrowed from the minimal Greengrass policy to this product's topics and shadows):

- connect as ``<thing>`` or ``<thing>#<n>`` (a thing name holds no ``#``: no other thing's
  client id matches), with a certificate attached to a thing;
- telemetry on its own topic; its ``meter-*`` named shadows, the classic shadow (ShadowManager syncs it by default) and the
  ``AWSManagedGreengrassV2Deployment`` shadow the nucleus reads its deployments from,
  each with exactly the request and answer topics used (update/get publishes; their
  accepted/rejected/delta answers; ``delete/accepted`` for sync);
- its jobs topics (deployments to thing groups arrive as jobs) and the health topic;
- the HTTPS shadow data plane on its classic and ``meter-*`` shadows (ShadowManager sync);
- ``greengrass:ListThingGroupsForCoreDevice`` on its own core device.

Stack-wide grants that name no thing (the token exchange role alias, component artifacts,
and the two Greengrass calls that accept only ``*``) are in the stack's shared policy.
"""

from __future__ import annotations

from typing import Any

METER_SHADOW_PREFIX = "meter-"
DEPLOYMENT_SHADOW = "AWSManagedGreengrassV2Deployment"
TELEMETRY_TOPIC = "powerlet/gw/{thing}/telemetry"
# AWS IoT Core: "Subscriptions per connection" = 50 (adjustable quota, message broker limits).
SUBSCRIPTIONS_PER_CONNECTION = 50
# What one gateway subscribes to on IoT Core besides ShadowManager's two per synced shadow:
# the component's delta filter (1; it used to hold a second for heartbeat answers: the
# gateway now learns its link from the nucleus, docs/gateway.md), the nucleus's deployment shadow
# (update/accepted, update/rejected, update/delta, get/accepted, get/rejected: 5), its
# jobs (notify-next, $next/get/accepted, $next/get/rejected, +/update/accepted,
# +/update/rejected: 5), and the classic shadow's sync (update/delta, delete/accepted: 2).
FIXED_SUBSCRIPTIONS = 1 + 5 + 5 + 2
SYNC_SUBSCRIPTIONS_PER_SHADOW = 2  # update/delta and delete/accepted
POLICY_NAME_PREFIX = "powerlet-{stage}-gw-"
# The answers the component subscribes to with a "+" for the shadow name (transport/mqtt.py).
COMPONENT_FILTERS = (
    "get/accepted",
    "get/rejected",
    "update/accepted",
    "update/rejected",
    "update/delta",
)


def subscriptions_of(meter_count: int) -> int:
    """IoT Core subscriptions a gateway with ``meter_count`` synced meter shadows holds."""
    return FIXED_SUBSCRIPTIONS + SYNC_SUBSCRIPTIONS_PER_SHADOW * meter_count


def connections_of(meter_count: int) -> int:
    """MQTT connections its nucleus opens: ``<thing>``, then ``<thing>#2``, ``#3``..."""
    return -(-subscriptions_of(meter_count) // SUBSCRIPTIONS_PER_CONNECTION)


def policy_name(stage: str, thing_name: str) -> str:
    return POLICY_NAME_PREFIX.format(stage=stage) + thing_name


def gateway_policy_document(
    thing_name: str, partition: str, region: str, account_id: str
) -> dict[str, Any]:
    """The policy for the gateway ``thing_name`` in one account and region."""
    iot = f"arn:{partition}:iot:{region}:{account_id}:"
    things = f"$aws/things/{thing_name}"
    shadows = f"{things}/shadow/name"
    meters = f"{shadows}/{METER_SHADOW_PREFIX}*"
    deployment = f"{shadows}/{DEPLOYMENT_SHADOW}"
    classic = f"{things}/shadow"
    answers = [
        f"{meters}/update/accepted",
        f"{meters}/update/rejected",
        f"{meters}/update/delta",
        f"{meters}/get/accepted",
        f"{meters}/get/rejected",
        f"{meters}/delete/accepted",
        f"{deployment}/update/accepted",
        f"{deployment}/update/rejected",
        f"{deployment}/update/delta",
        f"{deployment}/get/accepted",
        f"{deployment}/get/rejected",
        f"{classic}/update/delta",
        f"{classic}/delete/accepted",
        f"{things}/jobs/*",
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectAsItsThing",
                "Effect": "Allow",
                "Action": ["iot:Connect"],
                "Resource": [f"{iot}client/{thing_name}", f"{iot}client/{thing_name}#*"],
                "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
            },
            {
                "Sid": "PublishTelemetryShadowRequestsJobsAndHealth",
                "Effect": "Allow",
                "Action": ["iot:Publish"],
                "Resource": [
                    iot + "topic/" + TELEMETRY_TOPIC.format(thing=thing_name),
                    f"{iot}topic/{meters}/update",
                    f"{iot}topic/{meters}/get",
                    f"{iot}topic/{deployment}/update",
                    f"{iot}topic/{deployment}/get",
                    f"{iot}topic/{things}/jobs/*",
                    f"{iot}topic/{things}/greengrassv2/health/json",
                ],
            },
            {
                "Sid": "SubscribeShadowAnswersAndJobs",
                "Effect": "Allow",
                "Action": ["iot:Subscribe"],
                # The component (MQTT mode) takes each answer of all its named shadows with
                # one filter; "+" is a literal character to the policy, so these grant those
                # filters of its own thing only, and Receive still limits what arrives.
                "Resource": [f"{iot}topicfilter/{shadows}/+/{a}" for a in COMPONENT_FILTERS]
                + [f"{iot}topicfilter/{t}" for t in answers],
            },
            {
                "Sid": "ReceiveShadowAnswersAndJobs",
                "Effect": "Allow",
                "Action": ["iot:Receive"],
                "Resource": [f"{iot}topic/{t}" for t in answers],
            },
            {
                "Sid": "ShadowSyncOverHttps",
                "Effect": "Allow",
                "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow"],
                "Resource": [
                    f"{iot}thing/{thing_name}",
                    f"{iot}thing/{thing_name}/{METER_SHADOW_PREFIX}*",
                ],
            },
            {
                "Sid": "ItsOwnCoreDevice",
                "Effect": "Allow",
                "Action": ["greengrass:ListThingGroupsForCoreDevice"],
                "Resource": [
                    f"arn:{partition}:greengrass:{region}:{account_id}:coreDevices:{thing_name}"
                ],
            },
        ],
    }
