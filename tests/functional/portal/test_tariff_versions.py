"""Scheduling a unit's next tariff version ahead (API and portal): the version is stored
on the unit's timeline and prices from its day; past versions are immutable; each bad
request is refused naming the field and nothing is stored.

Runs on a unit of this module's own (in the demo company, so the demo admin's token
works), with a bill already issued for the last calendar month.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.data import builders, keys
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.models import Bill, Unit
from chalicelib.domain.calendar import zone
from chalicelib.domain.tariff_versions import parse_timeline
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO = "formosa"
TZ = "Asia/Taipei"
FLAT_5 = td.flat("ver-flat-5", "5.00")


def _today() -> date:
    return datetime.now(UTC).astimezone(zone(TZ)).date()


@pytest.fixture(scope="module")
def unit_id(services: Container) -> str:
    """A postpaid occupied unit whose account was billed for the last calendar month."""
    tag = uuid.uuid4().hex[:8]
    prop, unit, account = f"ver-{tag}", f"ver-u-{tag}", f"a-ver-{tag}"
    this_month = _today().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    services.ledger.open_account(CO, account, "TWD", datetime(2026, 1, 1, tzinfo=UTC))
    Catalogue.save_all(
        [
            builders.property_(
                CO,
                prop,
                name="Versions House",
                address="2 Test Road",
                city="Taipei",
                country="TW",
                time_zone=TZ,
                currency="TWD",
            ),
            builders.unit(
                CO,
                unit,
                prop,
                name="Room V",
                unit_type="room",
                billing_mode="postpaid",
                tariff=FLAT_5,
                account_id=account,
                tenancy_id=f"t-{tag}",
            ),
        ]
    )
    Bill(
        keys.account_pk(CO, account),
        keys.bill_sk(last_month.isoformat()),
        company_id=CO,
        account_id=account,
        period_start=last_month.isoformat(),
        period_end=this_month.isoformat(),
        total_minor=0,
        currency="TWD",
        lines=[],
    ).save()
    return unit


@pytest.fixture(scope="module")
def admin(standin: LocalStack) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


def _versions(client: Client, unit_id: str, auth: dict[str, str]) -> dict[str, Any]:
    response = client.http.get(f"/v1/units/{unit_id}/tariff/versions", headers=auth)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def _schedule(client: Client, unit_id: str, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.http.post(
        f"/v1/units/{unit_id}/tariff/versions",
        headers={**auth, "Content-Type": "application/json"},
        body=json.dumps(body),
    )


def _unit_tariff(unit_id: str) -> Any:
    return Unit.get(keys.company_pk(CO), keys.unit_sk(unit_id)).tariff


def test_a_version_scheduled_ahead_prices_from_its_day_and_can_be_withdrawn(
    client: Client, admin: dict[str, str], unit_id: str, services: Container
) -> None:
    before = _versions(client, unit_id, admin)
    assert [v["status"] for v in before["versions"]] == ["in_force"]
    assert before["billed_through"] == _today().replace(day=1).isoformat()
    day = _today() + timedelta(days=10)
    raised = td.flat("ver-flat-6", "6.00")
    # WHEN staff schedule the next version ten days ahead, with its source
    response = _schedule(
        client,
        unit_id,
        admin,
        {
            "version": before["version"],
            "effective_from": day.isoformat(),
            "tariff": raised,
            "source": "https://example.com/notice",
        },
    )
    assert response.status_code == 200, response.body
    after = json.loads(response.body)
    # THEN the timeline holds both, the old one in force, the new one scheduled
    assert [(v["effective_from"], v["status"]) for v in after["versions"]] == [
        ("2000-01-01", "in_force"),
        (day.isoformat(), "scheduled"),
    ]
    assert after["versions"][1]["source"] == "https://example.com/notice"
    timeline = parse_timeline(_unit_tariff(unit_id))
    assert timeline.version_on(day - timedelta(days=1)).tariff.tariff_id == "ver-flat-5"
    assert timeline.version_on(day).tariff.tariff_id == "ver-flat-6"
    # AND the change is audited
    trail = [e for e in services.settings_store.audit_trail(CO) if e.target == f"unit:{unit_id}"]
    assert trail[0].detail["scheduled"]["effective_from"] == day.isoformat()
    # AND replacing the tariff outright is refused while it has dated versions (that would
    # drop them): nothing changes
    stored = _unit_tariff(unit_id)
    replaced = client.http.put(
        f"/v1/units/{unit_id}/tariff",
        headers={**admin, "Content-Type": "application/json"},
        body=json.dumps(
            {
                "version": after["version"],
                "tariff": td.flat("ver-flat-9", "9.00"),
                "low_credit_thresholds_minor": None,
            }
        ),
    )
    assert replaced.status_code == 400, replaced.body
    assert "dated versions" in json.loads(replaced.body)["detail"]
    assert _unit_tariff(unit_id) == stored
    # WHEN it is withdrawn before its day
    gone = client.http.delete(
        f"/v1/units/{unit_id}/tariff/versions/{day.isoformat()}", headers=admin
    )
    assert gone.status_code == 200, gone.body
    assert [v["effective_from"] for v in json.loads(gone.body)["versions"]] == ["2000-01-01"]
    # AND the version in force cannot be withdrawn: past versions are immutable
    past = client.http.delete(f"/v1/units/{unit_id}/tariff/versions/2000-01-01", headers=admin)
    assert past.status_code == 400
    assert "effective_from" in json.loads(past.body)["detail"]


def _bad_cases() -> list[Any]:
    today = _today()
    this_month = today.replace(day=1)
    ahead = (today + timedelta(days=5)).isoformat()
    overlapping = td.tiered_all_year("ver-t-1", [("100", "1"), (None, "2")])
    overlapping["seasons"].append(dict(overlapping["seasons"][0], name="again", start="06-01"))
    gappy = td.tiered_all_year("ver-t-2", [("100", "1"), (None, "2")])
    gappy["seasons"][0]["end"] = "11-30"
    return [
        pytest.param(
            (this_month - timedelta(days=10)).isoformat(),
            FLAT_5 | {"tariff_id": "ver-b-1"},
            ["effective_from", "bill already issued"],
            id="dated-over-an-issued-bill",
        ),
        pytest.param(
            today.isoformat(),
            FLAT_5 | {"tariff_id": "ver-b-2"},
            ["effective_from", "has begun"],
            id="dated-today",
        ),
        pytest.param(
            ahead, td.flat("ver-b-3", "5.00", currency="GBP"), ["tariff.currency"], id="currency"
        ),
        pytest.param(ahead, overlapping, ["tariff.tiered.seasons"], id="overlapping-seasons"),
        pytest.param(ahead, gappy, ["tariff.tiered.seasons"], id="gappy-seasons"),
        pytest.param(
            ahead, td.flat("ver-b-4", "1000001"), ["tariff.flat.price_per_kwh"], id="price-limit"
        ),
        pytest.param("2026-02-30", FLAT_5, ["effective_from"], id="not-a-day"),
    ]


@pytest.mark.parametrize(("day", "tariff", "named"), _bad_cases())
def test_each_bad_version_is_refused_naming_the_field_and_nothing_is_stored(
    client: Client,
    admin: dict[str, str],
    unit_id: str,
    day: str,
    tariff: dict[str, Any],
    named: list[str],
) -> None:
    before = _versions(client, unit_id, admin)
    stored = _unit_tariff(unit_id)
    response = _schedule(
        client,
        unit_id,
        admin,
        {"version": before["version"], "effective_from": day, "tariff": tariff},
    )
    assert response.status_code == 400, response.body
    message = json.loads(response.body)["detail"]
    for part in named:
        assert part in message, message
    assert _unit_tariff(unit_id) == stored
    assert _versions(client, unit_id, admin) == before


def test_a_stale_editor_is_a_conflict(client: Client, admin: dict[str, str], unit_id: str) -> None:
    before = _versions(client, unit_id, admin)
    body = {
        "version": before["version"] + 7,
        "effective_from": (_today() + timedelta(days=3)).isoformat(),
        "tariff": FLAT_5 | {"tariff_id": "ver-stale"},
    }
    assert _schedule(client, unit_id, admin, body).status_code == 409
    assert _versions(client, unit_id, admin) == before


# --- the portal: the tariff page lists the versions and schedules one from the form ---


@pytest.fixture
def staff(client: Client) -> Browser:
    browser = Browser(client)
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def test_the_tariff_page_schedules_a_version_and_refuses_a_past_day(
    staff: Browser, unit_id: str
) -> None:
    path = f"/portal/units/{unit_id}/tariff"
    page = text(staff.get(path))
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version and 'id="tariff-versions"' in page
    day = _today() + timedelta(days=20)
    form = {
        "version": version.group(1),
        "kind": "flat",
        "tariff_id": "ver-page-7",
        "tax_percent": "0",
        "price": "7.00",
        "effective_from": day.isoformat(),
        "source": "https://example.com/page",
    }
    # WHEN the form is sent with a day in the past
    csrf = staff.csrf_of(path)
    refused = staff.post(path, {**form, "effective_from": "2001-01-01"}, csrf)
    assert refused.status_code == 400
    assert 'id="effective_from-error"' in text(refused)
    assert len(parse_timeline(_unit_tariff(unit_id)).versions) == 1
    # WHEN it is sent with a later day
    saved = staff.post(path, form, csrf)
    assert saved.status_code == 303
    page = text(staff.get(path))
    # THEN the version is scheduled (the tariff in force is unchanged) and listed
    timeline = parse_timeline(_unit_tariff(unit_id))
    assert [v.tariff.tariff_id for v in timeline.versions] == ["ver-flat-5", "ver-page-7"]
    assert day.isoformat() in page and "ver-page-7" in page
    # AND it can be withdrawn from the page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    withdrawn = staff.post(
        f"{path}/versions/withdraw", {"version": version.group(1), "day": day.isoformat()}, csrf
    )
    assert withdrawn.status_code == 303
    assert len(parse_timeline(_unit_tariff(unit_id)).versions) == 1
