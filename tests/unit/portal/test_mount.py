"""Where the portal is mounted, from API Gateway's event; and templates that only link
through ``url()``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.web.mount import InvalidAppPathError, Mount, mount_of

TEMPLATES = Path(__file__).resolve().parents[3] / "branding" / "templates"


def event(path: str, route: str, stage: str = "api") -> dict[str, str]:
    return {"path": path, "resourcePath": route, "stage": stage}


@pytest.mark.parametrize(
    ("path", "route", "base", "inside"),
    [
        # the stage's own domain: https://<api>.execute-api.../api/...
        ("/api/portal", "/portal", "/api", "/portal"),
        ("/api/portal/units/u-1", "/portal/units/{unit_id}", "/api", "/portal/units/u-1"),
        ("/api/", "/", "/api", "/"),
        ("/api", "/", "/api", "/"),
        # a custom domain mapped at its root
        ("/portal/units/u-1", "/portal/units/{unit_id}", "", "/portal/units/u-1"),
        ("/", "/", "", "/"),
        # a custom domain's base path mapping
        ("/billing/signin", "/signin", "/billing", "/signin"),
        ("/a/b/signin", "/signin", "/a/b", "/signin"),
    ],
)
def test_the_mount_is_what_the_browser_asked_for_minus_the_route(
    path: str, route: str, base: str, inside: str
) -> None:
    mount = mount_of(event(path, route))
    assert mount == Mount(base, inside)


def test_a_parameter_that_arrived_with_its_slash_decoded_falls_back_to_the_stage() -> None:
    # /api/portal/units/a%2Fb seen decoded: the route's literals do not line up
    mount = mount_of(event("/api/portal/units/a/b", "/portal/units/{unit_id}"))
    assert mount.base == "/api"
    # and without the stage in front: the root, never a made-up prefix
    assert mount_of(event("/portal/units/a/b", "/portal/units/{unit_id}")).base == ""


def test_nothing_odd_becomes_a_mount() -> None:
    # a segment a browser could read as something else is never put in front of a path
    assert mount_of(event("/a%2F%2Fevil/signin", "/signin", stage="x")).base == ""
    assert mount_of(event("/1/2/3/4/5/signin", "/signin", stage="x")).base == ""
    # chalice's test client and a bare event: the root
    assert mount_of({}).base == ""


def test_urls_put_the_mount_in_front_and_refuse_what_is_not_an_app_path() -> None:
    staged = Mount("/api", "/")
    assert staged.url("/portal/units/u-1", done="1") == "/api/portal/units/u-1?done=1"
    assert staged.url("/") == "/api/"
    assert staged.cookie_path == "/api"
    assert Mount("", "/").url("/signin") == "/signin"
    assert Mount("", "/").cookie_path == "/"
    for bad in ("//evil.example/x", "https://evil.example/", "portal", "/\\evil"):
        with pytest.raises(InvalidAppPathError):
            staged.url(bad)


LINK = re.compile(r'\b(?:href|src|action)="([^"]*)"')
NOT_A_PATH = ("#", "mailto:", "tel:", "data:")


def test_every_template_link_goes_through_url() -> None:
    """A literal "/portal/..." in a template would escape the stage: only url(...) links."""
    offenders = [
        f"{f.name}: {value}"
        for f in sorted(TEMPLATES.glob("*.html"))
        for value in LINK.findall(f.read_text(encoding="utf-8"))
        if not value.startswith(NOT_A_PATH) and not re.fullmatch(r"\{\{ url\(.*\) \}\}", value)
    ]
    assert not offenders, offenders
    assert len(list(TEMPLATES.glob("*.html"))) > 10
