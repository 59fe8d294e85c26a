"""The account-facing half of ``make deploy`` that moto can play: the artifact bucket,
the uploads and the template pointed at the uploaded code."""

from __future__ import annotations

import boto3
from moto import mock_aws

from deploy.aws_deploy import artifact_bucket_name, ensure_bucket, point_at_code, upload
from deploy.packaging import PackagedStack

REGION = "eu-central-1"


def test_a_fresh_account_gets_a_private_encrypted_bucket_with_the_artifacts(
    packaged: PackagedStack,
) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        bucket = artifact_bucket_name(packaged.stage, "123456789012", REGION)
        # GIVEN an empty account  WHEN the bucket is ensured twice and the build uploaded
        ensure_bucket(s3, bucket, REGION)
        ensure_bucket(s3, bucket, REGION)
        zip_key, template_key = upload(s3, bucket, packaged)
        # THEN the bucket blocks public access and encrypts
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        # and holds the zip and the component artifact where the recipe says
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        version = packaged.recipe["ComponentVersion"]
        assert f"com.powerlet.MeterGateway/{version}/greengrass_component.zip" in keys
        assert zip_key in keys and zip_key.startswith(f"lambda/{packaged.stage}/")
        assert template_key.startswith(f"templates/{packaged.stage}/")
        size = s3.head_object(Bucket=bucket, Key=zip_key)["ContentLength"]
        assert size == packaged.zip_path.stat().st_size


def test_every_function_points_at_the_uploaded_zip(packaged: PackagedStack) -> None:
    template = point_at_code(packaged.template(), "bucket", "lambda/x.zip")
    functions = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert functions
    assert all(
        f["Properties"]["CodeUri"] == {"Bucket": "bucket", "Key": "lambda/x.zip"} for f in functions
    )
