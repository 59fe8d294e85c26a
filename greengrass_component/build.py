"""Build the component: the artifact zip and the recipe ready to publish.

    python greengrass_component/build.py [--version 1.2.3] [--bucket my-bucket] [--out DIR]

Without ``--version`` the version is derived from the content: ``1.0.<n>``, where ``n`` is
the sha256 of the zip and of ``recipe.yaml`` reduced to six decimal digits. Greengrass
component versions are immutable (the cloud keeps the artifact's digest from the day the
version was created, and a device refuses an artifact that no longer matches it), and a
recipe's ``ComponentVersion`` must be plain ``MAJOR.MINOR.PATCH`` with each part at most
999999 (no pre-release or build metadata; AWS IoT Greengrass V2 developer guide,
"Component recipe reference"). So a changed tree gets a new version by itself, an
unchanged one the same version; ``make deploy`` refuses to upload other bytes under a
version that already exists (``deploy.aws_deploy.publish_component_artifact``).

Writes, like `gdk component build` with the zip build system:
    greengrass-build/artifacts/<component>/<version>/greengrass_component.zip
    greengrass-build/recipes/recipe.yaml
The zip holds the `meter_gateway` package (without the simulator, a development tool) and a
`requirements.txt` exported from uv.lock's `gateway` group, pinned with hashes. The zip is
deterministic (sorted entries, fixed timestamps), so an unchanged tree gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ARTIFACT_NAME = "greengrass_component.zip"
PACKAGE = "meter_gateway"
EXCLUDED_DIRS = {"__pycache__", "simulator"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
VERSION_PATTERN = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")
# MAJOR.MINOR of content versions: raise the minor when the component's configuration
# changes incompatibly, so a version requirement can still tell the series apart.
CONTENT_SERIES = "1.0"
PATCH_LIMIT = 1_000_000  # Greengrass: each part at most 999999


class BuildError(Exception):
    """The component cannot be built; the message says why."""


def _gdk_settings() -> tuple[str, dict]:
    config = json.loads((HERE / "gdk-config.json").read_text())
    ((name, settings),) = config["component"].items()
    return name, settings


def export_requirements() -> str:
    command = ["uv", "export", "--frozen", "--only-group", "gateway", "--no-emit-project"]
    try:
        # A fixed argument list, no shell: nothing here comes from outside the repository.
        result = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)  # noqa: S603
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildError(f"cannot export the gateway requirements from uv.lock: {exc}") from exc
    return result.stdout


def package_files() -> list[Path]:
    files = []
    for path in sorted((HERE / PACKAGE).rglob("*")):
        relative = path.relative_to(HERE)
        if path.is_dir() or path.suffix in EXCLUDED_SUFFIXES:
            continue
        if EXCLUDED_DIRS.intersection(relative.parts[1:-1]):
            continue
        files.append(path)
    return files


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def zip_bytes(requirements: str) -> tuple[bytes, list[str]]:
    """The artifact, in memory: its bytes decide the content version before it is written."""
    buffer = io.BytesIO()
    names = []
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in package_files():
            name = path.relative_to(HERE).as_posix()
            _add(archive, name, path.read_bytes())
            names.append(name)
        _add(archive, "requirements.txt", requirements.encode())
        names.append("requirements.txt")
    return buffer.getvalue(), names


def content_version(artifact: bytes, recipe_template: str) -> str:
    """``1.0.<n>``: the same tree always gives the same version, another tree (almost
    always) another; the deploy's check catches the one-in-a-million collision."""
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(artifact).digest())
    digest.update(hashlib.sha256(recipe_template.encode()).digest())
    return f"{CONTENT_SERIES}.{int(digest.hexdigest(), 16) % PATCH_LIMIT}"


def build_recipe(target: Path, component: str, version: str, bucket: str) -> dict:
    text = (HERE / "recipe.yaml").read_text()
    text = text.replace("{COMPONENT_NAME}", component).replace("{COMPONENT_VERSION}", version)
    text = re.sub(
        r"s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/",
        f"s3://{bucket}/{component}/{version}/",
        text,
    )
    recipe = yaml.safe_load(text)
    if not isinstance(recipe, dict) or recipe.get("ComponentVersion") != version:
        raise BuildError("recipe.yaml did not render to a recipe with the requested version")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return recipe


def main(argv: list[str] | None = None) -> int:
    component, settings = _gdk_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version",
        default=None,
        help="MAJOR.MINOR.PATCH (each at most 999999); default: derived from the content",
    )
    parser.add_argument("--bucket", default=settings["publish"]["bucket"])
    parser.add_argument("--out", type=Path, default=HERE / "greengrass-build")
    args = parser.parse_args(argv)
    if args.version is not None and not VERSION_PATTERN.match(args.version):
        print(
            f"build: version {args.version!r} is not MAJOR.MINOR.PATCH with parts 0..999999",
            file=sys.stderr,
        )
        return 2
    try:
        if args.out.exists():
            shutil.rmtree(args.out)
        data, names = zip_bytes(export_requirements())
        version = args.version or content_version(data, (HERE / "recipe.yaml").read_text())
        artifact = args.out / "artifacts" / component / version / ARTIFACT_NAME
        artifact.parent.mkdir(parents=True, exist_ok=True)
        artifact.write_bytes(data)
        build_recipe(args.out / "recipes" / "recipe.yaml", component, version, args.bucket)
    except BuildError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 1
    print(f"{artifact} ({len(names)} files, {artifact.stat().st_size} bytes)")
    print(args.out / "recipes" / "recipe.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
