"""A corpus of template-injection, XSS, CSS-injection and header-injection
payloads in every brand field: each one is refused by the schema, or stored
and then rendered as inert text."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chalice.test import Client
from markupsafe import escape

from chalicelib.branding.errors import InvalidBrandError
from chalicelib.branding.schema import parse_brand
from chalicelib.data import builders
from chalicelib.wiring.container import Container
from tests.functional.portal.browser_client import text

pytestmark = pytest.mark.functional

COMPANY = "inject-co"
HOST = "inject.localhost"

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "{{ config.items() }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
    "{# comment #}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "javascript:alert(1)",
    '" onmouseover="alert(1)',
    "'; background:url(javascript:alert(1));'",
    "red;} body{background:url(//evil.example/x)}",
    "#ffffff; --x: url(//evil.example)",
    "expression(alert(1))",
    "</style><script>alert(1)</script>",
    "a\r\nBcc: victim@example.com",
    "\u0000\u202e",
    "&lt;script&gt;",
]

BASE: dict[str, Any] = {
    "slug": "inject-co",
    "display_name": "Inject Co",
    "colours": {
        "primary": "#0b5cad",
        "primary_text": "#ffffff",
        "background": "#f5f6f8",
        "surface": "#ffffff",
        "text": "#1b1f24",
        "muted": "#545d68",
    },
    "custom_domains": [HOST],
    "support_email": "help@inject.example",
    "support_phone": "+886227001234",
    "email_sender_name": "Inject Co",
    "email_sender_address": "no-reply@inject.example",
    "sms_sender_id": "Inject",
    "default_locale": "en",
    "currency": "TWD",
    "time_zone": "Asia/Taipei",
    "legal_footer": "Inject Co Ltd",
}
FIELDS = [
    ("slug",),
    ("display_name",),
    ("logo_key",),
    ("colours", "primary"),
    ("colours", "primary_text"),
    ("colours", "background"),
    ("colours", "surface"),
    ("colours", "text"),
    ("colours", "muted"),
    ("custom_domains", 0),
    ("support_email",),
    ("support_phone",),
    ("email_sender_name",),
    ("email_sender_address",),
    ("sms_sender_id",),
    ("default_locale",),
    ("currency",),
    ("time_zone",),
    ("legal_footer",),
]
# fields a page shows: an accepted payload there must appear escaped, verbatim
SHOWN = {("display_name",), ("legal_footer",), ("support_email",), ("support_phone",)}


def _with(field: tuple[Any, ...], payload: str) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    target: Any = raw
    for part in field[:-1]:
        target = target[part]
    target[field[-1]] = payload
    return raw


@pytest.fixture(scope="module")
def inject_company(services: Container) -> str:
    from datetime import UTC, datetime

    builders.company(COMPANY, "Inject Co", datetime.now(UTC)).save()
    services.brand_store.save(COMPANY, parse_brand(BASE))
    services.brand_store.mark_verified(COMPANY, HOST, datetime.now(UTC))
    return COMPANY


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: ".".join(map(str, f)))
def test_every_payload_in_every_field_is_refused_or_inert(
    client: Client, services: Container, inject_company: str, field: tuple[Any, ...]
) -> None:
    accepted = []
    for payload in PAYLOADS:
        # GIVEN a brand with the payload in this field
        try:
            config = parse_brand(_with(field, payload))
        except InvalidBrandError:
            continue  # refused by the schema: never stored, never rendered
        accepted.append(payload)
        # WHEN it is stored and the brand's sign-in screen and theme are fetched
        previous = services.brand_store.get(inject_company)
        services.brand_store.save(inject_company, config, previous)
        html = text(client.http.get("/signin", headers={"Host": HOST}))
        css = text(client.http.get(f"/brand/{config.slug}/theme.css"))
        # THEN the payload is text: never raw markup, never evaluated
        if any(c in payload for c in "<>\"'&"):
            assert payload not in html
        if field in SHOWN:
            assert str(escape(payload)) in html
        assert "<script>alert" not in html and "onerror=alert" not in html
        assert "url(" not in css and "expression(" not in css
    services.brand_store.save(inject_company, parse_brand(BASE), services.brand_store.get(COMPANY))
    # AND markup and template delimiters never get past the schema at all
    for payload in accepted:
        assert "<" not in payload and "{{" not in payload and "{%" not in payload


def test_a_brand_cannot_point_at_another_brands_logo() -> None:
    raw = _with(("logo_key",), "brands/formosa/logo-0123456789abcdef.png")
    with pytest.raises(InvalidBrandError, match="logo_key"):
        parse_brand(raw)
    assert parse_brand(_with(("logo_key",), "brands/inject-co/logo-0123456789abcdef.png"))
