"""Where a page may send the reader back to: a path of this site, nothing else.

A ``next`` parameter comes from the URL, so anyone can write it. Browsers drop tabs and
newlines from a Location and read a backslash as a slash, so ``/<tab>/evil.example`` is
``//evil.example``: another host. A target is therefore parsed and re-serialised, and
refused if any control character, backslash, scheme or host is in it.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

HOME = "/"


def local_target(raw: str | None, fallback: str = HOME) -> str:
    """``raw`` if it is a path on this site (with its query), else ``fallback``."""
    if not raw or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw) or "\\" in raw:
        return fallback
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return fallback
    if raw.startswith("//") or parts.path.startswith("//"):  # a host, however many slashes
        return fallback
    return urlunsplit(("", "", parts.path, parts.query, ""))
