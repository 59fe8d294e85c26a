"""``make deploy STAGE=...``: put a packaged stack into a real AWS account.

Not run against AWS in CI (no account); ``tests/infra/test_deploy_robustness.py`` plays
each step against botocore's Stubber and moto. Steps: check the sender is verified in SES;
refuse a stack that is busy or broken; make sure the artifact bucket exists (private,
encrypted); upload the Lambda zip and the component artifact (once per version); point the
template at them; remove a rolled-back first create and what it left; create then execute
a CloudFormation change set (the SAM transform runs in CloudFormation), where an empty one
is success.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .change_set import WAIT_DELAY_S, apply, delete_stack
from .errors import ComponentVersionConflictError, DeployError
from .iot_policy import COMPONENT_NAME
from .packaging import PackagedStack
from .sender import require_verified_sender
from .stack_state import StackState, check_clearable, clear, first_failure, leftovers, state_of

ARTIFACT_BUCKET_PREFIX = "powerlet-{stage}-artifacts"


def artifact_bucket_name(stage: str, account_id: str, region: str) -> str:
    """``<prefix>-<region>-<account>``: the name the GDK CLI gives its publish bucket
    (``gdk-config.json`` ``publish.bucket`` + region + account), so both land in one place."""
    return f"{ARTIFACT_BUCKET_PREFIX.format(stage=stage)}-{region}-{account_id}"


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
    *,
    progress: Callable[[str], None] = print,
    wait_delay_s: int = WAIT_DELAY_S,
) -> dict[str, str]:
    """Create or update ``powerlet-<stage>``; returns the stack outputs.

    Idempotent: an unchanged tree is a no-op success; a first create that rolled back is
    deleted (with what it left behind, when empty) and created again.
    """
    session = session or boto3.Session(region_name=region)
    identity = require_verified_sender(
        session.client("sesv2"), parameters.get("SenderEmail"), region
    )
    progress(f"sender {parameters['SenderEmail']}: verified in SES ({identity})")
    cfn = session.client("cloudformation")
    name = f"powerlet-{stack.stage}"
    state = state_of(cfn, name)  # busy or broken: refused before anything is uploaded
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
    if state is StackState.ROLLED_BACK_CREATE:
        _remove_failed_create(session, cfn, name, progress, wait_delay_s)
        state = StackState.ABSENT
    token = template_key.rsplit("/", 1)[-1].removesuffix(".json")
    changed = apply(
        cfn,
        name,
        url,
        {**parameters, "ArtifactBucket": bucket},
        create=state is StackState.ABSENT,
        token=token,
        wait_delay_s=wait_delay_s,
    )
    progress(f"{name}: {'deployed' if changed else 'no changes: nothing to deploy'}")
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _remove_failed_create(
    session: boto3.Session,
    cfn: Any,
    name: str,
    progress: Callable[[str], None],
    wait_delay_s: int,
) -> None:
    """ROLLBACK_COMPLETE: CloudFormation can only delete it. What it kept is checked first
    (data stops the deploy before anything is deleted), then cleared."""
    progress(f"{name}: the first create rolled back ({first_failure(cfn, name)}); recreating")
    found = leftovers(cfn, name)
    check_clearable(session.client, found)
    delete_stack(cfn, name, wait_delay_s)
    for deleted in clear(session.client, found):
        progress(f"deleted {deleted}, left empty by the failed create")
