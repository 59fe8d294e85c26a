"""``make deploy STAGE=...``: put a packaged stack into a real AWS account.

Not run in CI (no account). Steps: make sure the artifact bucket exists
(private, encrypted), upload the Lambda zip and the component artifact under
content-addressed keys, point the template at them, and create then execute a
CloudFormation change set (the SAM transform runs in CloudFormation).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from .errors import ComponentVersionConflictError, DeployError
from .iot_policy import COMPONENT_NAME
from .packaging import PackagedStack

WAIT_DELAY_S = 10
WAIT_MAX_ATTEMPTS = 180  # 30 minutes: a first stack with a Cognito pool and IoT takes ~5
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


def artifact_bucket_name(stage: str, account_id: str, region: str) -> str:
    return f"powerlet-{stage}-artifacts-{account_id}-{region}"


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"404", "NoSuchBucket", "NotFound"}:
            raise DeployError(f"bucket {bucket} exists but is not reachable: {exc}") from exc
    config = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=bucket, **config)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


SHA256_METADATA = "sha256"  # x-amz-meta-sha256 on the component artifact


def publish_component_artifact(s3: Any, bucket: str, stack: PackagedStack) -> str:
    """Upload the component artifact under its version, once: the same bytes again are a
    no-op, other bytes under an existing version are refused (the version is immutable)."""
    version = str(stack.recipe["ComponentVersion"])
    key = f"{COMPONENT_NAME}/{version}/{stack.artifact_path.name}"
    digest = hashlib.sha256(stack.artifact_path.read_bytes()).hexdigest()
    try:
        stored = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"404", "NoSuchKey", "NotFound"}:
            raise DeployError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
        s3.upload_file(
            str(stack.artifact_path),
            bucket,
            key,
            ExtraArgs={"Metadata": {SHA256_METADATA: digest}},
        )
        return key
    if stored.get("Metadata", {}).get(SHA256_METADATA) != digest:
        raise ComponentVersionConflictError(
            f"component {COMPONENT_NAME} {version} is already published (s3://{bucket}/{key}) "
            "with other content; a published version is immutable. Build a new version: "
            "leave VERSION unset to derive it from the content, or raise it."
        )
    return key


def upload(s3: Any, bucket: str, stack: PackagedStack) -> tuple[str, str]:
    """Upload the Lambda zip and the component artifact; return the zip's key and template key."""
    publish_component_artifact(s3, bucket, stack)
    zip_key = f"lambda/{stack.stage}/{_digest(stack.zip_path)}.zip"
    s3.upload_file(str(stack.zip_path), bucket, zip_key)
    return zip_key, f"templates/{stack.stage}/{_digest(stack.template_path)}.json"


def point_at_code(template: dict[str, Any], bucket: str, zip_key: str) -> dict[str, Any]:
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": zip_key}
    return template


def deploy(
    stack: PackagedStack,
    region: str,
    parameters: dict[str, str],
    session: boto3.Session | None = None,
) -> dict[str, str]:
    """Create or update ``powerlet-<stage>``; returns the stack outputs."""
    session = session or boto3.Session(region_name=region)
    account_id = session.client("sts").get_caller_identity()["Account"]
    s3 = session.client("s3")
    bucket = parameters.get("ArtifactBucket") or artifact_bucket_name(
        stack.stage, account_id, region
    )
    ensure_bucket(s3, bucket, region)
    zip_key, template_key = upload(s3, bucket, stack)
    template = point_at_code(stack.template(), bucket, zip_key)
    # Templates over 51,200 bytes must be passed by URL.
    s3.put_object(Bucket=bucket, Key=template_key, Body=json.dumps(template).encode())
    url = f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"
    cfn = session.client("cloudformation")
    name = f"powerlet-{stack.stage}"
    exists = _stack_exists(cfn, name)
    change_set = f"{name}-{template_key.rsplit('/', 1)[-1].removesuffix('.json')}"
    params = {**parameters, "ArtifactBucket": bucket}
    try:
        cfn.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE" if exists else "CREATE",
            TemplateURL=url,
            Capabilities=CAPABILITIES,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        )
        waiter_config = {"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_MAX_ATTEMPTS}
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig=waiter_config
        )
        cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
        done = "stack_update_complete" if exists else "stack_create_complete"
        cfn.get_waiter(done).wait(StackName=name, WaiterConfig=waiter_config)
    except (ClientError, WaiterError) as exc:
        raise DeployError(f"deploying {name} failed: {exc}") from exc
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _stack_exists(cfn: Any, name: str) -> bool:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return False
    return bool(stacks) and stacks[0]["StackStatus"] != "REVIEW_IN_PROGRESS"
