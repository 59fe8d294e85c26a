"""Every route declares who may call it, and every route is tested here against
another company, another tenant and an anonymous caller.

The test client runs the real custom authorizer, which verifies each token's
signature against the stand-in user pool's JWKS.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from chalice.test import Client
from cryptography.hazmat.primitives.asymmetric import rsa

from app import app
from chalicelib.branding.schema import BrandConfig
from chalicelib.data import builders
from chalicelib.data.reseller_store import ApiKeyStore
from chalicelib.pipeline.alerts import Alert
from chalicelib.routing.access import ROUTE_ACCESS
from chalicelib.web.cookies import SESSION_COOKIE
from chalicelib.web.pages import PAGE_ROUTES
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.access_cases import feature_cases
from tests.functional.access_cases.common import (
    ANON,
    ANY_READ_API,
    DEMO_RECEIPT,
    FORGED,
    OUTSIDERS,
    STAFF_READ_PAGE,
    STAFF_WRITE_API,
    STAFF_WRITE_PAGE,
    USERS,
)
from tests.functional.access_cases.statements import DEMO_ALERT
from tests.functional.portal.api_client import id_token

pytestmark = pytest.mark.functional

# (method, route) -> (concrete path, expected status per caller). Every route of
# the app must be here, and every non-public route must name the three
# outsiders: another company, another tenant, anonymous.
CASES: dict[tuple[str, str], tuple[str, dict[str, int]]] = {
    ("GET", "/health"): ("/health", {ANON: 200}),
    ("GET", "/v1/me"): (
        "/v1/me",
        {
            "admin": 200,
            "tenant": 200,
            "other_company_admin": 200,
            "other_tenant": 200,
            ANON: 401,
            FORGED: 403,
        },
    ),
    ("GET", "/v1/properties"): (
        "/v1/properties",
        {
            "admin": 200,
            "landlord": 200,
            "manager": 200,
            "tenant": 403,
            "other_tenant": 403,
            "other_company_admin": 200,
            "other_company_tenant": 403,
            ANON: 401,
            FORGED: 403,
        },
    ),
    ("GET", "/v1/properties/{property_id}/units"): (
        "/v1/properties/tpe-daan/units",
        {
            "admin": 200,
            "landlord": 200,
            "manager": 404,
            "tenant": 403,
            "other_tenant": 403,
            "other_company_admin": 404,
            "other_company_tenant": 403,
            ANON: 401,
            FORGED: 403,
        },
    ),
    ("GET", "/v1/units/{unit_id}"): (
        "/v1/units/tpe-3f-a",
        ANY_READ_API,
    ),
    ("GET", "/v1/units/{unit_id}/ledger"): (
        "/v1/units/tpe-3f-a/ledger",
        ANY_READ_API,
    ),
    # --- JSON API of the portal ---
    ("GET", "/v1/dashboard"): (
        "/v1/dashboard",
        {
            "admin": 200,
            "landlord": 200,
            "manager": 200,
            "tenant": 403,
            "other_tenant": 403,
            "other_company_admin": 200,
            "other_company_tenant": 403,
            ANON: 401,
            FORGED: 403,
        },
    ),
    ("GET", "/v1/units/{unit_id}/overview"): (
        "/v1/units/tpe-3f-a/overview",
        ANY_READ_API,
    ),
    ("GET", "/v1/units/{unit_id}/receipts/{entry_id}"): (
        f"/v1/units/tpe-3f-a/receipts/{DEMO_RECEIPT}",
        ANY_READ_API,
    ),
    # POSTs carry an invalid body: allowed callers get 400 (nothing changes),
    # everyone else is refused before the body is looked at.
    ("POST", "/v1/units/{unit_id}/top-ups"): ("/v1/units/tpe-3f-a/top-ups", STAFF_WRITE_API),
    ("POST", "/v1/units/{unit_id}/relay"): ("/v1/units/tpe-3f-a/relay", STAFF_WRITE_API),
    ("GET", "/v1/tenant/units"): (
        "/v1/tenant/units",
        {
            "admin": 403,
            "tenant": 200,
            "other_tenant": 200,
            "other_company_admin": 403,
            "other_company_tenant": 200,
            ANON: 401,
            FORGED: 403,
        },
    ),
    # --- browser pages (session cookie; anonymous and forged are sent to sign in) ---
    ("GET", "/"): ("/", {ANON: 303}),
    ("GET", "/static/portal.css"): ("/static/portal.css", {ANON: 200}),
    ("GET", "/static/tariff_editor.js"): ("/static/tariff_editor.js", {ANON: 200}),
    ("GET", "/lang/{code}"): ("/lang/zh_TW", {ANON: 303}),
    ("GET", "/signin"): ("/signin", {ANON: 200}),
    ("POST", "/signin"): ("/signin", {ANON: 403}),  # no CSRF token
    ("GET", "/tenant/signin"): ("/tenant/signin", {ANON: 200}),
    ("POST", "/tenant/signin"): ("/tenant/signin", {ANON: 403}),
    ("POST", "/signin/new-password"): ("/signin/new-password", {ANON: 403}),
    ("POST", "/signin/mfa"): ("/signin/mfa", {ANON: 403}),
    ("POST", "/signin/mfa-setup"): ("/signin/mfa-setup", {ANON: 403}),
    ("GET", "/password/forgot"): ("/password/forgot", {ANON: 200}),
    ("POST", "/password/forgot"): ("/password/forgot", {ANON: 403}),
    ("GET", "/password/reset"): ("/password/reset", {ANON: 200}),
    ("POST", "/password/reset"): ("/password/reset", {ANON: 403}),
    ("POST", "/signout"): (
        "/signout",
        {
            "admin": 303,
            "tenant": 303,
            "other_company_admin": 303,
            "other_tenant": 303,
            ANON: 303,
            FORGED: 303,
        },
    ),
    # Signed-in callers post without their CSRF token (NO_CSRF below): a real sign-out
    # everywhere would end the demo users' sessions and tokens for every later test.
    # security/test_session_revocation.py proves the route with its own logins.
    ("POST", "/signout/everywhere"): (
        "/signout/everywhere",
        {"other_company_admin": 403, "other_tenant": 403, ANON: 303, FORGED: 303},
    ),
    ("GET", "/portal"): (
        "/portal",
        {
            "admin": 200,
            "landlord": 200,
            "manager": 200,
            "tenant": 403,
            "other_tenant": 403,
            "other_company_admin": 200,
            "other_company_tenant": 403,
            ANON: 303,
            FORGED: 303,
        },
    ),
    ("GET", "/portal/units/{unit_id}"): ("/portal/units/tpe-3f-a", STAFF_READ_PAGE),
    ("GET", "/portal/units/{unit_id}/receipts/{entry_id}"): (
        f"/portal/units/tpe-3f-a/receipts/{DEMO_RECEIPT}",
        STAFF_READ_PAGE,
    ),
    ("POST", "/portal/units/{unit_id}/top-up"): ("/portal/units/tpe-3f-a/top-up", STAFF_WRITE_PAGE),
    ("POST", "/portal/units/{unit_id}/relay"): ("/portal/units/tpe-3f-a/relay", STAFF_WRITE_PAGE),
    ("GET", "/tenant"): (
        "/tenant",
        {
            "admin": 403,
            "tenant": 200,
            "other_tenant": 200,
            "other_company_admin": 403,
            "other_company_tenant": 200,
            ANON: 303,
            FORGED: 303,
        },
    ),
    ("GET", "/tenant/units/{unit_id}/receipts/{entry_id}"): (
        f"/tenant/units/tpe-3f-a/receipts/{DEMO_RECEIPT}",
        {
            "admin": 403,
            "tenant": 200,
            "other_tenant": 404,
            "other_company_admin": 403,
            "other_company_tenant": 404,
            ANON: 303,
            FORGED: 303,
        },
    ),
}

# --- the reseller API: an API key per reseller; "reseller" owns RESELLER_COMPANY ---
RESELLER = "reseller"
OTHER_RESELLER = "other_reseller"
REVOKED_KEY = "revoked_key"
RESELLER_COMPANY = "alpha-homes"
RESELLER_GATEWAY = "gw-alpha"


def _reseller_case(own: int, other: int) -> dict[str, int]:
    """Company admins' tokens, users and anonymous callers never reach a reseller route."""
    return {
        RESELLER: own,
        OTHER_RESELLER: other,
        REVOKED_KEY: 403,
        "admin": 403,
        "other_company_admin": 403,
        "other_tenant": 403,
        ANON: 401,
        FORGED: 403,
    }


