"""The portal under API Gateway's stage prefix (``https://<api>/api/...``) and at the root.

The app is driven through chalice's test client with the local API Gateway's event
converter (``local_run.api_gateway``), so each request carries ``requestContext.path``
and ``stage`` as API Gateway sends them. A crawler signs in as each kind of user and
follows every link of every page it reaches: no link, form, asset, redirect or cookie
may leave the mount the page was asked under.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import pytest
from chalice.test import Client

from app import app
from chalicelib.wiring.container import Container
from local_aws.demo_data import DEMO_PASSWORD
from local_run.api_gateway import install

from .browser_client import Browser

STAGE = "api"
MAX_PAGES = 60
# Links the crawler does not follow: downloads and language switches (checked, not taken).
NOT_FOLLOWED = ("format=csv", "/lang/")


@pytest.fixture(scope="module")
def staged(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        install(c.http._local_gateway, STAGE)
        yield c


URL_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "form": "action"}


class _Links(HTMLParser):
    """Every URL a page makes the browser ask for: links, forms, assets."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = URL_ATTRIBUTES.get(tag)
        for name, value in attrs:
            if name == wanted and value is not None:
                self.found.append((tag, value))


def _outside(url: str, mount: str) -> bool:
    if url.startswith(("#", "mailto:", "tel:", "data:")):
        return False
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/"):
        return True  # another site, or a relative path that depends on where the page is
    return not (parts.path == mount or parts.path.startswith(f"{mount}/"))


def _cookie_paths(response: Any) -> list[str]:
    raw = response.headers.get("set-cookie")
    values = raw if isinstance(raw, list) else ([raw] if raw else [])
    paths = []
    for value in values:
        jar: SimpleCookie = SimpleCookie()
        jar.load(value)
        paths.extend(m["path"] for m in jar.values())
    return paths


def crawl(browser: Browser, starts: list[str], mount: str) -> tuple[set[str], list[str]]:
    """Breadth-first over GET links from ``starts``; returns the pages seen and every escape."""
    seen: set[str] = set()
    queue = list(starts)
    escapes: list[str] = []
    cookie_path = mount or "/"
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        # one visit per path: chart periods and statement months differ by query only
        if path.split("?")[0] in {p.split("?")[0] for p in seen}:
            continue
        seen.add(path)
        response = browser.get(path)
        assert response.status_code < 500, (path, response.status_code)
        for p in _cookie_paths(response):
            if p != cookie_path:
                escapes.append(f"{path}: cookie Path={p}")
        location = response.headers.get("location")
        if location:
            if _outside(location, mount):
                escapes.append(f"{path}: redirect to {location}")
            else:
                queue.append(location)
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = _Links()
        parser.feed(response.body.decode())
        for tag, url in parser.found:
            if _outside(url, mount):
                escapes.append(f"{path}: <{tag}> {url}")
            elif tag in {"a", "link", "img"} and not any(m in url for m in NOT_FOLLOWED):
                queue.append(url)  # (the parser has already unescaped &amp;)
    return seen, escapes


@pytest.mark.parametrize(
    ("email", "screen", "home"),
    [
        ("admin@formosa.example", "/signin", "/portal"),
        ("landlord@formosa.example", "/signin", "/portal"),
        ("tenant@formosa.example", "/tenant/signin", "/tenant"),
        ("shop@formosa.example", "/tenant/signin", "/tenant"),
    ],
)
def test_no_link_form_asset_redirect_or_cookie_leaves_the_stage(
    staged: Client, email: str, screen: str, home: str
) -> None:
    mount = f"/{STAGE}"
    browser = Browser(staged)
    # GIVEN the sign-in screens and the brand screens, under the stage
    public, escapes = crawl(
        browser, [f"{mount}/", f"{mount}{screen}", f"{mount}/b/formosa/signin"], mount
    )
    assert not escapes, escapes
    assert len(public) >= 5, public  # screens, forgotten password, theme, stylesheet
    # WHEN the user signs in there
    signed_in = browser.sign_in(email, DEMO_PASSWORD, f"{mount}{screen}")
    # THEN the redirect and the session cookie stay under the stage
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == f"{mount}{home}"
    assert set(_cookie_paths(signed_in)) == {mount}  # session and device cookies
    # AND every page reachable from home links, posts and loads only under it
    pages, escapes = crawl(browser, [f"{mount}{home}"], mount)
    assert not escapes, escapes
    assert len(pages) >= 5, pages  # it did walk the portal, not just one page
    assert any("/receipts/" in p or "/bills" in p for p in pages), pages
    # AND signing out clears the cookie on the same path and lands on the stage's sign-in
    csrf = browser.csrf_of(f"{mount}{home}")
    out = browser.post(f"{mount}/signout", {}, csrf=csrf)
    assert out.headers["location"] == f"{mount}{screen}"
    assert _cookie_paths(out) == [mount]


def test_the_same_app_at_the_root_links_to_the_root(staged: Client) -> None:
    # GIVEN a custom domain mapped to the stage: the path has no stage segment
    browser = Browser(staged)
    # WHEN the landlord signs in there
    signed_in = browser.sign_in("landlord@formosa.example", DEMO_PASSWORD, "/signin")
    # THEN everything stays at the root, with root cookies
    assert signed_in.headers["location"] == "/portal"
    assert set(_cookie_paths(signed_in)) == {"/"}
    pages, escapes = crawl(browser, ["/portal"], "")
    assert not escapes, escapes
    assert not any(p.startswith(f"/{STAGE}/") for p in pages), pages
    assert len(pages) >= 5


def test_the_language_switch_returns_to_the_page_under_the_stage(staged: Client) -> None:
    browser = Browser(staged)
    page = browser.get(f"/{STAGE}/tenant/signin")
    assert 'href="/api/lang/zh_TW?next=/tenant/signin"' in page.body.decode()
    back = browser.get(f"/{STAGE}/lang/zh_TW?next=/tenant/signin")
    assert back.headers["location"] == f"/{STAGE}/tenant/signin"
    assert _cookie_paths(back) == [f"/{STAGE}"]
    # an address of another site is still refused (the mount is put in front of paths only)
    away = browser.get(f"/{STAGE}/lang/en?next=//evil.example/x")
    assert away.headers["location"] == f"/{STAGE}/"
