"""The infra tier packages the stack once per session (about 10 s) and checks it;
``created`` has the stand-in (moto) create the template's non-SAM part for one
module, then restores the environment and the table binding."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.data.binding import bind_models
from chalicelib.data.models import PowerletItem
from chalicelib.wiring.settings import Settings
from deploy.packaging import PackagedStack, package
from deploy.standin import for_standin, moto_supported_types
from local_aws.stack import LocalStack

STAGE = "ci"


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> PackagedStack:
    build_root = Path(tmp_path_factory.mktemp("deploy"))
    stack = package(STAGE, build_root=build_root)
    # The staged app (vendored packages, ~100 MB) is only an input of the zip.
    shutil.rmtree(build_root / STAGE / "app")
    return stack


@pytest.fixture(scope="session")
def template(packaged: PackagedStack) -> dict[str, Any]:
    return packaged.template()


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])


Created = tuple[LocalStack, dict[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def created(
    template: dict[str, Any],
) -> Iterator[Created]:
    saved_env = dict(os.environ)
    saved_table = (PowerletItem.Meta.table_name, getattr(PowerletItem.Meta, "region", None))
    standin = LocalStack(stage="infra")
    standin.start()
    try:
        reduced, cut = for_standin(template, moto_supported_types())
        cfn = boto3.client("cloudformation", region_name=standin.region)
        cfn.create_stack(
            StackName=f"powerlet-{STAGE}",
            TemplateBody=json.dumps(reduced),
            Parameters=[
                {"ParameterKey": "ArtifactBucket", "ParameterValue": "artifacts"},
                # required (no default): the stand-in's verified sender
                {"ParameterKey": "SenderEmail", "ParameterValue": standin.names.sender_email},
            ],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = cfn.describe_stacks(StackName=f"powerlet-{STAGE}")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        yield standin, outputs, cut
    finally:
        standin.stop()
        os.environ.clear()
        os.environ.update(saved_env)
        PowerletItem.Meta.table_name = saved_table[0]
        bind_models(Settings(table_name=saved_table[0], region=saved_table[1] or "ap-northeast-1"))


@pytest.fixture
def in_process_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests on moto's in-process mock (``mock_aws``): the endpoint variables a stand-in
    of an earlier tier may still have set (the functional tier's lives for the session)
    would send their calls to that server instead of the mock."""
    for name in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