_CO = f"/v1/reseller/companies/{RESELLER_COMPANY}"
CASES.update(
    {
        # creates carry an invalid body: 400 for a reseller, nothing is created
        ("POST", "/v1/reseller/companies"): ("/v1/reseller/companies", _reseller_case(400, 400)),
        ("GET", "/v1/reseller/companies"): ("/v1/reseller/companies", _reseller_case(200, 200)),
        ("GET", "/v1/reseller/companies/{company_id}"): (_CO, _reseller_case(200, 404)),
        ("PUT", "/v1/reseller/companies/{company_id}/brand"): (
            f"{_CO}/brand",
            _reseller_case(400, 404),
        ),
        ("PUT", "/v1/reseller/companies/{company_id}/brand/logo"): (
            f"{_CO}/brand/logo",
            _reseller_case(415, 404),
        ),
        ("POST", "/v1/reseller/companies/{company_id}/gateways"): (
            f"{_CO}/gateways",
            _reseller_case(400, 404),
        ),
        ("POST", "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/meters"): (
            f"{_CO}/gateways/{RESELLER_GATEWAY}/meters",
            _reseller_case(400, 404),
        ),
        ("GET", "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/deployment"): (
            f"{_CO}/gateways/{RESELLER_GATEWAY}/deployment",
            _reseller_case(200, 404),
        ),
        ("GET", "/v1/reseller/meter-models"): (
            "/v1/reseller/meter-models",
            _reseller_case(200, 200),
        ),
        ("GET", "/v1/reseller/companies/{company_id}/usage/{month}"): (
            f"{_CO}/usage/2026-11",
            _reseller_case(200, 404),
        ),
        ("POST", "/v1/reseller/companies/{company_id}/suspend"): (
            f"{_CO}/suspend",
            _reseller_case(200, 404),
        ),
        ("POST", "/v1/reseller/companies/{company_id}/resume"): (
            f"{_CO}/resume",
            _reseller_case(200, 404),
        ),
        # an invalid body (not an object with a label): nothing is issued
        ("POST", "/v1/reseller/keys"): ("/v1/reseller/keys", _reseller_case(400, 400)),
        # the path names the revoked key: revoking it again is a no-op for its owner
        ("DELETE", "/v1/reseller/keys/{key_id}"): (
            "/v1/reseller/keys/{revoked_key_id}",
            _reseller_case(200, 404),
        ),
        # --- brand assets and the /b/<slug>/ sign-in screens (public) ---
        ("GET", "/brand/{slug}/theme.css"): ("/brand/formosa/theme.css", {ANON: 200}),
        ("GET", "/brand/{slug}/logo"): ("/brand/formosa/logo", {ANON: 404}),
        ("GET", "/b/{slug}/signin"): ("/b/formosa/signin", {ANON: 200}),
        ("POST", "/b/{slug}/signin"): ("/b/formosa/signin", {ANON: 403}),
        ("GET", "/b/{slug}/tenant/signin"): ("/b/formosa/tenant/signin", {ANON: 200}),
        ("POST", "/b/{slug}/tenant/signin"): ("/b/formosa/tenant/signin", {ANON: 403}),
    }
)
# the catalogue of meter models is the product's, not a company's: any staff reads it,
# as any staff lists their own properties
CASES[("GET", "/v1/meter-models")] = ("/v1/meter-models", CASES[("GET", "/v1/properties")][1])
CASES.update(feature_cases())  # the routes of later features, one module each


