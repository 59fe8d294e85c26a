"""The company's low-credit thresholds, edited by its admins: the JSON API
(``/v1/company/low-credit-thresholds``) and the portal form (``/portal/company/settings``).
Round trip, refusals naming the field with nothing written, 409 on a stale version, who
may call it (another company, a tenant, a manager, anonymous), the audit event, and the
bus's next message settling against the new thresholds.

Every test runs on a company of its own (``make_bus``: a property, a gateway, one prepaid
unit with 100.00 TWD at 5 TWD/kWh and company thresholds of 50.00 TWD), never on the demo
company whose thresholds other tests read.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.settings_store import SettingsVersionConflictError
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.pipeline.rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus
from tests.functional.security.accounts import PASSWORD, bearer_of, new_login

from .browser_client import Browser, text

pytestmark = pytest.mark.functional

API = "/v1/company/low-credit-thresholds"
PAGE = "/portal/company/settings"
COMPANY_THRESHOLDS = [5_000]


@pytest.fixture
def company(services: Container) -> Bus:
    """A company with one bus, plus a second property with thresholds of its own and a
    unit there with its own (they override the company's)."""
    bus = make_bus(
        services.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)], thresholds=COMPANY_THRESHOLDS
    )
    co, own = bus.company_id, f"own-{bus.property_id}"
    Catalogue.save_all(
        [
            builders.property_(
                co,
                own,
                name="Own House",
                address="B",
                city="Taipei",
                country="TW",
                time_zone="Asia/Taipei",
                currency="TWD",
                low_credit_thresholds_minor=[7_000],
            ),
            builders.unit(
                co,
                "u-own",
                own,
                name="Room Own",
                unit_type="room",
                billing_mode="prepaid",
                tariff=FLAT_TWD,
                low_credit_thresholds_minor=[900],
            ),
        ]
    )
    return bus


@pytest.fixture
def admin(standin: LocalStack, company: Bus) -> dict[str, str]:
    return bearer_of(standin, new_login(standin, "company_admin", company.company_id))


def _get(client: Client, auth: dict[str, str]) -> dict[str, Any]:
    response = client.http.get(API, headers=auth)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def _put(client: Client, auth: dict[str, str], body: Any) -> Any:
    return client.http.put(
        API, headers={**auth, "Content-Type": "application/json"}, body=json.dumps(body)
    )


def _audit(services: Container, company_id: str) -> list[Any]:
    return [
        e
        for e in services.settings_store.audit_trail(company_id)
        if e.action == "company_settings_changed"
    ]


def _stored(services: Container, company_id: str) -> tuple[list[int], int]:
    company = services.catalogue.get_company(company_id)
    return list(company.low_credit_thresholds_minor or []), int(company.settings_version or 0)


# --- the JSON API ---


