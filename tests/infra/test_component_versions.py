"""Component versions are immutable: derived from the content by default, and a version
that exists with other bytes is refused instead of overwritten."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from deploy.aws_deploy import publish_component_artifact
from deploy.errors import ComponentVersionConflictError
from deploy.packaging import PackagedStack

pytestmark = pytest.mark.usefixtures("in_process_aws")

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "greengrass_component" / "build.py"
REGION = "eu-central-1"
BUCKET = "artifacts"
# Greengrass: MAJOR.MINOR.PATCH, each part at most 999999, nothing after the patch
GREENGRASS_VERSION = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("component_build", BUILD)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _built_version(out: Path, *extra: str) -> str:
    subprocess.run(
        [sys.executable, str(BUILD), "--bucket", "b", "--out", str(out), *extra],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    recipe = yaml.safe_load((out / "recipes" / "recipe.yaml").read_text())
    return str(recipe["ComponentVersion"])


def test_the_version_is_derived_from_the_content() -> None:
    build = _build_module()
    # GIVEN the same artifact and recipe  THEN the same version, in Greengrass's format
    first = build.content_version(b"zip-bytes", "recipe: 1")
    assert first == build.content_version(b"zip-bytes", "recipe: 1")
    assert GREENGRASS_VERSION.fullmatch(first) and first.startswith("1.0.")
    # AND another artifact or another recipe gives another version
    assert build.content_version(b"zip-bytes!", "recipe: 1") != first
    assert build.content_version(b"zip-bytes", "recipe: 2") != first


def test_make_component_without_a_version_builds_the_same_version_twice(tmp_path: Path) -> None:
    # WHEN the unchanged tree is built twice with no version given
    one = _built_version(tmp_path / "one")
    two = _built_version(tmp_path / "two")
    # THEN both builds carry the same content version, not a fixed default
    assert one == two
    assert GREENGRASS_VERSION.fullmatch(one) and one != "0.1.0"


@pytest.mark.parametrize("bad", ["1.0", "1.0.0-rc.1", "1.0.0+abc", "1.0.1000000", "01.0.0"])
def test_a_version_greengrass_would_refuse_is_refused_at_build(tmp_path: Path, bad: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BUILD), "--version", bad, "--out", str(tmp_path / "x")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "MAJOR.MINOR.PATCH" in result.stderr


def test_the_packaged_stack_carries_a_content_version(packaged: PackagedStack) -> None:
    version = str(packaged.recipe["ComponentVersion"])
    assert GREENGRASS_VERSION.fullmatch(version) and version.startswith("1.0.")
    assert f"/{version}/" in packaged.artifact_path.as_posix()


class CountingS3:
    """The real (moto) client, counting the uploads."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.uploads = 0

    def upload_file(self, *args: Any, **kwargs: Any) -> None:
        self.uploads += 1
        self._client.upload_file(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _stack(tmp_path: Path, version: str, content: bytes) -> PackagedStack:
    artifact = tmp_path / version / "greengrass_component.zip"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(content)
    recipe = {"ComponentVersion": version}
    return PackagedStack("ci", tmp_path / "t.json", tmp_path / "z.zip", artifact, recipe, [], [])


def test_a_published_version_is_uploaded_once_and_never_overwritten(tmp_path: Path) -> None:
    with mock_aws():
        s3 = CountingS3(boto3.client("s3", region_name=REGION))
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        # GIVEN version 1.0.7 published
        key = publish_component_artifact(s3, BUCKET, _stack(tmp_path / "a", "1.0.7", b"one"))
        assert s3.uploads == 1
        # WHEN the same bytes are deployed again THEN nothing is uploaded
        publish_component_artifact(s3, BUCKET, _stack(tmp_path / "b", "1.0.7", b"one"))
        assert s3.uploads == 1
        # WHEN other bytes come under the same version THEN the deploy is refused
        with pytest.raises(ComponentVersionConflictError, match=r"1\.0\.7 is already published"):
            publish_component_artifact(s3, BUCKET, _stack(tmp_path / "c", "1.0.7", b"two"))
        # AND the stored artifact is the first one still
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"one"
        assert s3.uploads == 1
        # AND a new version is published beside it
        publish_component_artifact(s3, BUCKET, _stack(tmp_path / "d", "1.0.8", b"two"))
        assert s3.uploads == 2


def test_an_artifact_of_unknown_content_is_not_overwritten(tmp_path: Path) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        # GIVEN an artifact uploaded by an older deploy (no digest recorded)
        key = "com.powerlet.MeterGateway/0.1.0/greengrass_component.zip"
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")
        # THEN re-deploying 0.1.0 is refused rather than guessed
        with pytest.raises(ComponentVersionConflictError):
            publish_component_artifact(s3, BUCKET, _stack(tmp_path, "0.1.0", b"old"))
