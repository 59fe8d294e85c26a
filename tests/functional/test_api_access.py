"""Every route declares who may call it, and every route is tested here against
another company, another tenant and an anonymous caller.

The test client runs the real custom authorizer, which verifies each token's
signature against the stand-in user pool's JWKS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from chalice.test import Client
from cryptography.hazmat.primitives.asymmetric import rsa

from app import app
from chalicelib.api.access import ROUTE_ACCESS
from chalicelib.api.services import Services
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

pytestmark = pytest.mark.functional

USERS = {
    "admin": "admin@formosa.example",
    "landlord": "landlord@formosa.example",  # tpe-daan only
    "manager": "manager@formosa.example",  # khh-yancheng only
    "tenant": "tenant@formosa.example",  # tpe-3f-a
    "other_tenant": "tenant2@formosa.example",  # tpe-2f, same company
    "other_company_admin": "admin@thames.example",
    "other_company_tenant": "tenant@thames.example",
}
ANON = "anonymous"
FORGED = "forged_token"

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
        {
            "admin": 200,
            "landlord": 200,
            "manager": 404,
            "tenant": 200,
            "other_tenant": 404,
            "other_company_admin": 404,
            "other_company_tenant": 404,
            ANON: 401,
            FORGED: 403,
        },
    ),
    ("GET", "/v1/units/{unit_id}/ledger"): (
        "/v1/units/tpe-3f-a/ledger",
        {
            "admin": 200,
            "landlord": 200,
            "manager": 404,
            "tenant": 200,
            "other_tenant": 404,
            "other_company_admin": 404,
            "other_company_tenant": 404,
            ANON: 401,
            FORGED: 403,
        },
    ),
}
OUTSIDERS = {"other_company_admin", "other_tenant", ANON}


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
def tokens(standin: LocalStack, services: Services) -> dict[str, str]:
    assert standin.resources is not None
    cognito = boto3.client("cognito-idp")
    out = {}
    for label, email in USERS.items():
        result = cognito.initiate_auth(
            ClientId=standin.resources.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD},
        )
        out[label] = result["AuthenticationResult"]["IdToken"]
    out[FORGED] = _forged_like(out["admin"])
    return out


def _forged_like(token: str) -> str:
    """Same claims as a real admin token, signed by a key the pool never issued."""
    claims = jwt.decode(token, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[Client]:
    with Client(app) as c:
        yield c


CALLS = [
    (key, caller, status)
    for key, (_, expected) in CASES.items()
    for caller, status in expected.items()
]


@pytest.mark.parametrize(("route", "caller", "status"), CALLS, ids=lambda v: str(v))
def test_route_access(
    client: Client, tokens: dict[str, str], route: tuple[str, str], caller: str, status: int
) -> None:
    path = CASES[route][0]
    headers = {} if caller == ANON else {"Authorization": f"Bearer {tokens[caller]}"}
    response = client.http.request(route[0], path, headers=headers)
    assert response.status_code == status, response.body
    if status == 200 and caller != ANON:
        body = json.loads(response.body)
        _assert_no_foreign_data(caller, body)


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
