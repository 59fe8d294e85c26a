"""Changing a unit's billing cycle (API and portal): a change asked mid-cycle is stored as
pending, effective at the next cycle boundary and shown with its day; it is never applied
mid-cycle; bad input is refused naming the field and nothing is stored."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.data import builders, keys
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.models import Property, Unit
from chalicelib.domain.calendar import zone
from chalicelib.domain.cycles import MONTHLY
from chalicelib.pipeline.context import cycle_of_unit
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO = "formosa"
TZ = "Asia/Taipei"


def _today() -> date:
    return datetime.now(UTC).astimezone(zone(TZ)).date()


def _next_month_start() -> date:
    this_month = _today().replace(day=1)
    return date(this_month.year + this_month.month // 12, this_month.month % 12 + 1, 1)


def _unit(services: Container, name: str) -> str:
    tag = uuid.uuid4().hex[:8]
    prop, unit, account = f"cyc-{tag}", f"cyc-u-{tag}", f"a-cyc-{tag}"
    services.ledger.open_account(CO, account, "TWD", datetime(2026, 1, 1, tzinfo=UTC))
    Catalogue.save_all(
        [
            builders.property_(
                CO,
                prop,
                name="Cycle House",
                address="3 Test Road",
                city="Taipei",
                country="TW",
                time_zone=TZ,
                currency="TWD",
            ),
            builders.unit(
                CO,
                unit,
                prop,
                name=name,
                unit_type="room",
                billing_mode="postpaid",
                tariff=td.flat("cyc-flat-5", "5.00"),
                account_id=account,
                tenancy_id=f"t-{tag}",
            ),
        ]
    )
    return unit


@pytest.fixture(scope="module")
def unit_id(services: Container) -> str:
    return _unit(services, "Room C")


@pytest.fixture(scope="module")
def admin(standin: LocalStack) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


def _cycle(client: Client, unit_id: str, auth: dict[str, str]) -> dict[str, Any]:
    response = client.http.get(f"/v1/units/{unit_id}/billing-cycle", headers=auth)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def _put(client: Client, unit_id: str, auth: dict[str, str], body: Any) -> Any:
    return client.http.put(
        f"/v1/units/{unit_id}/billing-cycle",
        headers={**auth, "Content-Type": "application/json"},
        body=json.dumps(body),
    )


def _stored(unit_id: str) -> Any:
    return Unit.get(keys.company_pk(CO), keys.unit_sk(unit_id)).billing_cycle


def test_a_change_waits_for_the_next_boundary_and_can_be_replaced_and_withdrawn(
    client: Client, admin: dict[str, str], unit_id: str, services: Container
) -> None:
    before = _cycle(client, unit_id, admin)
    today, boundary = _today(), _next_month_start()
    assert before["cycle"] == {"months": 1, "anchor_day": 1, "anchor_month": 1, "kind": "monthly"}
    assert before["inherited"] is True and before["change"] is None
    assert before["current_period"] == {
        "start": today.replace(day=1).isoformat(),
        "end": boundary.isoformat(),
    }
    # WHEN staff ask mid-cycle for cycles from the 15th
    response = _put(
        client,
        unit_id,
        admin,
        {"version": before["version"], "cycle": {"anchor_day": 15}},
    )
    assert response.status_code == 200, response.body
    after = json.loads(response.body)
    # THEN it is pending from the next boundary, shown with its day and first period
    assert after["cycle"]["kind"] == "monthly"
    assert after["current_period"] == before["current_period"]
    assert after["change"]["effective_from"] == boundary.isoformat()
    assert after["change"]["cycle"]["kind"] == "anchored"
    assert after["change"]["first_period"] == {
        "start": boundary.isoformat(),
        "end": boundary.replace(day=15).isoformat(),
    }
    # AND every reader still cuts this cycle as before: never applied mid-cycle
    unit = Unit.get(keys.company_pk(CO), keys.unit_sk(unit_id))
    prop = Property.get(keys.company_pk(CO), keys.property_sk(str(unit.property_id)))
    cycle = cycle_of_unit(unit, prop)
    assert cycle.cycle_of(today) == MONTHLY.cycle_of(today)
    assert cycle.cycle_of(boundary).end == boundary.replace(day=15)
    # AND the change is audited
    trail = [e for e in services.settings_store.audit_trail(CO) if e.target == f"unit:{unit_id}"]
    assert trail[0].action == "unit_cycle_changed"
    # WHEN asked again before the boundary, the pending change is replaced
    again = _put(
        client,
        unit_id,
        admin,
        {"version": after["version"], "cycle": {"months": 2, "anchor_month": 2}},
    )
    assert again.status_code == 200, again.body
    replaced = json.loads(again.body)
    assert replaced["change"]["cycle"]["kind"] == "every_n_months"
    assert replaced["change"]["effective_from"] == boundary.isoformat()
    # AND it can be withdrawn; a second withdrawal names the field
    gone = client.http.delete(f"/v1/units/{unit_id}/billing-cycle/change", headers=admin)
    assert gone.status_code == 200, gone.body
    assert json.loads(gone.body)["change"] is None
    assert cycle_of_unit(Unit.get(keys.company_pk(CO), keys.unit_sk(unit_id)), prop) == MONTHLY
    twice = client.http.delete(f"/v1/units/{unit_id}/billing-cycle/change", headers=admin)
    assert twice.status_code == 400
    assert "cycle.change" in json.loads(twice.body)["detail"]


@pytest.mark.parametrize(
    ("cycle", "named"),
    [
        pytest.param({"months": 13}, "cycle.months", id="months-too-many"),
        pytest.param({"months": 0}, "cycle.months", id="months-zero"),
        pytest.param({"anchor_day": 29}, "cycle.anchor_day", id="anchor-day-29"),
        pytest.param({"anchor_day": "15"}, "cycle.anchor_day", id="anchor-day-text"),
        pytest.param({"anchor_month": 13}, "cycle.anchor_month", id="anchor-month"),
        pytest.param({"every": 2}, "cycle.every", id="unknown-field"),
        pytest.param({"months": 1}, "cycle", id="unchanged"),
    ],
)
def test_each_bad_cycle_is_refused_naming_the_field_and_nothing_is_stored(
    client: Client, admin: dict[str, str], unit_id: str, cycle: dict[str, Any], named: str
) -> None:
    before, stored = _cycle(client, unit_id, admin), _stored(unit_id)
    response = _put(client, unit_id, admin, {"version": before["version"], "cycle": cycle})
    assert response.status_code == 400, response.body
    assert named in json.loads(response.body)["detail"]
    assert _stored(unit_id) == stored
    assert _cycle(client, unit_id, admin) == before


def test_a_stale_editor_is_a_conflict(client: Client, admin: dict[str, str], unit_id: str) -> None:
    before = _cycle(client, unit_id, admin)
    body = {"version": before["version"] + 5, "cycle": {"anchor_day": 10}}
    assert _put(client, unit_id, admin, body).status_code == 409
    assert _cycle(client, unit_id, admin) == before


def test_the_cycle_page_schedules_a_change_shows_its_day_and_refuses_a_bad_day(
    client: Client, services: Container
) -> None:
    unit_id = _unit(services, "Room P")
    staff = Browser(client)
    assert staff.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    path = f"/portal/units/{unit_id}/cycle"
    page = text(staff.get(path))
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version and 'id="cycle-form"' in page and 'id="cycle-pending"' not in page
    csrf = staff.csrf_of(path)
    form = {"version": version.group(1), "months": "1", "anchor_day": "15", "anchor_month": "1"}
    # WHEN the form asks for the 31st
    refused = staff.post(path, {**form, "anchor_day": "31"}, csrf)
    assert refused.status_code == 400
    assert 'id="anchor_day-error"' in text(refused)
    refused = staff.post(path, {**form, "months": "two"}, csrf)
    assert refused.status_code == 400 and 'id="months-error"' in text(refused)
    assert _stored(unit_id) is None
    # WHEN it asks for the 15th
    assert staff.post(path, form, csrf).status_code == 303
    page = text(staff.get(path))
    # THEN the change is pending, shown with the boundary it takes effect on
    assert 'id="cycle-pending"' in page
    assert _stored(unit_id)["change"]["effective_from"] == _next_month_start().isoformat()
    # AND it can be withdrawn from the page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    withdrawn = staff.post(f"{path}/withdraw", {"version": version.group(1)}, csrf)
    assert withdrawn.status_code == 303
    assert "change" not in _stored(unit_id)
