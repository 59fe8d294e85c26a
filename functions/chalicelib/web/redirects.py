"""Where a page may send the reader back to: a path of this site, nothing else.

A ``next`` parameter comes from the URL, so anyone can write it; the mount's one check
(:func:`.mount.app_path`) decides, and anything it refuses sends the reader home.
"""

from __future__ import annotations

from .mount import InvalidAppPathError, app_path

HOME = "/"


def local_target(raw: str | None, fallback: str = HOME) -> str:
    """``raw`` if it is a path on this site (with its query), else ``fallback``."""
    try:
        return app_path(raw or "")
    except InvalidAppPathError:
        return fallback
