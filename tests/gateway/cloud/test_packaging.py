"""The component build: the artifact zip's contents and the recipe's keys."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from meter_gateway.config import parse_config

REPO = Path(__file__).resolve().parents[3]
COMPONENT = "com.powerlet.MeterGateway"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "greengrass-build"
    result = subprocess.run(
        [sys.executable, str(REPO / "greengrass_component" / "build.py"),
         "--version", "1.2.3", "--bucket", "test-bucket", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    artifact = out / "artifacts" / COMPONENT / "1.2.3" / "greengrass_component.zip"
    recipe = yaml.safe_load((out / "recipes" / "recipe.yaml").read_text())
    return artifact, recipe


def test_the_zip_holds_the_package_and_pinned_requirements_only(built):
    artifact, _ = built
    names = set(zipfile.ZipFile(artifact).namelist())
    # THEN the code the Run step imports is there, with the meter profiles as data
    for module in ("__main__", "service", "spool", "telemetry", "shadows", "enforcement",
                   "config", "bus", "transport/mqtt", "transport/ipc"):  # fmt: skip
        assert f"meter_gateway/{module}.py" in names
    assert {"meter_gateway/profiles/sdm120.yaml", "meter_gateway/profiles/dds238.yaml"} <= names
    # AND no bytecode, tests, build leftovers or development tools
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", "greengrass-build/"))]
    assert not [n for n in names if "/simulator/" in n]
    # AND the requirements are the lock's gateway group, pinned and hashed
    requirements = zipfile.ZipFile(artifact).read("requirements.txt").decode()
    for pin in ("pymodbus==3.16.1", "awsiotsdk==", "awscrt==", "pydantic==", "pyyaml=="):
        assert pin in requirements
    assert "--hash=sha256:" in requirements
    assert "chalice" not in requirements and "moto" not in requirements


def test_the_zip_is_reproducible(built, tmp_path):
    artifact, _ = built
    out = tmp_path / "again"
    subprocess.run(
        [sys.executable, str(REPO / "greengrass_component" / "build.py"),
         "--version", "1.2.3", "--bucket", "test-bucket", "--out", str(out)],
        cwd=REPO, capture_output=True, check=True,
    )  # fmt: skip
    again = out / "artifacts" / COMPONENT / "1.2.3" / "greengrass_component.zip"
    assert again.read_bytes() == artifact.read_bytes()


def test_the_recipe_is_ready_to_publish(built):
    _, recipe = built
    assert recipe["RecipeFormatVersion"] == "2020-01-25"
    assert recipe["ComponentName"] == COMPONENT
    assert recipe["ComponentVersion"] == "1.2.3"
    assert "aws.greengrass.ShadowManager" in recipe["ComponentDependencies"]
    # the nucleus it needs is declared, a range within major version 2
    nucleus = recipe["ComponentDependencies"]["aws.greengrass.Nucleus"]
    assert (
        nucleus["VersionRequirement"].startswith(">=2.")
        and "<3.0.0" in nucleus["VersionRequirement"]
    )
    (manifest,) = recipe["Manifests"]
    (artifact,) = manifest["Artifacts"]
    assert artifact["URI"] == f"s3://test-bucket/{COMPONENT}/1.2.3/greengrass_component.zip"
    assert artifact["Unarchive"] == "ZIP"
    lifecycle = manifest["Lifecycle"]
    assert "python3 -m venv" in lifecycle["Install"]["Script"]
    assert "--require-hashes" in lifecycle["Install"]["Script"]
    assert "-m meter_gateway --greengrass" in lifecycle["Run"]["Script"]
    # AND no build placeholder survived
    assert not re.search(r"COMPONENT_NAME|COMPONENT_VERSION|BUCKET_NAME", json.dumps(recipe))


def test_access_control_covers_only_its_own_topics_and_shadows(built):
    _, recipe = built
    access = recipe["ComponentConfiguration"]["DefaultConfiguration"]["accessControl"]
    mqtt = [p for p in access["aws.greengrass.ipc.mqttproxy"].values()]
    operations = {op for p in mqtt for op in p["operations"]}
    assert operations == {"aws.greengrass#PublishToIoTCore", "aws.greengrass#SubscribeToIoTCore"}
    resources = [r for p in mqtt for r in p["resources"]]
    assert "powerlet/gw/{iot:thingName}/telemetry" in resources
    assert all("{iot:thingName}" in r for r in resources)
    assert all("*" not in r and r != "#" for r in resources)
    (shadow,) = access["aws.greengrass.ShadowManager"].values()
    assert set(shadow["operations"]) == {
        "aws.greengrass#GetThingShadow",
        "aws.greengrass#UpdateThingShadow",
    }
    assert shadow["resources"] == ["$aws/things/{iot:thingName}/shadow/name/meter-*"]


def test_the_default_configuration_is_a_valid_gateway_configuration(built):
    _, recipe = built
    defaults = dict(recipe["ComponentConfiguration"]["DefaultConfiguration"])
    defaults.pop("accessControl")
    config = parse_config({**defaults, "thing_name": "gw-1"})
    # AND its keys are exactly what the local JSON file uses (one shape for both)
    assert set(defaults) | {"thing_name"} == set(config.model_dump())
    assert config.telemetry_topic() == "powerlet/gw/gw-1/telemetry"


def test_the_unpacked_artifact_runs_and_names_a_bad_field(built, tmp_path):
    artifact, _ = built
    zipfile.ZipFile(artifact).extractall(tmp_path / "unpacked")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"thing_name": "gw", "bus": {"baudrate": 9601}}))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "unpacked")}
    result = subprocess.run(
        [sys.executable, "-m", "meter_gateway", "--config", str(bad)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "bus.baudrate" in result.stderr
