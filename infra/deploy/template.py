"""The template merged into Chalice's SAM output: every resource Chalice does not make
(the gateways' side is in ``gateway_resources``).

Everything is derived from the code: the table from the PynamoDB model, the
rules from ``iot_rules/*.json``, the functions from the app, the Cognito groups
from the ``Role`` enum, the component from the built recipe.
"""

from __future__ import annotations

from typing import Any

from . import iot_policy
from .account_changes import account_change_parameters, account_change_resources
from .buckets import private_bucket_properties
from .gateway_resources import gateway_resources
from .gateway_responses import api_gateway_responses
from .iam import assume_role_policy
from .inventory import FunctionSpec, RuleSpec, entry_handler, logical_id_for
from .operations import ALARM_PERIOD_S, merge, operations, operations_parameters
from .permissions import environment_of, function_name_in_aws, policy_document
from .user_pool import (
    PASSWORD_POLICY,
    PORTAL_CLIENT_FLOWS,
    READABLE_BY_CLIENT,
    WRITABLE_BY_USERS,
)

LOG_RETENTION_DAYS = 30
DEAD_LETTER_RETENTION_S = 14 * 24 * 3600
ASYNC_MAX_RETRIES = 2
ASYNC_MAX_EVENT_AGE_S = 6 * 3600
PRODUCTION_STAGES = frozenset({"prod", "production"})
PLATFORM_OPERATOR_GROUP = "platform_operator"
# Seconds each kind of function may run: API Gateway gives up at 29 s.
TIMEOUT_S = {"api": 28, "authorizer": 10, "event": 60, "schedule": 300}
MEMORY_MB = {"api": 512, "authorizer": 256, "event": 512, "schedule": 512}
# Postpaid billing of one property may walk hundreds of units.
TIMEOUT_OVERRIDES_S = {"bill_property": 300}
_SUB = "Fn::Sub"


def is_production(stage: str) -> bool:
    return stage in PRODUCTION_STAGES


def _keep_if_production(stage: str) -> dict[str, str]:
    policy = "Retain" if is_production(stage) else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


def table_resource(stage: str) -> dict[str, Any]:
    """The single table, from the PynamoDB model (one definition of keys and indexes)."""
    from chalicelib.data.models import PowerletItem

    schema = PowerletItem._get_schema()
    indexes = [
        {
            "IndexName": index["index_name"],
            "KeySchema": index["key_schema"],
            "Projection": index["projection"],
        }
        for index in schema["global_secondary_indexes"]
    ]
    from local_aws.resources import TTL_ATTRIBUTE

    return {
        "Type": "AWS::DynamoDB::Table",
        **_keep_if_production(stage),
        "Properties": {
            "TableName": f"powerlet-{stage}",
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": schema["attribute_definitions"],
            "KeySchema": schema["key_schema"],
            "GlobalSecondaryIndexes": indexes,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": is_production(stage),
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
        },
    }


def queue_and_alarms(stage: str) -> dict[str, Any]:
    return {
        "DeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"powerlet-{stage}-dead-letters",
                "MessageRetentionPeriod": DEAD_LETTER_RETENTION_S,
                "SqsManagedSseEnabled": True,
            },
        },
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"powerlet-{stage}-alarms"},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {
                "TopicArn": {"Ref": "AlarmTopic"},
                "Protocol": "email",
                "Endpoint": {"Ref": "AlarmEmail"},
            },
        },
        "DeadLetterQueueAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": f"powerlet-{stage}-dead-letters-waiting",
                "AlarmDescription": "A message is in the dead-letter queue: read its reason.",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}
                ],
                "Statistic": "Maximum",
                "Period": ALARM_PERIOD_S,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
            },
        },
    }


def function_resources(stage: str, spec: FunctionSpec) -> dict[str, Any]:
    """Overrides merged into Chalice's function, plus its role, log group, alarm and
    (for asynchronously invoked functions) the on-failure destination."""
    lid = spec.logical_id
    name = function_name_in_aws(stage, spec.name)
    resources: dict[str, Any] = {
        lid: {
            "DependsOn": [f"{lid}LogGroup"],
            "Properties": {
                "FunctionName": name,
                "Role": {"Fn::GetAtt": [f"{lid}Role", "Arn"]},
                "Environment": {"Variables": environment_of(spec.name, stage)},
                "Timeout": _timeout_s(spec),
                "MemorySize": MEMORY_MB[spec.kind],
                **_handler(spec),
            },
        },
        f"{lid}Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": assume_role_policy("lambda.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": f"{lid}Policy",
                        "PolicyDocument": policy_document(spec.name, stage),
                    }
                ],
            },
        },
        f"{lid}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            **_keep_if_production(stage),
            "Properties": {
                "LogGroupName": f"/aws/lambda/{name}",
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        },
        f"{lid}ErrorsAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": f"{name}-errors",
                "AlarmDescription": f"{spec.name} raised (see its log group).",
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": lid}}],
                "Statistic": "Sum",
                "Period": ALARM_PERIOD_S,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
            },
        },
    }
    if spec.kind in {"event", "schedule"}:
        resources[f"{lid}EventInvokeConfig"] = {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": lid},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": ASYNC_MAX_RETRIES,
                "MaximumEventAgeInSeconds": ASYNC_MAX_EVENT_AGE_S,
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
                },
            },
        }
    return resources


