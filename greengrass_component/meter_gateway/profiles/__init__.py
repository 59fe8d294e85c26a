"""Meter profiles: the ones shipped with the component, and those sent in its configuration.

``load_profile("sdm120")`` reads ``sdm120.yaml`` next to this file, validates it and
caches the result. A bad file fails here, at load, with the file and the field named.

A ``ProfileLibrary`` is what the gateway runs with: the shipped files, with the profiles
from the Greengrass deployment's configuration (``GatewayConfig.profiles``) merged over
them, so a new meter model needs a configuration change, not a component build. Each
profile's version and a short hash of its content travel in telemetry (``pv``), so the
cloud knows which map each meter was read with.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from meter_gateway.errors import ProfileError, ProfileNotFoundError
from meter_gateway.profile_model import MeterProfile

__all__ = [
    "PROFILES_DIR",
    "ProfileLibrary",
    "available_profiles",
    "load_profile",
    "load_profile_file",
    "parse_profile",
    "shipped_library",
]

PROFILES_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_PROFILE_BYTES = 64 * 1024
MAX_CONFIG_PROFILES = 64


def parse_profile(document: Any, source: str, expected_name: str | None = None) -> MeterProfile:
    """Validate one decoded profile; ProfileError names ``source`` and the first bad field."""
    if not isinstance(document, dict):
        raise ProfileError(f"{source}: top level must be a mapping")
    try:
        profile = MeterProfile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise ProfileError(f"{source}: field {field}: {first['msg']}") from exc
    if expected_name is not None and profile.name != expected_name:
        raise ProfileError(f"{source}: field name: {profile.name!r} must be {expected_name!r}")
    return profile


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
    profile = parse_profile(document, str(path))
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


def fingerprint(profile: MeterProfile) -> str:
    """``<version>.<8 hex>``: the declared version and a hash of the content, so an edit
    that forgot to bump the version still shows as a different profile."""
    canonical = json.dumps(profile.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
    return f"{profile.version}.{digest}"


class ProfileLibrary:
    """Shipped profiles with configured ones merged over them (a configured profile of the
    same name replaces the shipped one). Everything is validated when it is built."""

    def __init__(
        self,
        configured: Mapping[str, MeterProfile] | None = None,
        profiles_dir: Path | None = None,
    ) -> None:
        self._dir = profiles_dir or PROFILES_DIR
        self._configured = dict(configured or {})

    @classmethod
    def from_config(
        cls, documents: Mapping[str, Any], profiles_dir: Path | None = None
    ) -> ProfileLibrary:
        if len(documents) > MAX_CONFIG_PROFILES:
            raise ProfileError(f"profiles: more than {MAX_CONFIG_PROFILES} configured")
        configured = {}
        for name, document in documents.items():
            if not _NAME.match(name):
                raise ProfileError(f"profiles.{name}: not a profile name ([a-z0-9_]{{1,32}})")
            if isinstance(document, dict) and "name" not in document:
                document = {**document, "name": name}
            configured[name] = parse_profile(document, f"profiles.{name}", expected_name=name)
        return cls(configured, profiles_dir)

    def get(self, name: str) -> MeterProfile:
        configured = self._configured.get(name)
        if configured is not None:
            return configured
        return load_profile(name, self._dir)

    def names(self) -> list[str]:
        return sorted(set(available_profiles(self._dir)) | set(self._configured))

    def is_configured(self, name: str) -> bool:
        return name in self._configured

    def versions(self, names: list[str]) -> dict[str, str]:
        """``{profile: "<version>.<hash>"}`` for the profiles in use (unknown ones left out)."""
        versions: dict[str, str] = {}
        for name in sorted(set(names)):
            try:
                versions[name] = fingerprint(self.get(name))
            except ProfileError:
                continue
        return versions


@lru_cache(maxsize=1)
def shipped_library() -> ProfileLibrary:
    return ProfileLibrary()
