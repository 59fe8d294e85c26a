"""Where the portal is mounted: the path in front of every route, per request.

API Gateway serves the same app at ``https://<api>.execute-api.../api/...`` (the stage
is the first segment) and, through a custom domain's base path mapping, at the root
(``https://portal.example/...``) or under a mapped base path. The Lambda sees the route
(``requestContext.resourcePath``) and the path the browser asked for
(``requestContext.path``, which keeps the stage or the base path); what the browser asked
for minus the route is the mount, so every link, redirect and cookie this request answers
with stays under it. Docs: "Set up Lambda proxy integrations in API Gateway" (input
format: ``requestContext.path``, ``resourcePath``, ``stage``) and "Use API mappings to
connect API stages to a custom domain name for REST APIs".

This module is the one place that computes it; pages build every URL with ``Mount.url``
(templates call it as ``url(...)``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

# A mount is a few plain path segments: nothing a browser could read as another host or
# a query, so a redirect built on it stays on this site.
_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
MAX_MOUNT_SEGMENTS = 4


class InvalidAppPathError(ValueError):
    """A page asked for a URL of something that is not a path of this app."""


@dataclass(frozen=True)
class Mount:
    """The request's mount (``""`` at the root, ``"/api"`` under the stage) and the path
    of the page inside the app."""

    base: str
    app_path: str

    def url(self, path: str, **params: str) -> str:
        """The browser's URL of an app path (``/portal/units/u1``), query appended."""
        url = f"{self.base}{app_path(path)}"
        return f"{url}?{urlencode(params)}" if params else url

    @property
    def cookie_path(self) -> str:
        return self.base or "/"


ROOT = Mount("", "/")


def app_path(raw: str) -> str:
    """``raw`` parsed and re-serialised if it is a path of this app (with its query).

    The one check for every URL a page builds or is sent back to. Browsers drop tabs and
    newlines from a Location and read a backslash as a slash, so ``/<tab>/evil.example``
    is ``//evil.example``: another host. Any control character, backslash, scheme or host
    is refused with :class:`InvalidAppPathError`.
    """
    if not raw or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw) or "\\" in raw:
        raise InvalidAppPathError(f"not a path of this app: {raw!r}")
    parts = urlsplit(raw)
    bad_start = not parts.path.startswith("/") or parts.path.startswith("//")
    if parts.scheme or parts.netloc or bad_start or raw.startswith("//"):
        raise InvalidAppPathError(f"not a path of this app: {raw!r}")
    return urlunsplit(("", "", parts.path, parts.query, ""))


def mount_of(request_context: Mapping[str, Any]) -> Mount:
    """The mount of one API Gateway request (Chalice's ``request.context``).

    The route's segments are matched against the end of the asked path; what is left in
    front is the mount. A path that does not end in the route
    (e.g. a parameter holding an encoded ``/`` that arrived decoded) falls back to the
    stage when the path starts with it, else to the root.
    """
    path = str(request_context.get("path") or "/")
    route = str(request_context.get("resourcePath") or "/")
    asked = _segments(path)
    wanted = _segments(route)
    cut = len(asked) - len(wanted)
    if cut >= 0 and cut <= MAX_MOUNT_SEGMENTS and _ends_in_route(asked[cut:], wanted):
        head = asked[:cut]
        if all(_SEGMENT.fullmatch(s) for s in head):
            base = "".join(f"/{s}" for s in head)
            return Mount(base, _inside(path, base))
    stage = str(request_context.get("stage") or "")
    if _SEGMENT.fullmatch(stage) and asked[:1] == [stage]:
        base = f"/{stage}"
        return Mount(base, _inside(path, base))
    return Mount("", path)


def _segments(path: str) -> list[str]:
    trimmed = path.rstrip("/")
    return trimmed.split("/")[1:] if trimmed else []


def _ends_in_route(tail: list[str], route: list[str]) -> bool:
    return all(r.startswith("{") or r == t for t, r in zip(tail, route, strict=True))


def _inside(path: str, base: str) -> str:
    inner = path[len(base) :] if base and path.startswith(base) else path
    return inner if inner.startswith("/") else f"/{inner}"
