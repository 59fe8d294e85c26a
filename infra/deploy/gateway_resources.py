"""The gateways' side of the stack: IoT policies, fleet provisioning, the Greengrass
token exchange and the component version built from ``greengrass_component/``."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.application.gateway_policy import policy_name

from . import iot_policy
from .iam import assume_role_policy

# build.py writes this as the bucket; the template substitutes the ArtifactBucket parameter.
ARTIFACT_BUCKET_PLACEHOLDER = "powerlet-artifact-bucket-placeholder"
TOKEN_CREDENTIAL_DURATION_S = 3600
_SUB = "Fn::Sub"


def gateway_resources(stage: str, recipe: dict[str, Any]) -> dict[str, Any]:
    """IoT policies, fleet provisioning and the Greengrass component version."""
    group = f"powerlet-{stage}-gateways"
    provisioning_body = {
        "Parameters": {
            "ThingName": {"Type": "String"},
            "AWS::IoT::Certificate::Id": {"Type": "String"},
        },
        "Resources": {
            "thing": {
                "Type": "AWS::IoT::Thing",
                "Properties": {"ThingName": {"Ref": "ThingName"}, "ThingGroups": [group]},
                "OverrideSettings": {"ThingGroups": "MERGE"},
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
                    "PolicyName": {
                        "Fn::Join": [
                            "",
                            [policy_name(stage, ""), {"Ref": iot_policy.THING_PARAMETER}],
                        ]
                    },
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
                # Fn::Sub fills in the account, region and role alias inside the policy.
                "TemplateBody": {_SUB: json.dumps(provisioning_body, sort_keys=True)},
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