def rule_name_in_aws(stage: str, rule: RuleSpec) -> str:
    # Rule names allow only [A-Za-z0-9_] and are unique per account and region.
    return f"powerlet_{stage.replace('-', '_')}_{rule.rule_name}"


def rule_resources(stage: str, rules: list[RuleSpec]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "IotRuleErrorActionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": assume_role_policy(
                    "iot.amazonaws.com",
                    {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                ),
                "Policies": [
                    {
                        "PolicyName": "DeadLetters",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["sqs:SendMessage"],
                                    "Resource": [{"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}],
                                }
                            ],
                        },
                    }
                ],
            },
        }
    }
    for rule in rules:
        rule_name = rule_name_in_aws(stage, rule)
        resources[rule.logical_id] = {
            "Type": "AWS::IoT::TopicRule",
            "Properties": {
                "RuleName": rule_name,
                "TopicRulePayload": rule.properties["TopicRulePayload"],
            },
        }
        for target in rule.target_logical_ids:
            resources[f"{target}{rule.logical_id}Permission"] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Ref": target},
                    "Action": "lambda:InvokeFunction",
                    "Principal": "iot.amazonaws.com",
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                    "SourceArn": {
                        _SUB: "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:rule/"
                        + rule_name
                    },
                },
            }
    return resources


CUSTOM_MESSAGE_ID = logical_id_for("cognito_custom_message")


def identity_resources(stage: str) -> dict[str, Any]:
    from chalicelib.auth.principal import Role

    groups = [PLATFORM_OPERATOR_GROUP, *(role.value for role in Role)]
    resources: dict[str, Any] = {
        "UserPool": {
            "Type": "AWS::Cognito::UserPool",
            **_keep_if_production(stage),
            "Properties": {
                "UserPoolName": f"powerlet-{stage}-users",
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                # Companies invite their people; nobody signs themselves up.
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                "DeletionProtection": "ACTIVE" if is_production(stage) else "INACTIVE",
                "Policies": {"PasswordPolicy": PASSWORD_POLICY},
                # A changed e-mail stays unverified (the old one keeps working) until the
                # new address proves it receives mail; users cannot change it themselves
                # anyway (the client writes no e-mail), only an admin can.
                "UserAttributeUpdateSettings": {
                    "AttributesRequireVerificationBeforeUpdate": ["email"]
                },
                # Threat protection (Cognito's "advanced security"): compromised-credential
                # and adaptive (risk-based) checks on every sign-in, enforced, not audited.
                # It needs the Plus feature plan.
                "UserPoolTier": "PLUS",
                "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
                # TOTP only (no SMS): optional for staff, required for company admins by the
                # portal, which refuses an admin's session until an authenticator is set up.
                "MfaConfiguration": "OPTIONAL",
                "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                "Schema": [
                    {"Name": "company_id", "AttributeDataType": "String", "Mutable": True},
                    {"Name": "role", "AttributeDataType": "String", "Mutable": True},
                ],
                "AccountRecoverySetting": {
                    "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
                },
                # Invitations and password resets carry the company's brand.
                "LambdaConfig": {"CustomMessage": {"Fn::GetAtt": [CUSTOM_MESSAGE_ID, "Arn"]}},
            },
        },
        f"{CUSTOM_MESSAGE_ID}UserPoolPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": CUSTOM_MESSAGE_ID},
                "Action": "lambda:InvokeFunction",
                "Principal": "cognito-idp.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": ["UserPool", "Arn"]},
            },
        },
        "PortalClient": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "ClientName": "portal",
                "UserPoolId": {"Ref": "UserPool"},
                "GenerateSecret": False,
                "ExplicitAuthFlows": PORTAL_CLIENT_FLOWS,
                "PreventUserExistenceErrors": "ENABLED",
                "IdTokenValidity": 60,
                "AccessTokenValidity": 60,
                "RefreshTokenValidity": 1,
                "TokenValidityUnits": {
                    "IdToken": "minutes",
                    "AccessToken": "minutes",
                    "RefreshToken": "days",
                },
                "ReadAttributes": READABLE_BY_CLIENT,
                "WriteAttributes": WRITABLE_BY_USERS,
            },
        },
    }
    for group in groups:
        resources["UserGroup" + "".join(p.capitalize() for p in group.split("_"))] = {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {"GroupName": group, "UserPoolId": {"Ref": "UserPool"}},
        }
    return resources


