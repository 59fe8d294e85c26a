"""Create every AWS resource the code needs, against whatever endpoint botocore is given.

Names come from ``StackNames`` so the stand-in, the tests and (later) the
deployable template agree. Creating is idempotent: running it twice against the
same stand-in changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

# Defined with the table's models; the template (deploy/template.py) takes it from here.
from chalicelib.data.models import TTL_ATTRIBUTE
from deploy.user_pool import (
    PASSWORD_POLICY,
    PORTAL_CLIENT_FLOWS,
    READABLE_BY_CLIENT,
    WRITABLE_BY_USERS,
)

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StackNames:
    stage: str = "local"

    @property
    def table(self) -> str:
        return f"powerlet-{self.stage}"

    @property
    def user_pool(self) -> str:
        return f"powerlet-{self.stage}-users"

    @property
    def assets_bucket(self) -> str:
        return f"powerlet-{self.stage}-brand-assets"

    @property
    def dead_letter_queue(self) -> str:
        return f"powerlet-{self.stage}-dead-letters"

    @property
    def api(self) -> str:
        return f"powerlet-{self.stage}"

    @property
    def sender_email(self) -> str:
        return "no-reply@powerlet.example"


@dataclass(frozen=True)
class ProvisionedStack:
    region: str
    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    assets_bucket: str
    dead_letter_queue_url: str
    component_version: str = ""
    rest_api_id: str = ""

    def function_env(self) -> dict[str, str]:
        """The environment a function needs to find these resources."""
        from chalicelib.application.reseller.config import ENV_COMPONENT_VERSION, ENV_REST_API_ID
        from chalicelib.wiring import settings as s

        return {
            ENV_COMPONENT_VERSION: self.component_version,
            ENV_REST_API_ID: self.rest_api_id,
            s.ENV_TABLE: self.table_name,
            s.ENV_REGION: self.region,
            s.ENV_USER_POOL_ID: self.user_pool_id,
            s.ENV_USER_POOL_CLIENT_ID: self.user_pool_client_id,
            s.ENV_ASSETS_BUCKET: self.assets_bucket,
            s.ENV_DEAD_LETTER_QUEUE_URL: self.dead_letter_queue_url,
        }


def create_table(table_name: str, region: str) -> None:
    """The table is defined once, by the PynamoDB models."""
    from chalicelib.data.binding import bind_models
    from chalicelib.data.models import PowerletItem
    from chalicelib.wiring.settings import Settings

    bind_models(Settings(table_name=table_name, region=region))
    if PowerletItem.exists():
        return
    PowerletItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    # Web sessions, sign-in throttles and other short-lived items expire by
    # DynamoDB TTL on the attribute `ttl` (unix seconds).
    boto3.client("dynamodb", region_name=region).update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def _user_pool(cognito: Any, name: str) -> tuple[str, str]:
    for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]:
        if pool["Name"] == name:
            pool_id = pool["Id"]
            clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
            return pool_id, clients["UserPoolClients"][0]["ClientId"]
    pool_id = cognito.create_user_pool(
        PoolName=name,
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        MfaConfiguration="OPTIONAL",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Schema=[
            {"Name": "company_id", "AttributeDataType": "String", "Mutable": True},
            {"Name": "role", "AttributeDataType": "String", "Mutable": True},
        ],
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="portal",
        ExplicitAuthFlows=PORTAL_CLIENT_FLOWS,
        ReadAttributes=READABLE_BY_CLIENT,
        WriteAttributes=WRITABLE_BY_USERS,
        GenerateSecret=False,
    )["UserPoolClient"]["ClientId"]
    for group in ("platform_operator", "company_admin", "property_manager", "landlord", "tenant"):
        cognito.create_group(GroupName=group, UserPoolId=pool_id)
    return pool_id, client_id


def provision(
    names: StackNames, region: str, session: boto3.Session | None = None
) -> ProvisionedStack:
    session = session or boto3.Session(region_name=region)
    create_table(names.table, region)
    pool_id, client_id = _user_pool(session.client("cognito-idp"), names.user_pool)
    s3 = session.client("s3")
    try:
        s3.create_bucket(
            Bucket=names.assets_bucket,
            CreateBucketConfiguration={"LocationConstraint": region},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise
    queue_url = session.client("sqs").create_queue(QueueName=names.dead_letter_queue)["QueueUrl"]
    session.client("ses").verify_email_identity(EmailAddress=names.sender_email)
    component_version = register_component(session.client("greengrassv2"))
    rest_api_id = standin_api(session.client("apigateway"), names.api)
    return ProvisionedStack(
        region=region,
        table_name=names.table,
        user_pool_id=pool_id,
        user_pool_client_id=client_id,
        assets_bucket=names.assets_bucket,
        dead_letter_queue_url=queue_url,
        component_version=component_version,
        rest_api_id=rest_api_id,
    )


def standin_api(apigateway: Any, name: str) -> str:
    """A REST API with the stage ``api``, standing for the one the stack deploys (chalice
    local serves the real routes): brand domains are mapped to it as in AWS."""
    for api in apigateway.get_rest_apis().get("items", []):
        if api["name"] == name:
            return str(api["id"])
    api_id = str(apigateway.create_rest_api(name=name)["id"])
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(
        restApiId=api_id, resourceId=root, httpMethod="ANY", authorizationType="NONE"
    )
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="ANY", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="api")
    return api_id


# The local stage's component version: the stack makes the real one from the built
# recipe (content-derived); here the recipe is registered as is, under a fixed version.
LOCAL_COMPONENT_VERSION = "1.0.0"


def register_component(greengrass: Any) -> str:
    """The gateway component's recipe as a component version in the Greengrass stand-in,
    so the API's deployments name a version that exists (as on AWS)."""
    from chalicelib.application.gateway_deployments import GATEWAY_COMPONENT

    recipe = (REPO / "greengrass_component" / "recipe.yaml").read_text(encoding="utf-8")
    recipe = recipe.replace("{COMPONENT_NAME}", GATEWAY_COMPONENT).replace(
        "{COMPONENT_VERSION}", LOCAL_COMPONENT_VERSION
    )
    try:
        greengrass.create_component_version(inlineRecipe=recipe.encode())
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConflictException":
            raise
    return LOCAL_COMPONENT_VERSION
