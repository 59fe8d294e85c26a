"""The gateways' side of the stack: IoT policies, fleet provisioning, the Greengrass
token exchange and the component version built from ``greengrass_component/``."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.application.gateway_deployments import GATEWAY_GROUP_PREFIX
from chalicelib.application.gateway_policy import policy_name
from chalicelib.application.reseller.gateways import THING_GROUP_PREFIX
from chalicelib.pipeline.provisioning import (
    COMPANY_PARAMETER,
    GATEWAY_PARAMETER,
    TOKEN_PARAMETER,
)

from . import iot_policy
from .iam import assume_role_policy
from .inventory import logical_id_for

# build.py writes this as the bucket; the template substitutes the ArtifactBucket parameter.
ARTIFACT_BUCKET_PLACEHOLDER = "powerlet-artifact-bucket-placeholder"
TOKEN_CREDENTIAL_DURATION_S = 3600
HOOK_LOGICAL_ID = logical_id_for("provisioning_hook")
_SUB = "Fn::Sub"


def gateway_resources(stage: str, recipe: dict[str, Any]) -> dict[str, Any]:
    """IoT policies, fleet provisioning and the Greengrass component version."""
    group = f"powerlet-{stage}-gateways"
    thing = iot_policy.provisioned_thing_name()
    provisioning_body = {
        # No ThingName parameter: the thing is named from the company and gateway ids the
        # hook has checked, so an admitted claim cannot name another gateway's thing.
        "Parameters": {
            COMPANY_PARAMETER: {"Type": "String"},
            GATEWAY_PARAMETER: {"Type": "String"},
            TOKEN_PARAMETER: {"Type": "String"},  # read by the hook only
            "AWS::IoT::Certificate::Id": {"Type": "String"},
        },
        "Resources": {
            "thing": {
                "Type": "AWS::IoT::Thing",
                "Properties": {
                    "ThingName": thing,
                    "AttributePayload": {
                        "company_id": {"Ref": COMPANY_PARAMETER},
                        "gateway_id": {"Ref": GATEWAY_PARAMETER},
                    },
                    # the stage's, the company's and the gateway's own (which the API made
                    # at registration: its Greengrass deployment's target)
                    "ThingGroups": [
                        group,
                        {"Fn::Join": ["", [THING_GROUP_PREFIX, {"Ref": COMPANY_PARAMETER}]]},
                        {"Fn::Join": ["", [GATEWAY_GROUP_PREFIX, *thing["Fn::Join"][1]]]},
                    ],
                },
                "OverrideSettings": {
                    "AttributePayload": "REPLACE",
                    "ThingGroups": "MERGE",
                },
            },
            "certificate": {
                "Type": "AWS::IoT::Certificate",
                "Properties": {
                    "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
                    "Status": "Active",
                },
            },
            # One policy per provisioned gateway, its thing name written out, with the
            # shared statements joined in (a template creates one policy resource).
            "policy": {
                "Type": "AWS::IoT::Policy",
                "Properties": {
                    "PolicyName": {"Fn::Join": ["", [policy_name(stage, ""), thing]]},
                    "PolicyDocument": iot_policy.provisioned_policy_document(),
                },
            },
        },
    }
    recipe_json = json.dumps(recipe, sort_keys=True).replace("${", "${!")
    recipe_json = recipe_json.replace(ARTIFACT_BUCKET_PLACEHOLDER, "${ArtifactBucket}")
    return {
        "GatewayPolicy": {
            "Type": "AWS::IoT::Policy",
            "Properties": {
                "PolicyName": f"powerlet-{stage}-gateway",
                "PolicyDocument": iot_policy.shared_policy_document(),
            },
        },
        "ProvisioningClaimPolicy": {
            "Type": "AWS::IoT::Policy",
            "Properties": {
                "PolicyName": f"powerlet-{stage}-provisioning-claim",
                "PolicyDocument": iot_policy.provisioning_claim_policy_document(),
            },
        },
        "GatewayThingGroup": {
            "Type": "AWS::IoT::ThingGroup",
            "Properties": {"ThingGroupName": group},
        },
        "ProvisioningRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": assume_role_policy("iot.amazonaws.com"),
                "ManagedPolicyArns": [
                    {
                        _SUB: "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AWSIoTThingsRegistration"
                    }
                ],
            },
        },
        "GatewayProvisioningTemplate": {
            "Type": "AWS::IoT::ProvisioningTemplate",
            "DependsOn": ["GatewayThingGroup"],
            "Properties": {
                "TemplateName": f"powerlet-{stage}-gateway",
                "Description": "A new gateway: its thing (in the gateways group), certificate "
                "and its own policy.",
                "Enabled": True,
                "ProvisioningRoleArn": {"Fn::GetAtt": ["ProvisioningRole", "Arn"]},
                # Admits a claim only for a registered, unprovisioned gateway of the
                # company it names, holding that gateway's one-time token.
                "PreProvisioningHook": {
                    "TargetArn": {"Fn::GetAtt": [HOOK_LOGICAL_ID, "Arn"]},
                    "PayloadVersion": "2020-04-01",
                },
                # Fn::Sub fills in the account, region and role alias inside the policy.
                "TemplateBody": {_SUB: json.dumps(provisioning_body, sort_keys=True)},
            },
        },
        f"{HOOK_LOGICAL_ID}ProvisioningPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": HOOK_LOGICAL_ID},
                "Action": "lambda:InvokeFunction",
                "Principal": "iot.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": {
                    _SUB: "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:"
                    f"provisioningtemplate/powerlet-{stage}-gateway"
                },
            },
        },
        "GreengrassTokenExchangeRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": assume_role_policy("credentials.iot.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": "ComponentArtifactsAndLogs",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject"],
                                    "Resource": [
                                        {
                                            _SUB: "arn:${AWS::Partition}:s3:::${ArtifactBucket}/"
                                            + iot_policy.COMPONENT_NAME
                                            + "/*"
                                        }
                                    ],
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": [
                                        "logs:CreateLogGroup",
                                        "logs:CreateLogStream",
                                        "logs:PutLogEvents",
                                        "logs:DescribeLogStreams",
                                    ],
                                    "Resource": [
                                        {
                                            _SUB: "arn:${AWS::Partition}:logs:${AWS::Region}:"
                                            "${AWS::AccountId}:log-group:/aws/greengrass/*"
                                        }
                                    ],
                                },
                            ],
                        },
                    }
                ],
            },
        },
        iot_policy.ROLE_ALIAS_LOGICAL_ID: {
            "Type": "AWS::IoT::RoleAlias",
            "Properties": {
                "RoleAlias": f"powerlet-{stage}-greengrass-token-exchange",
                "RoleArn": {"Fn::GetAtt": ["GreengrassTokenExchangeRole", "Arn"]},
                "CredentialDurationSeconds": TOKEN_CREDENTIAL_DURATION_S,
            },
        },
        "MeterGatewayComponent": {
            "Type": "AWS::GreengrassV2::ComponentVersion",
            "Properties": {"InlineRecipe": {_SUB: recipe_json}},
        },
    }
