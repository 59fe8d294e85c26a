"""The IoT policies of gateways, as the stack and fleet provisioning create them.

Each gateway's certificate carries two policies:

- the stack's shared ``GatewayPolicy`` (:func:`shared_policy_document`): what names no
  thing: the Greengrass token exchange through the stack's role alias, the component's
  artifacts, and the two Greengrass calls that accept only ``*``;
- its own policy ``powerlet-<stage>-gw-<thing>`` with the thing name written out
  (``chalicelib.application.gateway_policy``; why no policy variables: see there). The
  reseller API creates it at registration; fleet provisioning creates the same document
  from the template (:func:`provisioned_policy_document`), joined with the shared
  statements into the one policy a provisioning template creates.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.application.gateway_policy import gateway_policy_document
from chalicelib.pipeline.provisioning import COMPANY_PARAMETER, GATEWAY_PARAMETER
from chalicelib.pipeline.senders import thing_name_for

COMPONENT_NAME = "com.powerlet.MeterGateway"
ROLE_ALIAS_LOGICAL_ID = "GreengrassTokenExchangeRoleAlias"
PROVISIONING_TEMPLATE_LOGICAL_ID = "GatewayProvisioningTemplate"
# CloudFormation's values, as Fn::Sub writes them.
_PARTITION, _REGION, _ACCOUNT = "${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}"
_ROLE_ALIAS_ARN = "${" + ROLE_ALIAS_LOGICAL_ID + ".RoleAliasArn}"
_THING_MARK = "@@thing@@"  # never in a policy: "@" is outside thing names and topics we use
_COMPANY_MARK, _GATEWAY_MARK = "@@company@@", "@@gateway@@"

# Actions whose only accepted resource is "*" (checked by tests/infra).
UNSCOPED_GATEWAY_ACTIONS = frozenset(
    {"greengrass:ResolveComponentCandidates", "greengrass:GetDeploymentConfiguration"}
)


def _shared_statements() -> list[dict[str, Any]]:
    greengrass = f"arn:{_PARTITION}:greengrass:{_REGION}:"
    return [
        {
            "Sid": "GreengrassTokenExchange",
            "Effect": "Allow",
            "Action": ["iot:AssumeRoleWithCertificate"],
            "Resource": [_ROLE_ALIAS_ARN],
        },
        {
            "Sid": "GreengrassArtifacts",
            "Effect": "Allow",
            "Action": ["greengrass:GetComponentVersionArtifact"],
            "Resource": [
                f"{greengrass}{_ACCOUNT}:components:{COMPONENT_NAME}:versions:*",
                f"{greengrass}aws:components:aws.greengrass.*",
            ],
        },
        {
            "Sid": "GreengrassDeployments",
            "Effect": "Allow",
            # These two accept no resource narrower than "*" (Greengrass data plane).
            "Action": sorted(UNSCOPED_GATEWAY_ACTIONS),
            "Resource": "*",
        },
    ]


def _as_sub(value: Any) -> Any:
    """Every string holding a ``${...}`` becomes an Fn::Sub."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if "${" in value else value
    if isinstance(value, list):
        return [_as_sub(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_sub(v) for k, v in value.items()}
    return value


def shared_policy_document() -> dict[str, Any]:
    """The stack's ``GatewayPolicy``: a CloudFormation value (Fn::Sub where needed)."""
    return {"Version": "2012-10-17", "Statement": _as_sub(_shared_statements())}


def provisioned_policy_document() -> dict[str, Any]:
    """The policy document of the provisioning template's policy resource: the gateway's own
    statements for the thing being provisioned and the shared ones, as one string joined by
    the provisioning service around the thing name it derives (``provisioned_thing_name``). Its ``${AWS::...}`` and the
    role alias ARN are left for the stack's Fn::Sub over the whole template body."""
    own = gateway_policy_document(_THING_MARK, _PARTITION, _REGION, _ACCOUNT)
    document = {**own, "Statement": own["Statement"] + _shared_statements()}
    pieces = json.dumps(document, sort_keys=True).split(_THING_MARK)
    thing = provisioned_thing_name()["Fn::Join"][1]
    joined: list[Any] = [pieces[0]]
    for piece in pieces[1:]:
        joined += [*thing, piece]
    return {"Fn::Join": ["", joined]}


def provisioned_thing_name() -> dict[str, Any]:
    """``thing_name_for(CompanyId, GatewayId)`` as the provisioning template computes it."""
    text = thing_name_for(_COMPANY_MARK, _GATEWAY_MARK)
    head, rest = text.split(_COMPANY_MARK)
    middle, tail = rest.split(_GATEWAY_MARK)
    parts: list[Any] = [head, {"Ref": COMPANY_PARAMETER}, middle, {"Ref": GATEWAY_PARAMETER}]
    return {"Fn::Join": ["", [p for p in [*parts, tail] if p != ""]]}


def provisioning_claim_policy_document() -> dict[str, Any]:
    """For the claim certificate baked into a new gateway's image: just enough to call
    fleet provisioning (create its own key and certificate, run the template)."""
    iot = f"arn:{_PARTITION}:iot:{_REGION}:{_ACCOUNT}:"
    template = "${" + PROVISIONING_TEMPLATE_LOGICAL_ID + "}"
    statements = [
        {
            "Sid": "ConnectForProvisioning",
            "Effect": "Allow",
            "Action": ["iot:Connect"],
            "Resource": [f"{iot}client/provision-*"],
        },
        {
            "Sid": "ProvisioningTopics",
            "Effect": "Allow",
            "Action": ["iot:Publish", "iot:Receive"],
            "Resource": [
                f"{iot}topic/$aws/certificates/create/*",
                f"{iot}topic/$aws/provisioning-templates/{template}/provision/*",
            ],
        },
        {
            "Sid": "ProvisioningAnswers",
            "Effect": "Allow",
            "Action": ["iot:Subscribe"],
            "Resource": [
                f"{iot}topicfilter/$aws/certificates/create/*",
                f"{iot}topicfilter/$aws/provisioning-templates/{template}/provision/*",
            ],
        },
    ]
    return {"Version": "2012-10-17", "Statement": _as_sub(statements)}