def app_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, methods in app.routes.items() for method in methods}


def test_every_route_declares_access_and_has_an_access_test() -> None:
    routes = app_routes()
    assert routes == set(ROUTE_ACCESS), "a route was registered without access.route()"
    assert routes == set(CASES), f"routes without an access test: {routes - set(CASES)}"
    for key, (_, expected) in CASES.items():
        if ROUTE_ACCESS[key]:  # not public
            assert set(expected) >= OUTSIDERS, f"{key} lacks an outsider case"


@pytest.fixture(scope="module")
def tokens(standin: LocalStack, services: Container) -> dict[str, str]:
    out = {label: id_token(standin, email) for label, email in USERS.items()}
    out[FORGED] = _forged_like(out["admin"])
    out.update(_reseller_keys(services))
    return out


def _reseller_keys(services: Container) -> dict[str, str]:
    """Two resellers with a key each; the first owns a branded company with a
    gateway; a third key, revoked, of the first."""
    now = datetime.now(UTC)
    builders.reseller("rs-alpha", "Alpha Resale").save()
    builders.reseller("rs-beta", "Beta Resale").save()
    builders.company(RESELLER_COMPANY, "Alpha Homes", now, reseller_id="rs-alpha").save()
    services.brand_store.save(
        RESELLER_COMPANY,
        BrandConfig(
            slug=RESELLER_COMPANY,
            display_name="Alpha Homes",
            support_email="help@alpha.example",
            email_sender_name="Alpha Homes",
            email_sender_address="no-reply@alpha.example",
            sms_sender_id="Alpha",
        ),
    )
    builders.gateway(
        RESELLER_COMPANY, RESELLER_GATEWAY, "pl-alpha-homes-gw-alpha", property_id="p1"
    ).save()
    store = ApiKeyStore()
    revoked = store.issue("rs-alpha", now, label="revoked")
    assert store.revoke("rs-alpha", revoked.key_id, now)
    REVOKED_KEY_ID[0] = revoked.key_id
    return {
        RESELLER: store.issue("rs-alpha", now).secret,
        OTHER_RESELLER: store.issue("rs-beta", now).secret,
        REVOKED_KEY: revoked.secret,
    }


