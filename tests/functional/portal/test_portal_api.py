"""The JSON API of the portal: the same read models and actions as the pages."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.web.pages import PAGE_ROUTES
from deploy.openapi import build_document
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer, post_json
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
UNIT = "tpe-2f"


@pytest.fixture(scope="module")
def admin(standin: LocalStack, services: Any) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


def test_top_up_is_idempotent_and_a_reused_key_is_a_conflict(
    client: Client, admin: dict[str, str]
) -> None:
    key = secrets.token_urlsafe(18)
    body = {"amount_minor": 5000, "idempotency_key": key}
    first = post_json(client, f"/v1/units/{UNIT}/top-ups", admin, body)
    again = post_json(client, f"/v1/units/{UNIT}/top-ups", admin, body)
    assert (first.status_code, again.status_code) == (201, 200)
    a, b = json.loads(first.body), json.loads(again.body)
    assert a["receipt"] == b["receipt"] and b["replayed"] is True
    assert a["balance"] == b["balance"]
    other = post_json(client, f"/v1/units/{UNIT}/top-ups", admin, {**body, "amount_minor": 6000})
    assert other.status_code == 409
    receipt = client.http.get(
        f"/v1/units/{UNIT}/receipts/{a['receipt']['entry_id']}", headers=admin
    )
    assert json.loads(receipt.body)["receipt"]["amount"] == {
        "amount_minor": 5000,
        "currency": "TWD",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": 0, "idempotency_key": "k" * 20},
        {"amount_minor": 1.5, "idempotency_key": "k" * 20},
        {"amount_minor": "100", "idempotency_key": "k" * 20},
        {"amount_minor": 100, "idempotency_key": "short"},
        {"amount_minor": 100, "idempotency_key": "k" * 20, "company_id": "thames"},
    ],
)
def test_top_up_refuses_malformed_bodies(
    client: Client, admin: dict[str, str], body: dict[str, Any]
) -> None:
    assert post_json(client, f"/v1/units/{UNIT}/top-ups", admin, body).status_code == 400


def test_relay_and_overview(client: Client, admin: dict[str, str]) -> None:
    assert (
        post_json(
            client, f"/v1/units/{UNIT}/relay", admin, {"power": "off", "reason": ""}
        ).status_code
        == 400
    )
    done = post_json(client, f"/v1/units/{UNIT}/relay", admin, {"power": "off", "reason": "Test"})
    assert done.status_code == 200
    overview = json.loads(client.http.get(f"/v1/units/{UNIT}/overview", headers=admin).body)
    assert overview["power"]["state"] == "off"  # asked for; the meter confirms later
    assert (overview["power"]["reason"], overview["power"]["note"]) == ("manual_off", "Test")
    # "on" by hand needs an end (never indefinitely): refused without one
    endless = {"power": "on", "reason": "Back"}
    assert post_json(client, f"/v1/units/{UNIT}/relay", admin, endless).status_code == 422
    until = {"power": "on", "reason": "Back", "until_topup": True}
    assert post_json(client, f"/v1/units/{UNIT}/relay", admin, until).status_code == 200
    overview = json.loads(client.http.get(f"/v1/units/{UNIT}/overview", headers=admin).body)
    assert (overview["power"]["state"], overview["power"]["reason"]) == ("on", "manual_on")
    auto = {"power": "auto", "reason": "Prepaid rules"}
    assert post_json(client, f"/v1/units/{UNIT}/relay", admin, auto).status_code == 200
    assert overview["balance"]["currency"] == "TWD"


def test_dashboard_api_pages_with_a_cursor(client: Client, admin: dict[str, str]) -> None:
    body = json.loads(client.http.get("/v1/dashboard?property_id=tpe-daan", headers=admin).body)
    assert {u["unit_id"] for u in body["units"]} == {"tpe-2f", "tpe-3f-a", "tpe-3f-b", "tpe-4f"}
    bad = client.http.get("/v1/dashboard?property_id=tpe-daan&cursor=bm9wZQ==", headers=admin)
    assert bad.status_code == 400


def test_openapi_document_matches_the_app_routes() -> None:
    # GIVEN the committed document and a fresh build from the route table
    committed = json.loads(OPENAPI.read_text())
    built = build_document(app, PAGE_ROUTES)
    assert committed == built, "docs/openapi.json is stale: regenerate it (see docs/portal.md)"
    # THEN every JSON route of the app is described, and no page route is
    api_routes = {(m, p) for p, ms in app.routes.items() for m in ms if (m, p) not in PAGE_ROUTES}
    described = {(m.upper(), p) for p, ops in committed["paths"].items() for m in ops}
    assert described == api_routes
    assert committed["openapi"].startswith("3.1")


def test_the_latest_reading_is_the_newest_stored_one_not_the_meters_registration(
    client: Client, admin: dict[str, str], browser: Browser
) -> None:
    # GIVEN a cycle of the vacant unit's gateway stored just now (the Meter item keeps
    # its reading from registration, days old; vacant, so no account is charged for it)
    now = datetime.now(UTC).replace(microsecond=0)
    row = ["m-tpe-4f", 120, "4523.456", "0.000", "250", 1, None]
    assert TelemetryStore().put_cycle(
        "formosa", "gw-tpe-1", secrets.token_hex(8), 1, now, now, [row]
    )
    # THEN the API and the unit page both show that reading and its time
    overview = json.loads(client.http.get("/v1/units/tpe-4f/overview", headers=admin).body)
    assert overview["latest_reading"]["import_kwh"] == "4523.456"
    assert overview["latest_reading"]["read_at"] == (now + timedelta(milliseconds=120)).isoformat()
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    assert "4,523.456 kWh" in text(browser.get("/portal/units/tpe-4f"))
