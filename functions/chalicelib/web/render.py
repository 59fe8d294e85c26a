"""Jinja2 rendering from the ``branding/`` templates (autoescape on).

The templates live in the repository's ``branding/`` so the Brands issue can
theme them. In AWS the build copies that folder into ``chalicelib/branding``
(chalice packages only ``chalicelib/``); ``POWERLET_BRANDING_DIR`` overrides both.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..routing.web_settings import WebSettings

_HERE = Path(__file__).resolve()
_CANDIDATES = (_HERE.parents[1] / "branding", _HERE.parents[3] / "branding")


def branding_dir(settings: WebSettings) -> Path:
    if settings.branding_dir:
        return Path(settings.branding_dir)
    for candidate in _CANDIDATES:
        if (candidate / "templates").is_dir():
            return candidate
    raise FileNotFoundError(f"no branding/templates in {[str(c) for c in _CANDIDATES]}")


@lru_cache(maxsize=4)
def environment(root: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(Path(root) / "templates")),
        autoescape=select_autoescape(["html", "htm", "xml", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render(settings: WebSettings, template: str, **context: Any) -> str:
    return environment(str(branding_dir(settings))).get_template(template).render(**context)


@lru_cache(maxsize=8)
def static_asset(root: str, name: str) -> str:
    return (Path(root) / "static" / name).read_text(encoding="utf-8")