def test_an_admin_reads_and_replaces_the_thresholds_and_the_change_is_audited(
    client: Client, admin: dict[str, str], company: Bus, services: Container
) -> None:
    # GIVEN the company's thresholds, and the property and unit that set their own
    before = _get(client, admin)
    assert before == {
        "company_id": company.company_id,
        "version": 0,
        "low_credit_thresholds_minor": [5000],
        "overridden_by": {
            "properties": [
                {
                    "property_id": f"own-{company.property_id}",
                    "name": "Own House",
                    "currency": "TWD",
                    "low_credit_thresholds_minor": [7000],
                }
            ],
            "units": [
                {
                    "unit_id": "u-own",
                    "property_id": f"own-{company.property_id}",
                    "name": "Room Own",
                    "low_credit_thresholds_minor": [900],
                }
            ],
            "complete": True,
        },
    }
    # WHEN the admin saves new ones, unsorted and with a repeat
    response = _put(
        client, admin, {"version": 0, "low_credit_thresholds_minor": [2000, 9000, 2000]}
    )
    # THEN they are stored highest first without the repeat, the version moves, and the
    # company's one bus is marked to rebuild its context
    assert response.status_code == 200, response.body
    saved = json.loads(response.body)
    assert (saved["version"], saved["low_credit_thresholds_minor"]) == (1, [9000, 2000])
    assert saved["gateways_marked"] == 1
    assert _get(client, admin) == {k: v for k, v in saved.items() if k != "gateways_marked"}
    assert _stored(services, company.company_id) == ([9000, 2000], 1)
    # AND the audit trail says who changed what, from what
    (audit,) = _audit(services, company.company_id)
    assert (audit.target, audit.actor[:5]) == (f"company:{company.company_id}", "user:")
    assert audit.detail["before"] == [5000] and audit.detail["after"] == [9000, 2000]
    assert audit.detail["version"] == 1 and audit.detail["by"].startswith("company_admin-")
    # AND an empty list is "no company thresholds", not "keep them"
    cleared = _put(client, admin, {"version": 1, "low_credit_thresholds_minor": []})
    assert cleared.status_code == 200, cleared.body
    assert _stored(services, company.company_id) == ([], 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"version": 0, "low_credit_thresholds_minor": [5000, -1]},
            "low_credit_thresholds_minor/1",
        ),
        (
            {"version": 0, "low_credit_thresholds_minor": [10**9 + 1]},
            "low_credit_thresholds_minor/0",
        ),
        ({"version": 0, "low_credit_thresholds_minor": [50.5]}, "low_credit_thresholds_minor/0"),
        ({"version": 0, "low_credit_thresholds_minor": ["5000"]}, "low_credit_thresholds_minor/0"),
        (
            {"version": 0, "low_credit_thresholds_minor": list(range(17))},
            "low_credit_thresholds_minor",
        ),
        ({"version": 0, "low_credit_thresholds_minor": None}, "low_credit_thresholds_minor"),
        ({"low_credit_thresholds_minor": [5000]}, "version"),
        ({"version": -1, "low_credit_thresholds_minor": [5000]}, "version"),
        ({"version": 0}, "low_credit_thresholds_minor"),
        # the company is the caller's: naming one is an unknown field, not a way in
        (
            {"version": 0, "low_credit_thresholds_minor": [1], "company_id": "formosa"},
            "company_id",
        ),
    ],
)
def test_invalid_thresholds_are_refused_naming_the_field_and_nothing_changes(
    client: Client,
    admin: dict[str, str],
    company: Bus,
    services: Container,
    body: dict[str, Any],
    field: str,
) -> None:
    response = _put(client, admin, body)
    assert response.status_code == 400, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response.body)
    assert problem["type"] == "urn:powerlet:problem:invalid-request"
    assert f"/{field}" in [e["pointer"] for e in problem["errors"]], problem
    assert _stored(services, company.company_id) == (COMPANY_THRESHOLDS, 0)
    assert _audit(services, company.company_id) == []


def test_a_body_that_is_not_json_is_refused(client: Client, admin: dict[str, str]) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    response = client.http.put(API, headers=headers, body="{not json")
    assert response.status_code == 400
    assert json.loads(response.body)["type"] == "urn:powerlet:problem:invalid-request"


def test_a_stale_version_is_a_conflict_and_changes_nothing(
    client: Client, admin: dict[str, str], company: Bus, services: Container
) -> None:
    # GIVEN two admins who read version 0
    assert _put(
        client, admin, {"version": 0, "low_credit_thresholds_minor": [8000]}
    ).status_code == (200)
    # WHEN the second saves on what they read
    late = _put(client, admin, {"version": 0, "low_credit_thresholds_minor": [1000]})
    # THEN it is refused, told in words, and neither stored nor audited
    assert late.status_code == 409, late.body
    problem = json.loads(late.body)
    assert problem["type"] == "urn:powerlet:problem:conflict"
    assert "changed by someone else" in problem["detail"]
    assert _stored(services, company.company_id) == ([8000], 1)
    assert len(_audit(services, company.company_id)) == 1


