"""Jinja2 rendering from the ``branding/`` templates (autoescape on).

The templates live in the repository's ``branding/`` so the Brands issue can
theme them. In AWS the build copies that folder into ``chalicelib/branding``
(chalice packages only ``chalicelib/``); ``POWERLET_BRANDING_DIR`` overrides both.

Templates translate with Jinja2's i18n extension: ``_("key", name=value)`` and
``ngettext("key", "key", n, name=value)``, bound to the reader's ``Translator``
on every render (docs/portal.md, "Message catalogue").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..routing.web_settings import WebSettings
from .i18n import Translator

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
        extensions=["jinja2.ext.i18n"],
    )
    return env


def render(settings: WebSettings, template: str, *, tr: Translator, **context: Any) -> str:
    # The reader's catalogue goes in the render's context, where the extension's
    # ``_`` looks ``gettext`` up, not on the environment: the environment is
    # shared by every request the container serves (install_gettext_callables
    # there would let one reader's language reach another's page).
    page = environment(str(branding_dir(settings))).get_template(template)
    return page.render(tr=tr, gettext=tr.gettext, ngettext=tr.ngettext, **context)


@lru_cache(maxsize=8)
def static_asset(root: str, name: str) -> str:
    return (Path(root) / "static" / name).read_text(encoding="utf-8")
