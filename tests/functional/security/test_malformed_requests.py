"""No malformed request gets a server error, on any route, signed in or not.

Every route the app declares (read from ``app.routes``, so a new route is covered the day
it is added) is called with bodies an attacker or a broken client sends: JSON nested
thousands deep, a megabyte, invalid UTF-8, truncated JSON, the wrong JSON type, NUL and
bidi characters, broken percent-encoding, and query strings of the same kind. Each is
sent as an anonymous caller and as a signed-in company admin (the bearer token on /v1,
the reseller key on /v1/reseller, the portal session with its CSRF token on pages). The
answer must be a refusal (4xx), a page or a redirect, never a 5xx and never a traceback.

Sign-out routes are left out: a malformed sign-out that succeeds ends the session the
rest of the corpus needs (their handler reads no body).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.data import builders
from chalicelib.data.reseller_store import ApiKeyStore
from chalicelib.wiring.container import Container
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack
from tests.functional.portal.api_client import id_token
from tests.functional.portal.browser_client import CSRF, Browser

pytestmark = pytest.mark.functional

PATH_VALUES = {
    "unit_id": "tpe-3f-a",
    "property_id": "tpe-daan",
    "company_id": "co-malformed",
    "slug": "formosa",
    "code": "en",
    "month": "2026-13",
    "bill_id": "no-such-bill",
    "entry_id": "no-such-entry",
    "tenancy_id": "no-such-tenancy",
    "reading_ms": "not-a-number",
    "gateway_id": "no-such-gateway",
    "key_id": "no-such-key",
    "domain": "no-such.example",
}
DEEP = 50_000  # far past the interpreter's recursion limit
JSON_BODIES: dict[str, bytes] = {
    "deep_array": b"[" * DEEP + b"]" * DEEP,
    "deep_object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "megabyte": b'{"a":"' + b"x" * 1_000_000 + b'"}',
    "invalid_utf8": b'{"a":"\xff\xfe\xfd"}',
    "truncated": b'{"amount": ',
    "wrong_type_array": b"[1, 2, 3]",
    "wrong_type_null": b"null",
    "wrong_type_string": b'"hello"',
    "nul_and_bidi": '{"reason": "a\u0000b\u202ec", "note": "\u202e"}'.encode(),
    "huge_number": b'{"amount_minor": 1' + b"0" * 5000 + b"}",
}
FORM_BODIES: dict[str, str] = {
    "bad_percent": "amount=%ZZ&reason=%",
    "invalid_utf8": "amount=%FF%FE&reason=%C3%28",
    "nul": "reason=a%00b&note=%00",
    "repeated": "amount=1&amount=2&amount=3",
    "empty_pairs": "=&=&&&",
    "megabyte": "reason=" + "x" * 1_000_000,
    "json_as_form": '{"amount": 1}',
}
QUERIES = [
    "next=%0A/evil.example",
    "next=/%09/evil.example",
    "next=/%0A/evil.example",
    "next=%2F%2Fevil.example",
    "next=/%5Cevil.example",
    "next=https://evil.example/",
    "page=-1&limit=99999999999999999999",
    "cursor=!!!not-base64!!!",
    "month=%FF",
    "from=9999-99-99&to=0000-00-00",
    "lang=%00",
]
# the sign-outs would end the corpus's own session (and, everywhere, its tokens)
LEFT_OUT = re.compile(r"/signout(/everywhere)?$")
TRACEBACK = re.compile(rb"Traceback \(most recent call last\)")


def _path(template: str) -> str:
    return re.sub(r"\{(\w+)\+?\}", lambda m: PATH_VALUES.get(m.group(1), "x"), template)


def _routes() -> list[tuple[str, str, str | None]]:
    found = []
    for path, methods in sorted(app.routes.items()):
        if LEFT_OUT.search(path):
            continue
        for method, entry in sorted(methods.items()):
            found.append((method, path, entry.authorizer.name if entry.authorizer else None))
    return found


ROUTES = _routes()


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


@pytest.fixture(scope="module")
def credentials(standin: LocalStack, services: Container) -> dict[str, str]:
    token = id_token(standin, "admin@formosa.example")
    builders.reseller("rs-malformed", "Malformed Resale").save()
    key = ApiKeyStore().issue("rs-malformed", datetime.now(UTC), label="malformed corpus")
    return {
        "token_authorizer": f"Bearer {token}",
        "reseller_key_authorizer": f"Bearer {key.secret}",
    }


@pytest.fixture(scope="module")
def portal(client: Client) -> Browser:
    browser = Browser(client)
    answer = browser.sign_in("admin@formosa.example", DEMO_PASSWORD)
    assert answer.status_code in {302, 303}, answer.status_code
    return browser


def _csrf(portal: Browser) -> str:
    found = CSRF.search(portal.get("/portal").body.decode())
    assert found, "no CSRF token on the portal's dashboard"
    return found.group(1)


def _check(answer: Any, what: str) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.body[:300]!r}"
    assert not TRACEBACK.search(answer.body or b""), f"{what}: a traceback in the answer"
    headers = {k.lower(): v for k, v in answer.headers.items()}
    if what.startswith("signed in"):  # answered by the app, not refused at the authorizer
        assert headers.get("strict-transport-security", "").startswith("max-age="), what
        assert headers.get("x-content-type-options") == "nosniff", what
        assert "cache-control" in headers, what
    location = headers.get("location")
    if location:
        assert _stays_on_site(str(location)), f"{what}: redirects off the site to {location!r}"


def _stays_on_site(location: str) -> bool:
    """What a browser does with the Location: it drops tabs and newlines and reads a
    backslash as a slash, so "/<tab>/evil" and "/<backslash>evil" are "//evil", another host."""
    seen = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return seen.startswith("/") and not seen.startswith("//")


@pytest.mark.parametrize(("method", "path", "authorizer"), ROUTES, ids=lambda v: str(v))
def test_no_malformed_request_is_a_server_error(
    client: Client,
    credentials: dict[str, str],
    portal: Browser,
    method: str,
    path: str,
    authorizer: str | None,
) -> None:
    url = _path(path)
    callers: dict[str, dict[str, str]] = {"anonymous": {}}
    if authorizer:
        callers["signed in"] = {"Authorization": credentials[authorizer]}
    else:
        callers["signed in"] = {"Cookie": "; ".join(f"{k}={v}" for k, v in portal.cookies.items())}
    for caller, headers in callers.items():
        for query in QUERIES:
            answer = client.http.request(method, f"{url}?{query}", headers=headers, body=b"")
            _check(answer, f"{caller} {method} {url}?{query}")
        if method == "GET":
            continue
        if url.startswith("/v1"):
            for name, body in JSON_BODIES.items():
                json_headers = {**headers, "Content-Type": "application/json"}
                answer = client.http.request(method, url, headers=json_headers, body=body)
                _check(answer, f"{caller} {method} {url} with {name}")
        else:
            token = _csrf(portal) if caller == "signed in" else "forged"
            form_headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
            for name, form in FORM_BODIES.items():
                body = f"csrf_token={token}&{form}".encode()
                answer = client.http.request(method, url, headers=form_headers, body=body)
                _check(answer, f"{caller} {method} {url} with {name}")
