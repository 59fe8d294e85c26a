"""Meter profiles shipped with the component: one YAML file per meter model.

``load_profile("sdm120")`` reads ``sdm120.yaml`` next to this file, validates it and
caches the result. A bad file fails here, at load, with the file and the field named.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from meter_gateway.errors import ProfileError, ProfileNotFoundError
from meter_gateway.profile_model import MeterProfile

__all__ = ["PROFILES_DIR", "available_profiles", "load_profile", "load_profile_file"]

PROFILES_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_PROFILE_BYTES = 64 * 1024


def load_profile_file(path: Path) -> MeterProfile:
    """Parse and validate one profile file; the file stem must equal its ``name``."""
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProfileNotFoundError(f"{path}: no such profile file") from exc
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from exc
    if len(raw_text) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{path}: larger than {MAX_PROFILE_BYTES} bytes")
    try:
        document = yaml.safe_load(raw_text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ProfileError(f"{path}: top level must be a mapping")
    try:
        profile = MeterProfile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise ProfileError(f"{path}: field {field}: {first['msg']}") from exc
    if profile.name != path.stem:
        raise ProfileError(f"{path}: field name: {profile.name!r} must equal the file stem")
    return profile


def load_profile(name: str, profiles_dir: Path | None = None) -> MeterProfile:
    """The validated profile called ``name`` (from ``profiles_dir`` or the shipped ones)."""
    if not _NAME.match(name):
        raise ProfileNotFoundError(f"{name!r}: not a profile name ([a-z0-9_]{{1,32}})")
    return _load_cached(name, profiles_dir or PROFILES_DIR)


@lru_cache(maxsize=64)
def _load_cached(name: str, profiles_dir: Path) -> MeterProfile:
    return load_profile_file(profiles_dir / f"{name}.yaml")


def available_profiles(profiles_dir: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (profiles_dir or PROFILES_DIR).glob("*.yaml"))
