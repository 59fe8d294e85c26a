"""The Lambda's requirements come from the lock, pinned, and carry no dev tools."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+\-]+( ;.*)?$")


def export(*args: str) -> list[str]:
    uv = shutil.which("uv")
    assert uv, "uv is installed by `make setup`"
    out = subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--format",
            "requirements-txt",
            *args,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if line and not line.lstrip().startswith("#")]


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


def test_lambda_requirements_are_pinned_to_the_lock_and_exclude_dev_tools() -> None:
    lines = export("--no-dev", "--no-group", "gateway")
    versions = locked_versions()
    names = set()
    for line in lines:
        assert PIN.match(line), line
        name, version = line.split(" ;")[0].split("==")
        name = name.split("[")[0].lower()
        names.add(name)
        assert versions[name] == version, f"{name} differs from uv.lock"
    assert {"pynamodb", "pydantic", "pyjwt", "aws-lambda-powertools"} <= names
    assert not names & {"chalice", "moto", "pytest", "hypothesis", "pymodbus", "playwright"}


def test_gateway_requirements_carry_the_component_stack_only() -> None:
    names = {
        line.split("==")[0].split("[")[0].lower() for line in export("--only-group", "gateway")
    }
    assert {"pymodbus", "awsiotsdk", "awscrt"} <= names
    assert not names & {"pynamodb", "chalice", "moto", "boto3"}