def test_an_edit_landing_between_read_and_write_loses_at_the_write(
    company: Bus, services: Container
) -> None:
    """The conditional write checks the version again: a save that passed the editor's
    check on a version another save moved meanwhile is refused, with no audit event."""
    store, co = services.settings_store, company.company_id
    at = T0 + timedelta(hours=1)
    assert store.update_company_thresholds(co, 0, [4000], actor="a", detail={}, at=at) == 1
    with pytest.raises(SettingsVersionConflictError):
        store.update_company_thresholds(co, 0, [3000], actor="b", detail={}, at=at)
    assert _stored(services, co) == ([4000], 1)
    assert len(_audit(services, co)) == 1


def test_only_the_companys_own_admins_read_or_change_its_thresholds(
    client: Client, standin: LocalStack, company: Bus, services: Container
) -> None:
    co = company.company_id
    body = {"version": 0, "low_credit_thresholds_minor": [1]}
    # a manager of the company's property, a landlord of it and a tenant: refused by role
    for role in ("property_manager", "landlord", "tenant"):
        email = new_login(standin, role, co, property_ids=frozenset({company.property_id}))
        auth = bearer_of(standin, email)
        assert client.http.get(API, headers=auth).status_code == 403, role
        assert _put(client, auth, body).status_code == 403, role
    # anonymous: 401
    assert client.http.get(API).status_code == 401
    assert _put(client, {}, body).status_code == 401
    # another company's admin reaches their own company's thresholds only, whatever the
    # body says
    other = make_bus(services.ledger, [MeterSpec("m-9", "u-9", FLAT_TWD)], thresholds=[3_000])
    outsider = bearer_of(standin, new_login(standin, "company_admin", other.company_id))
    assert _get(client, outsider)["company_id"] == other.company_id
    assert _get(client, outsider)["low_credit_thresholds_minor"] == [3000]
    assert _put(client, outsider, {**body, "company_id": co}).status_code == 400
    assert _put(client, outsider, body).status_code == 200
    assert _stored(services, other.company_id) == ([1], 1)
    assert _stored(services, co) == (COMPANY_THRESHOLDS, 0)
    assert _audit(services, co) == []


def test_the_next_telemetry_message_settles_against_the_new_thresholds(
    client: Client, admin: dict[str, str], company: Bus, services: Container
) -> None:
    """The company's thresholds are in the bus's stored ingest context: the save marks it
    stale, so the very next message uses the new ones (not the old for up to an hour)."""
    account = company.accounts["u-1"]
    # GIVEN a bus whose context was built with the company's 50.00 TWD threshold
    services.buses.forget()
    handlers.ingest_telemetry(event(company, 1, T0 + timedelta(minutes=1), {"m-1": "100.000"}))
    assert services.ledger.balance_minor(company.company_id, account) == 10_000
    # WHEN an admin raises it to 98.00 TWD
    saved = _put(client, admin, {"version": 0, "low_credit_thresholds_minor": [9800]})
    assert saved.status_code == 200, saved.body
    # AND the next message, half an hour later, says 0.600 kWh (3.00 TWD) were used, in
    # the same settlement period (under the old 50.00 TWD nothing would be due yet)
    handlers.ingest_telemetry(event(company, 2, T0 + timedelta(minutes=31), {"m-1": "100.600"}))
    # THEN it settled (the balance crossed the new threshold) and the tenant is warned
    assert services.ledger.balance_minor(company.company_id, account) == 9_700
    low = [
        n.subject_ref
        for n in services.notifier.outbox(company.company_id, limit=50)
        if n.topic == "low_credit"
    ]
    assert low and all(ref.endswith(":9800") for ref in low), low


# --- the portal page ---


@pytest.fixture
def admin_browser(client: Client, standin: LocalStack, company: Bus) -> Browser:
    browser = Browser(client)
    email = new_login(standin, "company_admin", company.company_id)
    assert browser.sign_in(email, PASSWORD).status_code == 303
    return browser


def _field(page: str, name: str) -> str:
    found = re.search(rf'<input id="{name}" name="{name}"[^>]*value="([^"]*)"', page)
    assert found, f"no field {name}"
    return found.group(1)


