"""The IoT policies of gateways: one shared document whose resources name the
connecting thing through ``${iot:Connection.Thing.ThingName}``, so a gateway's
certificate reaches only its own topics and shadows.

Built with ``Fn::Join`` rather than ``Fn::Sub`` so the IoT policy variables stay
literal (``Fn::Sub`` would try to resolve them).
"""

from __future__ import annotations

from typing import Any

THING = "${iot:Connection.Thing.ThingName}"
TELEMETRY_TOPIC = "powerlet/gw/{thing}/telemetry"
HEARTBEAT_SHADOW = "gateway-heartbeat"
METER_SHADOW_PREFIX = "meter-"
COMPONENT_NAME = "com.powerlet.MeterGateway"
ROLE_ALIAS_LOGICAL_ID = "GreengrassTokenExchangeRoleAlias"


def _iot_arn(suffix: str, *more: Any) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iot:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":" + suffix,
                *more,
            ],
        ]
    }


def _shadow(name: str) -> str:
    return f"$aws/things/{THING}/shadow/name/{name}"


def gateway_policy_document() -> dict[str, Any]:
    """What a gateway (a Greengrass core whose client id is its thing name) may do."""
    meter = _shadow(METER_SHADOW_PREFIX + "*")
    heartbeat = _shadow(HEARTBEAT_SHADOW)
    jobs = f"$aws/things/{THING}/jobs/*"
    health = f"$aws/things/{THING}/greengrassv2/health/json"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectAsItsOwnThing",
                "Effect": "Allow",
                "Action": ["iot:Connect"],
                # The nucleus's further connections are <thing>#2, #3... A thing name holds
                # no "#", so "#*" reaches no other thing's client id (AWS's documented
                # "<thing>*" would let pl-x_gw1 connect as pl-x_gw10).
                "Resource": [_iot_arn(f"client/{THING}"), _iot_arn(f"client/{THING}#*")],
                "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
            },
            {
                "Sid": "PublishOwnTelemetryShadowsAndHealth",
                "Effect": "Allow",
                "Action": ["iot:Publish"],
                "Resource": [
                    _iot_arn("topic/" + TELEMETRY_TOPIC.format(thing=THING)),
                    _iot_arn(f"topic/{meter}/update"),
                    _iot_arn(f"topic/{meter}/get"),
                    _iot_arn(f"topic/{heartbeat}/get"),
                    _iot_arn(f"topic/{jobs}"),
                    _iot_arn(f"topic/{health}"),
                ],
            },
            {
                "Sid": "SubscribeOwnShadowAnswersAndJobs",
                "Effect": "Allow",
                "Action": ["iot:Subscribe"],
                "Resource": [
                    # The component subscribes to all its named shadows' deltas at once.
                    _iot_arn(f"topicfilter/{_shadow('+')}/update/delta"),
                    _iot_arn(f"topicfilter/{meter}/update/*"),
                    _iot_arn(f"topicfilter/{meter}/get/*"),
                    _iot_arn(f"topicfilter/{heartbeat}/get/*"),
                    _iot_arn(f"topicfilter/{jobs}"),
                ],
            },
            {
                "Sid": "ReceiveOwnShadowAnswersAndJobs",
                "Effect": "Allow",
                "Action": ["iot:Receive"],
                "Resource": [
                    _iot_arn(f"topic/{meter}/update/*"),
                    _iot_arn(f"topic/{meter}/get/*"),
                    _iot_arn(f"topic/{heartbeat}/get/*"),
                    _iot_arn(f"topic/{jobs}"),
                ],
            },
            {
                "Sid": "OwnMeterShadowsOverHttp",
                "Effect": "Allow",
                "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow"],
                "Resource": [_iot_arn(f"thing/{THING}/{METER_SHADOW_PREFIX}*")],
            },
            {
                "Sid": "GreengrassTokenExchange",
                "Effect": "Allow",
                "Action": ["iot:AssumeRoleWithCertificate"],
                "Resource": [{"Fn::GetAtt": [ROLE_ALIAS_LOGICAL_ID, "RoleAliasArn"]}],
            },
            {
                "Sid": "GreengrassArtifacts",
                "Effect": "Allow",
                "Action": ["greengrass:GetComponentVersionArtifact"],
                "Resource": [
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:greengrass:${AWS::Region}:"
                        "${AWS::AccountId}:components:" + COMPONENT_NAME + ":versions:*"
                    },
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:greengrass:${AWS::Region}:"
                        "aws:components:aws.greengrass.*"
                    },
                ],
            },
            {
                "Sid": "GreengrassDeployments",
                "Effect": "Allow",
                # These two accept no resource narrower than "*" (Greengrass data plane).
                "Action": [
                    "greengrass:ResolveComponentCandidates",
                    "greengrass:GetDeploymentConfiguration",
                ],
                "Resource": "*",
            },
        ],
    }


# Actions whose only accepted resource is "*" (checked by tests/infra).
UNSCOPED_GATEWAY_ACTIONS = frozenset(
    {"greengrass:ResolveComponentCandidates", "greengrass:GetDeploymentConfiguration"}
)


def provisioning_claim_policy_document() -> dict[str, Any]:
    """For the claim certificate baked into a new gateway's image: just enough to call
    fleet provisioning (create its own key and certificate, run the template)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectForProvisioning",
                "Effect": "Allow",
                "Action": ["iot:Connect"],
                "Resource": [_iot_arn("client/provision-*")],
            },
            {
                "Sid": "ProvisioningTopics",
                "Effect": "Allow",
                "Action": ["iot:Publish", "iot:Receive"],
                "Resource": [
                    _iot_arn("topic/$aws/certificates/create/*"),
                    _iot_arn(
                        "topic/$aws/provisioning-templates/",
                        {"Ref": "GatewayProvisioningTemplate"},
                        "/provision/*",
                    ),
                ],
            },
            {
                "Sid": "ProvisioningAnswers",
                "Effect": "Allow",
                "Action": ["iot:Subscribe"],
                "Resource": [
                    _iot_arn("topicfilter/$aws/certificates/create/*"),
                    _iot_arn(
                        "topicfilter/$aws/provisioning-templates/",
                        {"Ref": "GatewayProvisioningTemplate"},
                        "/provision/*",
                    ),
                ],
            },
        ],
    }