REVOKED_KEY_ID = [""]


def _forged_like(token: str) -> str:
    """Same claims as a real admin token, signed by a key the pool never issued."""
    claims = jwt.decode(token, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    # an open condition for the alert routes' cases (access_cases/statements.py)
    topic, subject = DEMO_ALERT
    services.notifier.notify(Alert("formosa", topic, subject, datetime.now(UTC), "staff"))
    with Client(app) as c:
        yield c


NO_CSRF = {("POST", "/signout/everywhere")}
CALLS = [
    (key, caller, status)
    for key, (_, expected) in CASES.items()
    for caller, status in expected.items()
]


@pytest.mark.parametrize(("route", "caller", "status"), CALLS, ids=lambda v: str(v))
def test_route_access(
    client: Client,
    tokens: dict[str, str],
    services: Container,
    route: tuple[str, str],
    caller: str,
    status: int,
) -> None:
    path = CASES[route][0].replace("{revoked_key_id}", REVOKED_KEY_ID[0])
    if route in PAGE_ROUTES:
        headers, body = _page_request(services, tokens, route[0], caller)
        if route in NO_CSRF:
            body = ""
    else:
        headers = {} if caller == ANON else {"Authorization": f"Bearer {tokens[caller]}"}
        body = None
        if route[0] in {"POST", "PUT"}:
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = secrets.token_urlsafe(12)
            body = "{}"
    response = client.http.request(route[0], path, headers=headers, body=body)
    assert response.status_code == status, response.body
    if status == 200 and caller != ANON:
        if route in PAGE_ROUTES:
            _assert_no_foreign_data(caller, response.body.decode())
        else:
            _assert_no_foreign_data(caller, json.loads(response.body))


def _page_request(
    services: Container, tokens: dict[str, str], method: str, caller: str
) -> tuple[dict[str, str], str | None]:
    """A browser's request: a fresh session cookie for the caller (so sign-out
    cases do not end anyone else's), and for a POST a form with its CSRF token."""
    headers: dict[str, str] = {}
    form: dict[str, str] = {}
    if caller == FORGED:
        headers["Cookie"] = f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"
    elif caller != ANON:
        claims = jwt.decode(tokens[caller], options={"verify_signature": False})
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        services.web_sessions.create(
            session_id,
            company_id=claims["custom:company_id"],
            user_sub=claims["sub"],
            email=USERS[caller],
            audience="tenant" if "tenant" in caller else "staff",
            csrf_token=csrf,
            now=datetime.now(UTC),
            lifetime_s=600,
        )
        headers["Cookie"] = f"{SESSION_COOKIE}={session_id}"
        form["csrf_token"] = csrf
    if method != "POST":
        return headers, None
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers, urlencode(form)


def _assert_no_foreign_data(caller: str, body: Any) -> None:
    text = json.dumps(body)
    foreign = "formosa" if caller.startswith("other_company") else "thames"
    assert foreign not in text.lower()


def test_landlord_sees_only_delegated_properties(client: Client, tokens: dict[str, str]) -> None:
    response = client.http.get(
        "/v1/properties", headers={"Authorization": f"Bearer {tokens['landlord']}"}
    )
    ids = [p["property_id"] for p in json.loads(response.body)["properties"]]
    assert ids == ["tpe-daan"]


def test_tenant_sees_own_balance_and_top_up(client: Client, tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {tokens['tenant']}"}
    unit = json.loads(client.http.get("/v1/units/tpe-3f-a", headers=auth).body)
    assert unit["balance"] == {"amount_minor": 100000, "currency": "TWD"}
    ledger = json.loads(client.http.get("/v1/units/tpe-3f-a/ledger", headers=auth).body)
    assert [e["kind"] for e in ledger["entries"]] == ["top_up"]


def test_unknown_ids_and_malformed_ids_answer_404(client: Client, tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    assert client.http.get("/v1/units/no-such-unit", headers=auth).status_code == 404
    # a '#' would forge another key prefix: refused as not found, never looked up
    assert client.http.get("/v1/units/tpe%233f", headers=auth).status_code == 404