def test_the_dashboard_and_a_property_link_an_admin_to_the_company_settings(
    admin_browser: Browser, company: Bus
) -> None:
    assert 'id="company-settings-link"' in text(admin_browser.get("/portal"))
    own = text(admin_browser.get(f"/portal/properties/{company.property_id}/settings"))
    assert f'href="{PAGE}" id="company-settings-link"' in own


def test_the_page_shows_the_thresholds_and_who_overrides_them_and_saves(
    admin_browser: Browser, company: Bus, services: Container
) -> None:
    # GIVEN the page: the company's amount in major units, the property and the unit
    # that set their own, each linked to where it is edited
    page = text(admin_browser.get(PAGE))
    assert _field(page, "thresholds") == "50.00"
    own = f"own-{company.property_id}"
    assert f'href="/portal/properties/{own}/settings">Own House</a>' in page
    assert 'href="/portal/units/u-own/tariff">Room Own</a>' in page
    assert "Properties (1)" in page and "Units (1)" in page
    # WHEN the admin types two amounts the way the property form takes them
    csrf = admin_browser.csrf_of(PAGE)
    response = admin_browser.post(PAGE, {"version": "0", "thresholds": "20.5, 80"}, csrf=csrf)
    # THEN they are stored in minor units, highest first, and shown back
    assert response.status_code == 303, text(response)
    shown = text(admin_browser.get(response.headers["location"]))
    assert _field(shown, "thresholds") == "80.00, 20.50"
    assert 'role="status"' in shown
    assert _stored(services, company.company_id) == ([8000, 2050], 1)
    assert len(_audit(services, company.company_id)) == 1


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("ten", "ten"),
        ("1,000", "a comma separates thresholds"),
        ("-5", ""),
        (", ".join(str(n) for n in range(1, 18)), "at most 16"),
    ],
)
def test_the_page_shows_errors_next_to_the_field_and_keeps_what_was_typed(
    admin_browser: Browser, company: Bus, services: Container, typed: str, says: str
) -> None:
    csrf = admin_browser.csrf_of(PAGE)
    response = admin_browser.post(PAGE, {"version": "0", "thresholds": typed}, csrf=csrf)
    assert response.status_code == 400
    body = text(response)
    assert 'id="thresholds-error"' in body and 'aria-invalid="true"' in body
    assert says in body
    assert _field(body, "thresholds") == typed
    assert _stored(services, company.company_id) == (COMPANY_THRESHOLDS, 0)


def test_a_stale_page_is_a_conflict_showing_what_is_stored_now(
    admin_browser: Browser, client: Client, admin: dict[str, str], company: Bus
) -> None:
    csrf = admin_browser.csrf_of(PAGE)
    # GIVEN another admin saved meanwhile
    assert _put(
        client, admin, {"version": 0, "low_credit_thresholds_minor": [7700]}
    ).status_code == (200)
    # WHEN the page saves on version 0
    response = admin_browser.post(PAGE, {"version": "0", "thresholds": "10"}, csrf=csrf)
    # THEN it is told, and shown what is stored now
    assert response.status_code == 409
    body = text(response)
    assert 'id="form-error"' in body
    assert _field(body, "thresholds") == "77.00"


def test_the_page_speaks_chinese(admin_browser: Browser) -> None:
    admin_browser.cookies["pl_lang"] = "zh_TW"
    page = text(admin_browser.get(PAGE))
    assert "公司設定" in page and "自訂提醒金額的物業與單位" in page


def test_a_manager_is_refused_the_page(client: Client, standin: LocalStack, company: Bus) -> None:
    browser = Browser(client)
    email = new_login(
        standin,
        "property_manager",
        company.company_id,
        property_ids=frozenset({company.property_id}),
    )
    assert browser.sign_in(email, PASSWORD).status_code == 303
    assert browser.get(PAGE).status_code == 403
    assert 'id="company-settings-link"' not in text(browser.get("/portal"))
    own = text(browser.get(f"/portal/properties/{company.property_id}/settings"))
    assert 'id="company-settings-link"' not in own
