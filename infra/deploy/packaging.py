"""``make package``: the stage's CloudFormation template and Lambda zip, built offline.

Chalice resolves dependencies by running ``pip download`` for the Lambda
platform (manylinux wheels) for every line of ``requirements.txt``. We do not let
it: the build exports the locked requirements from ``uv.lock`` and installs them
with ``uv pip install --target vendor/ --python-platform x86_64-manylinux2014``
(from uv's cache when warm, else from PyPI, nothing else), then gives Chalice an
empty ``requirements.txt``. Chalice copies ``vendor/`` into the zip as it is, so
the zip holds exactly the locked versions.

Output under ``.local/deploy/<stage>/``: ``package/sam.json`` (the merged
template), ``package/deployment.zip``, ``greengrass/`` (the built component) and
``merge.json`` (what was merged, for reading).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import PackagingError
from .gateway_resources import ARTIFACT_BUCKET_PLACEHOLDER
from .inventory import REPO, FunctionSpec, RuleSpec, app_functions, env_constants, load_rules
from .permissions import check_classified
from .template import merge_template

BUILD_ROOT = REPO / ".local" / "deploy"
LAMBDA_PLATFORM = "x86_64-manylinux2014"
LAMBDA_PYTHON = "3.11"
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::000000000000:role/replaced-by-deploy-merge-template"
COMMAND_TIMEOUT_S = 600
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda's limit for a function's code
_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "requirements.txt", "deployments", "venv", "vendor"
)


@dataclass(frozen=True)
class PackagedStack:
    stage: str
    template_path: Path
    zip_path: Path
    artifact_path: Path
    recipe: dict[str, Any]
    functions: list[FunctionSpec]
    rules: list[RuleSpec]

    def template(self) -> dict[str, Any]:
        return dict(json.loads(self.template_path.read_text()))


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    try:
        # Fixed argument lists built here; no shell.
        done = subprocess.run(  # noqa: S603
            command,
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", "") or ""
        raise PackagingError(f"{' '.join(command[:3])} failed: {exc}\n{detail}") from exc
    return done.stdout


def export_requirements() -> str:
    """The Lambda's runtime requirements, exactly as locked (``make requirements``)."""
    return _run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-group",
            "gateway",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--format",
            "requirements-txt",
        ],
        REPO,
    )


def stage_app(app_dir: Path, requirements: str) -> None:
    """A copy of ``functions/`` with the branding inside and the dependencies vendored."""
    shutil.copytree(REPO / "functions", app_dir, ignore=_IGNORED)
    # Chalice packages only chalicelib/: the portal looks up chalicelib/branding first.
    # chalicelib/branding is also a Python package (brand resolution); the copy adds
    # templates/, static/ and brands/ beside its modules.
    shutil.copytree(
        REPO / "branding", app_dir / "chalicelib" / "branding", ignore=_IGNORED, dirs_exist_ok=True
    )
    # The telemetry contract (pipeline/telemetry.py reads it at the first message): the
    # repository keeps it beside the IoT rules; the zip keeps it inside chalicelib.
    shutil.copytree(
        REPO / "iot_rules" / "schemas", app_dir / "chalicelib" / "schemas", ignore=_IGNORED
    )
    locked = app_dir.parent / "requirements.locked.txt"
    locked.write_text(requirements)
    _run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(app_dir / "vendor"),
            "--python-platform",
            LAMBDA_PLATFORM,
            "--python-version",
            LAMBDA_PYTHON,
            "--only-binary",
            ":all:",
            "--no-deps",
            "-r",
            str(locked),
        ],
        REPO,
    )
    # Nothing left for Chalice to download.
    (app_dir / "requirements.txt").write_text("")
    compile_bytecode(app_dir)