def storage_and_mail_resources(stage: str) -> dict[str, Any]:
    """The brand-asset bucket. The alert sender's SES identity is not here: it must be
    verified before the first deploy (``deploy.sender``) and outlives any stack, so a
    stack-made identity would collide with it ("already exists")."""
    return {
        "BrandAssetsBucket": {
            "Type": "AWS::S3::Bucket",
            **_keep_if_production(stage),
            "Properties": {
                "BucketName": {_SUB: f"powerlet-{stage}-brand-assets-${{AWS::AccountId}}"},
                **private_bucket_properties(),
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        },
        "BrandAssetsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "BrandAssetsBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [
                                {"Fn::GetAtt": ["BrandAssetsBucket", "Arn"]},
                                {_SUB: "${BrandAssetsBucket.Arn}/*"},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def parameters_and_outputs(stage: str) -> dict[str, Any]:
    return {
        "Parameters": {
            # No default: the address must be one the account has verified in SES
            # (make deploy checks it before deploying).
            "SenderEmail": {
                "Type": "String",
                "AllowedPattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                "Description": "From address of alert e-mails (an SES-verified identity).",
            },
            "AlarmEmail": {
                "Type": "String",
                "Default": "",
                "Description": "Where alarms are mailed; empty for none.",
            },
            "IotDataEndpoint": {
                "Type": "String",
                "Default": "",
                "Description": "https://<prefix>-ats.iot.<region>.amazonaws.com of this account; "
                "empty for the regional data-ats name.",
            },
            "ArtifactBucket": {
                "Type": "String",
                "Description": "Bucket holding the Greengrass component artifact "
                "(created and filled by `make deploy`).",
            },
        },
        "Conditions": {
            "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
            "HasIotDataEndpoint": {"Fn::Not": [{"Fn::Equals": [{"Ref": "IotDataEndpoint"}, ""]}]},
        },
        "Outputs": {
            "TableName": {"Value": {"Ref": "PowerletTable"}},
            "UserPoolId": {"Value": {"Ref": "UserPool"}},
            "PortalClientId": {"Value": {"Ref": "PortalClient"}},
            "DeadLetterQueueUrl": {"Value": {"Ref": "DeadLetterQueue"}},
            "BrandAssetsBucketName": {"Value": {"Ref": "BrandAssetsBucket"}},
            "GatewayPolicyName": {"Value": {"Ref": "GatewayPolicy"}},
            "ProvisioningClaimPolicyName": {"Value": {"Ref": "ProvisioningClaimPolicy"}},
            "ProvisioningTemplateName": {"Value": {"Ref": "GatewayProvisioningTemplate"}},
            "GatewayThingGroupName": {"Value": {"Ref": "GatewayThingGroup"}},
            "TokenExchangeRoleAlias": {"Value": {"Ref": iot_policy.ROLE_ALIAS_LOGICAL_ID}},
            "MeterGatewayComponentArn": {"Value": {"Fn::GetAtt": ["MeterGatewayComponent", "Arn"]}},
        },
    }


def merge_template(
    stage: str, functions: list[FunctionSpec], rules: list[RuleSpec], recipe: dict[str, Any]
) -> dict[str, Any]:
    resources: dict[str, Any] = {"PowerletTable": table_resource(stage)}
    resources.update(queue_and_alarms(stage))
    for spec in functions:
        resources.update(function_resources(stage, spec))
    resources.update(rule_resources(stage, rules))
    resources.update(identity_resources(stage))
    resources.update(storage_and_mail_resources(stage))
    resources.update(gateway_resources(stage, recipe))
    resources.update(account_change_resources(stage))
    merge(
        resources,
        operations(stage, functions, rules, function_name_in_aws, _timeout_s, rule_name_in_aws),
    )
    merge(resources, api_gateway_responses())
    parameters = merge(parameters_and_outputs(stage), operations_parameters())
    return {**merge(parameters, account_change_parameters()), "Resources": resources}


def _handler(spec: FunctionSpec) -> dict[str, str]:
    """Chalice names ``app.<name>`` for every function; the event and scheduled ones
    run their own entry instead (``chalicelib/lambdas``: a cold start imports one path)."""
    handler = entry_handler(spec)
    return {"Handler": handler} if handler else {}


def _timeout_s(spec: FunctionSpec) -> int:
    return TIMEOUT_OVERRIDES_S.get(spec.name, TIMEOUT_S[spec.kind])