def compile_bytecode(app_dir: Path) -> None:
    """Byte-code for every module of the zip, for the runtime's Python (docs/deploy.md).

    /var/task is read-only, so without it every cold container compiles what it imports
    (about a second for the app). ``unchecked-hash``: the interpreter loads the .pyc
    without comparing it with the source's mtime, which the zip does not keep exactly.
    """
    if sys.version_info[:2] != tuple(int(n) for n in LAMBDA_PYTHON.split(".")):
        raise PackagingError(
            f"byte-code must be compiled by Python {LAMBDA_PYTHON} (the Lambda runtime), "
            f"not {sys.version.split()[0]}"
        )
    _run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "chalicelib",
            "vendor",
        ],
        app_dir,
    )


def stage_config(app_dir: Path, stage: str) -> None:
    """The repository's Chalice config, plus this stage, with IAM left to the merge template."""
    path = app_dir / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    stages = config.setdefault("stages", {})
    base = stages.get(stage) or stages.get("dev", {})
    stage_cfg = json.loads(json.dumps(base))
    # Every variable comes from the merge template (deploy.permissions.environment_of);
    # a value copied from another stage here would survive the deep merge.
    stage_cfg["environment_variables"] = {"POWERLET_STAGE": stage}
    stage_cfg.update(
        {
            "manage_iam_role": False,
            "iam_role_arn": PLACEHOLDER_ROLE_ARN,
            "autogen_policy": False,
        }
    )
    stages[stage] = stage_cfg
    path.write_text(json.dumps(config, indent=2))


def build_component(out_dir: Path, version: str | None) -> tuple[Path, dict[str, Any]]:
    """The component, versioned from its content unless a version is given."""
    chosen = ["--version", version] if version else []
    _run(
        [
            sys.executable,
            str(REPO / "greengrass_component" / "build.py"),
            *chosen,
            "--bucket",
            ARTIFACT_BUCKET_PLACEHOLDER,
            "--out",
            str(out_dir),
        ],
        REPO,
    )
    recipe = yaml.safe_load((out_dir / "recipes" / "recipe.yaml").read_text())
    artifacts = sorted((out_dir / "artifacts").rglob("*.zip"))
    if len(artifacts) != 1:
        raise PackagingError(f"expected one component artifact, found {artifacts}")
    return artifacts[0], dict(recipe)


def _chalice_command() -> str:
    beside = Path(sys.executable).parent / "chalice"
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise PackagingError("the chalice command is not installed (uv sync --group dev)")
    return found


def _chalice_env() -> dict[str, str]:
    # `chalice package` wants a region even though it calls no AWS API.
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", "ap-northeast-1")
    return env


def check_packaged(template: dict[str, Any], functions: list[FunctionSpec]) -> None:
    resources = template["Resources"]
    for logical_id, resource in resources.items():
        if "Type" not in resource:
            raise PackagingError(
                f"merge template names {logical_id}, which Chalice did not generate"
            )
    for spec in functions:
        if resources[spec.logical_id]["Type"] != "AWS::Serverless::Function":
            raise PackagingError(f"{spec.logical_id} is not a function in the template")
    text = json.dumps(template)
    if PLACEHOLDER_ROLE_ARN in text:
        raise PackagingError("a function kept Chalice's placeholder role")


def package(stage: str, version: str | None = None, build_root: Path = BUILD_ROOT) -> PackagedStack:
    functions = app_functions()
    rules = load_rules()
    check_classified(set(env_constants()))
    work = build_root / stage
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    app_dir = work / "app"
    stage_app(app_dir, export_requirements())
    stage_config(app_dir, stage)
    artifact, recipe = build_component(work / "greengrass", version)
    merge_path = work / "merge.json"
    merge_path.write_text(json.dumps(merge_template(stage, functions, rules, recipe), indent=1))
    out = work / "package"
    _run(
        [
            _chalice_command(),
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(merge_path),
            str(out),
        ],
        app_dir,
        _chalice_env(),
    )
    stack = PackagedStack(
        stage, out / "sam.json", out / "deployment.zip", artifact, recipe, functions, rules
    )
    check_packaged(stack.template(), functions)
    return stack
