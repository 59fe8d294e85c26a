"""Settings editors: a property's friendly hours, holidays, emergency credit and
thresholds; a unit's tariff. Round trips, refusals naming the field, 409 on a
concurrent edit, the audit trail, the shadow of a meter of the property, and
the tariff switch settling at the old price first.

Everything runs on a property of this module's own (in the demo company, so the
demo admin's token works), never on the demo properties other tests rely on.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.domain import EntryKind, LedgerEntry, Money, parse_tariff
from chalicelib.pipeline.errors import ControlContentionError
from chalicelib.pipeline.senders import thing_name_for
from chalicelib.pipeline.settler import period_index
from chalicelib.pipeline.shadows import shadow_name
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack
from tests.functional.pipeline.rig import Bus, event

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO = "formosa"
FLAT_5 = td.flat("set-flat-5", "5.00")
FRIENDLY = {
    "tz": "Asia/Taipei",
    "weekly": [[d, "00:00", "07:00"] for d in range(7)],
    "holidays": ["2026-12-25"],
}
CREDIT_MINOR = 1_000  # 10 TWD: 2 kWh at 5 TWD/kWh


@pytest.fixture(scope="module")
def site(services: Container) -> Bus:
    """A property with one gateway and one occupied prepaid unit, and two cycles of
    readings in the current settlement period: 0.300 kWh used and not yet settled."""
    tag = uuid.uuid4().hex[:8]
    prop, gw, meter, unit = f"set-{tag}", f"gw-set-{tag}", f"ms{tag}", f"set-u-{tag}"
    thing = thing_name_for(CO, gw)  # as registration names it: the roles cover pl-* only
    account, sub = f"a-set-{tag}", f"tenant-set-{tag}"
    opened = datetime(2026, 11, 1, tzinfo=UTC)
    services.ledger.open_account(CO, account, "TWD", opened)
    services.ledger.append(
        CO,
        LedgerEntry(
            f"open-{account}", account, EntryKind.TOP_UP, Money(CREDIT_MINOR, "TWD"), opened
        ),
    )
    Catalogue.save_all(
        [
            builders.property_(
                CO,
                prop,
                name="Settings House",
                address="1 Test Road",
                city="Taipei",
                country="TW",
                time_zone="Asia/Taipei",
                currency="TWD",
                friendly_hours=FRIENDLY,
                emergency_credit_minor=0,
            ),
            builders.gateway(CO, gw, thing, property_id=prop),
            builders.meter(CO, meter, gw, 1, unit_id=unit, profile="dds238"),
            builders.tenancy(
                CO, f"t-{tag}", unit, sub, "2026-11-01", account_id=account, opening_kwh="100.000"
            ),
            builders.unit(
                CO,
                unit,
                prop,
                name="Room S",
                unit_type="room",
                billing_mode="prepaid",
                tariff=FLAT_5,
                meter_id=meter,
                account_id=account,
                tenancy_id=f"t-{tag}",
            ),
        ]
    )
    boto3.client("iot").create_thing(thingName=thing)
    bus = Bus(CO, prop, gw, thing, [])
    # Both readings in one settlement period, so the second one stays unsettled.
    now = datetime.now(UTC)
    period_s = round(services.settings.settlement_period_h * 3600)
    start = datetime.fromtimestamp(
        period_index(now, services.settings.settlement_period_h) * period_s, tz=UTC
    )
    base = start if now - start >= timedelta(minutes=3) else start - timedelta(seconds=period_s)
    services.buses.forget()
    handlers.ingest_telemetry(event(bus, 1, base + timedelta(minutes=1), {meter: "100.000"}))
    handlers.ingest_telemetry(event(bus, 2, base + timedelta(minutes=2), {meter: "100.300"}))
    return bus


def _meter(bus: Bus) -> str:
    return f"ms{bus.property_id.removeprefix('set-')}"


def _unit(bus: Bus) -> str:
    return f"set-u-{bus.property_id.removeprefix('set-')}"


def _desired(bus: Bus) -> dict[str, Any]:
    response = boto3.client("iot-data").get_thing_shadow(
        thingName=bus.thing_name, shadowName=shadow_name(_meter(bus))
    )
    return dict(json.loads(response["payload"].read())["state"]["desired"])


@pytest.fixture(scope="module")
def admin(standin: LocalStack, services: Container) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


def _get(client: Client, path: str, auth: dict[str, str]) -> dict[str, Any]:
    response = client.http.get(path, headers=auth)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def _put(client: Client, path: str, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.http.put(
        path, headers={**auth, "Content-Type": "application/json"}, body=json.dumps(body)
    )


def _settings_body(current: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {
        "version": current["version"],
        "friendly_hours": current["friendly_hours"],
        "emergency_credit_minor": current["emergency_credit_minor"],
        "low_credit_thresholds_minor": current["low_credit_thresholds_minor"],
    }
    body.update(changes)
    return body


def _audit(services: Container, target: str) -> list[Any]:
    return [e for e in services.settings_store.audit_trail(CO) if e.target == target]


def test_property_settings_round_trip_reach_the_shadow_and_are_audited(
    client: Client, admin: dict[str, str], site: Bus, services: Container
) -> None:
    path = f"/v1/properties/{site.property_id}/settings"
    # GIVEN the settings as stored, and the meter's cutoff carrying the old schedule
    before = _get(client, path, admin)
    assert before["version"] == 0 and before["low_credit_thresholds_minor"] is None
    assert before["company_low_credit_thresholds_minor"] == [50000, 20000, 5000]
    assert _desired(site)["cutoff"]["friendly"]["holidays"] == ["2026-12-25"]
    old_cutoff = _desired(site)["cutoff"]["kwh"]
    # WHEN an admin saves new windows (one overnight pair), holidays, allowance and thresholds
    weekly = [
        {"weekday": 4, "start": "22:00", "end": "24:00"},
        {"weekday": 5, "start": "00:00", "end": "08:00"},
        {"weekday": 6, "start": "00:00", "end": "24:00"},
    ]
    body = _settings_body(
        before,
        friendly_hours={"weekly": weekly, "holidays": ["2027-01-01", "2026-12-31", "2027-01-01"]},
        emergency_credit_minor=5_000,
        low_credit_thresholds_minor=[300, 800, 300],
    )
    response = _put(client, path, admin, body)
    # THEN they round-trip (holidays sorted and unique, thresholds highest first)
    assert response.status_code == 200, response.body
    saved = json.loads(response.body)
    assert saved["version"] == 1
    assert saved["friendly_hours"] == {"weekly": weekly, "holidays": ["2026-12-31", "2027-01-01"]}
    assert (saved["emergency_credit_minor"], saved["low_credit_thresholds_minor"]) == (
        5000,
        [800, 300],
    )
    assert _get(client, path, admin) == {k: v for k, v in saved.items() if k != "rollout"}
    # AND the meter's desired document carries the new schedule, and a cutoff moved by
    # the new emergency allowance (5,000 minor = 10 kWh at 5 TWD/kWh)
    assert saved["rollout"] == {"gateways": 1, "meters": 1, "shadows_written": 1, "deferred": False}
    desired = _desired(site)
    assert desired["cutoff"]["friendly"] == {
        "tz": "Asia/Taipei",
        "weekly": [[4, "22:00", "24:00"], [5, "00:00", "08:00"], [6, "00:00", "24:00"]],
        "holidays": ["2026-12-31", "2027-01-01"],
    }
    assert float(desired["cutoff"]["kwh"]) == pytest.approx(float(old_cutoff) + 10)
    # AND the pipeline's threshold source is now the property's
    services.buses.forget()
    bus = services.buses.load(CO, site.gateway_id)
    ctx = bus.meters[_meter(site)]
    assert [m.amount_minor for m in bus.thresholds("TWD", ctx.unit)] == [800, 300]
    # AND the audit trail says who changed what
    events = _audit(services, f"property:{site.property_id}")
    assert events and events[0].action == "property_settings_changed"
    assert events[0].actor.startswith("user:")
    assert events[0].detail["before"]["emergency_credit_minor"] == 0
    assert events[0].detail["after"]["emergency_credit_minor"] == 5000
    assert events[0].detail["by"] == "admin@formosa.example"


def test_a_calendar_only_change_reaches_the_shadow_once(
    client: Client, admin: dict[str, str], site: Bus
) -> None:
    path = f"/v1/properties/{site.property_id}/settings"
    current = _get(client, path, admin)
    cutoff = _desired(site)["cutoff"]["kwh"]
    # WHEN only a holiday is added (power and cutoff stay the same)
    friendly = dict(current["friendly_hours"])
    friendly["holidays"] = [*friendly["holidays"], "2027-04-04"]
    first = _put(client, path, admin, _settings_body(current, friendly_hours=friendly))
    # THEN the desired document is written once, with the new calendar
    assert json.loads(first.body)["rollout"]["shadows_written"] == 1
    assert "2027-04-04" in _desired(site)["cutoff"]["friendly"]["holidays"]
    assert _desired(site)["cutoff"]["kwh"] == cutoff
    # AND saving the same settings again writes no shadow
    again = _get(client, path, admin)
    second = _put(client, path, admin, _settings_body(again))
    assert json.loads(second.body)["rollout"] == {
        "gateways": 1,
        "meters": 1,
        "shadows_written": 0,
        "deferred": False,
    }


def test_a_concurrent_edit_is_a_conflict_and_changes_nothing(
    client: Client, admin: dict[str, str], site: Bus, services: Container
) -> None:
    path = f"/v1/properties/{site.property_id}/settings"
    # GIVEN two editors who read the same version
    read = _get(client, path, admin)
    first = _settings_body(read, emergency_credit_minor=7_000)
    second = _settings_body(read, emergency_credit_minor=9_000)
    # WHEN both save THEN the first wins and the second is told, not silently applied
    assert _put(client, path, admin, first).status_code == 200
    audits = len(_audit(services, f"property:{site.property_id}"))
    late = _put(client, path, admin, second)
    assert late.status_code == 409
    assert "changed by someone else" in json.loads(late.body)["detail"]
    now = _get(client, path, admin)
    assert (now["emergency_credit_minor"], now["version"]) == (7000, read["version"] + 1)
    assert len(_audit(services, f"property:{site.property_id}")) == audits


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "friendly_hours": {
                    "weekly": [{"weekday": 1, "start": "09:00", "end": "08:00"}],
                    "holidays": [],
                }
            },
            "friendly_hours.weekly.0",
        ),
        (
            {
                "friendly_hours": {
                    "weekly": [{"weekday": 7, "start": "09:00", "end": "10:00"}],
                    "holidays": [],
                }
            },
            "friendly_hours.weekly.0.weekday",
        ),
        ({"friendly_hours": {"weekly": [], "holidays": ["2026-02-30"]}}, "friendly_hours.holidays"),
        ({"emergency_credit_minor": -1}, "emergency_credit_minor"),
        ({"emergency_credit_minor": 1.5}, "emergency_credit_minor"),
        ({"low_credit_thresholds_minor": list(range(17))}, "low_credit_thresholds_minor"),
        ({"company_id": "thames"}, "company_id"),
    ],
)
def test_invalid_property_settings_are_refused_naming_the_field(
    client: Client, admin: dict[str, str], site: Bus, change: dict[str, Any], field: str
) -> None:
    path = f"/v1/properties/{site.property_id}/settings"
    before = _get(client, path, admin)
    response = _put(client, path, admin, _settings_body(before, **change))
    assert response.status_code == 400
    assert _pointer(field) in _pointers(response), response.body
    assert _get(client, path, admin) == before


def test_tariff_change_settles_at_the_old_price_then_switches(
    client: Client, admin: dict[str, str], site: Bus, services: Container
) -> None:
    path = f"/v1/units/{_unit(site)}/tariff"
    unit = services.catalogue.get_unit(CO, _unit(site))
    # GIVEN 0.300 kWh used since the last settlement, not yet charged
    before = _get(client, path, admin)
    assert before["tariff"]["tariff_id"] == "set-flat-5"
    assert before["tariff_change_applies"] == "after_settling_at_old_tariff"
    assert services.ledger.balance_minor(CO, str(unit.account_id)) == CREDIT_MINOR
    old_cutoff = _desired(site)["cutoff"]["kwh"]
    # WHEN the price doubles
    new = td.tiered_all_year("set-tiered-1", [("1", "10.00"), (None, "20.00")], tax_rate="0")
    body = {"version": before["version"], "tariff": new, "low_credit_thresholds_minor": [900]}
    response = _put(client, path, admin, body)
    assert response.status_code == 200, response.body
    saved = json.loads(response.body)
    # THEN the 0.300 kWh were charged at the old 5 TWD/kWh (1.50 TWD), naming the old tariff
    assert saved["settled_at_old_tariff"] is True
    assert services.ledger.balance_minor(CO, str(unit.account_id)) == CREDIT_MINOR - 150
    charges = [
        e
        for e in services.ledger.entries(CO, str(unit.account_id))
        if e.entry_kind == "consumption_charge"
    ]
    assert [(c.amount_minor, c.refs["tariff"]) for c in charges] == [(-150, "set-flat-5")]
    # AND the new tariff and the unit's own threshold round-trip
    assert saved["tariff"]["tariff_id"] == "set-tiered-1"
    assert saved["tariff"]["seasons"][0]["tiers"][0] == {"upto_kwh": "1", "price_per_kwh": "10.00"}
    assert saved["low_credit_thresholds_minor"] == [900]
    assert saved["version"] == before["version"] + 1
    # AND the cutoff was recomputed at the new price (less energy for the same credit)
    assert float(_desired(site)["cutoff"]["kwh"]) < float(old_cutoff)
    # AND the audit trail has both tariffs
    event = _audit(services, f"unit:{_unit(site)}")[0]
    assert event.action == "unit_tariff_changed"
    assert event.detail["before"]["tariff"]["tariff_id"] == "set-flat-5"
    assert event.detail["after"]["tariff"]["tariff_id"] == "set-tiered-1"
    assert event.detail["settled_first"] is True
    # AND a second editor holding the old version is refused, before any settling
    stale = _put(client, path, admin, {**body, "tariff": FLAT_5 | {"tariff_id": "set-flat-6"}})
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("tariff", "field"),
    [
        (td.flat("x-1", "5.00") | {"price_per_kwh": 5.0}, "tariff.flat.price_per_kwh"),
        (td.flat("x-2", "5.00", currency="GBP"), "tariff.currency"),
        (td.flat("x-3", "-1"), "tariff.flat.price_per_kwh"),
        (
            td.tiered_all_year("x-4", [("5", "1"), ("2", "2"), (None, "3")]),
            "tariff.tiered.seasons.0.tiers",
        ),
        ({"kind": "flat", "tariff_id": "x-5", "currency": "TWD"}, "tariff.flat.price_per_kwh"),
        ({"kind": "stepped", "tariff_id": "x-6", "currency": "TWD"}, "tariff"),
    ],
)
def test_invalid_tariffs_are_refused_naming_the_field(
    client: Client,
    admin: dict[str, str],
    site: Bus,
    tariff: dict[str, Any],
    field: str,
) -> None:
    path = f"/v1/units/{_unit(site)}/tariff"
    before = _get(client, path, admin)
    body = {"version": before["version"], "tariff": tariff, "low_credit_thresholds_minor": None}
    response = _put(client, path, admin, body)
    assert response.status_code == 400, response.body
    assert _pointer(field) in _pointers(response), response.body
    assert _get(client, path, admin) == before


def test_a_changed_tariff_needs_a_new_id(client: Client, admin: dict[str, str], site: Bus) -> None:
    path = f"/v1/units/{_unit(site)}/tariff"
    before = _get(client, path, admin)
    changed = dict(before["tariff"], tax_rate="0.1")
    body = {"version": before["version"], "tariff": changed, "low_credit_thresholds_minor": None}
    response = _put(client, path, admin, body)
    assert response.status_code == 400
    assert "tariff.tariff_id" in json.loads(response.body)["detail"]


# --- the pages (session cookie, CSRF, forms a phone can fill in) ---


@pytest.fixture
def staff(client: Client) -> Browser:
    browser = Browser(client)
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _version_of(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, "no version field"
    return found.group(1)


def _form_value(page: str, name: str) -> str:
    found = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if found is None:
        found = re.search(rf'<input id="{name}" name="{name}"[^>]*value="([^"]*)"', page)
    assert found, f"no field {name}"
    return html.unescape(found.group(1))


def test_property_settings_page_round_trips_the_form(
    staff: Browser, site: Bus, services: Container
) -> None:
    path = f"/portal/properties/{site.property_id}/settings"
    page = text(staff.get(path))
    csrf = staff.csrf_of(path)
    version = _version_of(page)
    # WHEN the landlord types windows the way people write them, and amounts in TWD
    form = {
        "version": version,
        "weekly": "Mon-Fri 22:00-24:00\n週六 00:00-09:00\nSun 0:00-24:00",
        "holidays": "2027-02-16, 2027-02-17",
        "emergency_credit": "150",
        "thresholds": "80, 20.5",
    }
    response = staff.post(path, form, csrf=csrf)
    # THEN it is stored (303 to the page, which shows the values back the same way)
    assert response.status_code == 303, text(response)
    shown = text(staff.get(response.headers["location"]))
    assert "Mon-Fri 22:00-24:00\nSat 00:00-09:00\nSun 00:00-24:00" in _form_value(shown, "weekly")
    assert _form_value(shown, "holidays") == "2027-02-16\n2027-02-17"
    assert _form_value(shown, "emergency_credit") == "150.00"
    assert _form_value(shown, "thresholds") == "80.00, 20.50"
    stored = services.catalogue.get_property(CO, site.property_id)
    assert (stored.emergency_credit_minor, stored.low_credit_thresholds_minor) == (
        15000,
        [8000, 2050],
    )
    assert _desired(site)["cutoff"]["friendly"]["holidays"] == ["2027-02-16", "2027-02-17"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weekly", "Mon 09:00-08:00"),
        ("weekly", "Someday 09:00-10:00"),
        ("holidays", "2027-13-01"),
        ("emergency_credit", "-5"),
        ("thresholds", "ten"),
    ],
)
def test_property_settings_page_shows_errors_next_to_the_field(
    staff: Browser, site: Bus, services: Container, field: str, value: str
) -> None:
    path = f"/portal/properties/{site.property_id}/settings"
    page = text(staff.get(path))
    before = services.catalogue.get_property(CO, site.property_id).settings_version
    form = {
        name: _form_value(page, name)
        for name in ("weekly", "holidays", "emergency_credit", "thresholds")
    }
    form["version"] = _version_of(page)
    form[field] = value
    response = staff.post(path, form, csrf=staff.csrf_of(path))
    assert response.status_code == 400
    body = text(response)
    assert f'id="{field}-error"' in body and 'aria-invalid="true"' in body
    assert value in _form_value(body, field)  # the typed value is kept for correction
    assert services.catalogue.get_property(CO, site.property_id).settings_version == before


def test_stale_page_is_a_conflict_and_the_tariff_page_saves_a_tiered_tariff_in_chinese(
    staff: Browser, site: Bus, services: Container
) -> None:
    path = f"/portal/units/{_unit(site)}/tariff"
    staff.cookies["pl_lang"] = "zh_TW"
    page = text(staff.get(path))
    assert "目前費率" in page and "變更費率" in page
    version = _version_of(page)
    csrf = staff.csrf_of(path)
    form = {
        "version": version,
        "kind": "tiered",
        "tariff_id": "set-tiered-page",
        "tax_percent": "5",
        "season0_name": "all",
        "season0_start": "01-01",
        "season0_end": "12-31",
        "season0_tier0_upto": "120",
        "season0_tier0_price": "1.68",
        "season0_tier1_upto": "330",
        "season0_tier1_price": "2.45",
        "season0_tier2_upto": "",
        "season0_tier2_price": "3.70",
        "fixed0_code": "meter",
        "fixed0_amount": "1",
        "fixed0_per": "period",
        "thresholds": "",
    }
    response = staff.post(path, form, csrf=csrf)
    assert response.status_code == 303, text(response)
    unit = services.catalogue.get_unit(CO, _unit(site))
    assert unit.tariff["tariff_id"] == "set-tiered-page" and unit.tariff["tax_rate"] == "0.05"
    assert [t["upto_kwh"] for t in unit.tariff["seasons"][0]["tiers"]] == ["120", "330", None]
    assert unit.tariff["fixed_charges"] == [{"code": "meter", "amount_minor": 100, "per": "period"}]
    assert unit.low_credit_thresholds_minor is None
    shown = text(staff.get(path))
    assert "120 度以下" in shown and "第 1 個季節" in shown
    # WHEN a second tab still holds the old version THEN 409, the saved tariff stays
    stale = staff.post(
        path, {**form, "tariff_id": "set-other", "season0_tier2_price": "9"}, csrf=csrf
    )
    assert stale.status_code == 409
    assert "其他人變更" in text(stale)
    assert services.catalogue.get_unit(CO, _unit(site)).tariff["tariff_id"] == "set-tiered-page"
    # WHEN the JSON fallback carries an invalid document THEN the error is next to it
    fresh = text(staff.get(path))
    bad = {
        "version": _version_of(fresh),
        "kind": "json",
        "document": '{"kind": "flat", "tariff_id": "j-1", "currency": "TWD", "price_per_kwh": 1.5}',
    }
    response = staff.post(path, bad, csrf=csrf)
    assert response.status_code == 400
    assert 'id="document-error"' in text(response) and "price_per_kwh" in text(response)


class _EditorFields(HTMLParser):
    """Every field of the tariff editor's form as a browser would send it back."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_form = a.get("id") == "tariff-form"
        if not self._in_form or ("name" not in a and tag != "option"):
            return
        if tag == "input" and (a.get("type") != "radio" or "checked" in a):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        self._textarea = None if tag == "textarea" else self._textarea
        self._select = None if tag == "select" else self._select

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def _all_fields(page: str) -> dict[str, str]:
    parser = _EditorFields()
    parser.feed(page)
    assert parser.fields.get("kind"), "no kind chosen"
    parser.fields.pop("csrf_token", None)
    return parser.fields


def test_a_time_of_use_tariff_survives_the_form_unchanged(
    client: Client, admin: dict[str, str], staff: Browser, site: Bus, services: Container
) -> None:
    # GIVEN a time-of-use tariff with holidays and a fixed charge, saved through the API
    tou = td.tou_every_day("set-tou-1", [("00:00", "07:30", "off"), ("07:30", "24:00", "peak")])
    tou["windows"] = [
        {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "00:00",
            "end": "24:00",
            "band": "peak",
        },
        {"days": ["sat", "sun", "holiday"], "start": "00:00", "end": "24:00", "band": "off"},
    ]
    tou |= {
        "holidays": ["2027-01-01"],
        "fixed_charges": [{"code": "meter", "amount_minor": 5000, "per": "period"}],
    }
    api = f"/v1/units/{_unit(site)}/tariff"
    current = _get(client, api, admin)
    body = {"version": current["version"], "tariff": tou, "low_credit_thresholds_minor": None}
    assert _put(client, api, admin, body).status_code == 200
    # WHEN the landlord opens the form and saves it with only a new name
    path = f"/portal/units/{_unit(site)}/tariff"
    page = text(staff.get(path))
    form = _all_fields(page)
    assert (form["kind"], form["windows"]) == (
        "tou",
        "mon-fri 00:00-24:00 peak\nsat-sun,holiday 00:00-24:00 off",
    )
    response = staff.post(path, {**form, "tariff_id": "set-tou-2"}, csrf=staff.csrf_of(path))
    # THEN the stored tariff is the same price list under the new name
    assert response.status_code == 303, text(response)
    stored = services.catalogue.get_unit(CO, _unit(site)).tariff
    expected = parse_tariff(tou | {"tariff_id": "set-tou-2"})
    assert parse_tariff(stored) == expected


def test_every_unreadable_field_is_shown_at_once(staff: Browser, site: Bus) -> None:
    path = f"/portal/properties/{site.property_id}/settings"
    page = text(staff.get(path))
    form = {"version": _version_of(page), "weekly": "Someday 09:00-10:00", "holidays": ""}
    form |= {"emergency_credit": "x", "thresholds": "1, two"}
    response = staff.post(path, form, csrf=staff.csrf_of(path))
    assert response.status_code == 400
    body = text(response)
    for field in ("weekly", "emergency_credit", "thresholds"):
        assert f'id="{field}-error"' in body, field


def test_a_busy_gateway_defers_the_rollout_but_keeps_the_saved_change(
    client: Client,
    admin: dict[str, str],
    site: Bus,
    services: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a gateway whose control state keeps changing under the rollout
    def busy(*args: Any) -> Any:
        raise ControlContentionError("gateway state kept changing")

    monkeypatch.setattr(services.settings_rollout, "reapply_property", busy)
    path = f"/v1/properties/{site.property_id}/settings"
    current = _get(client, path, admin)
    # WHEN the settings are saved THEN the save stands (200, new version), the rollout is deferred
    response = _put(client, path, admin, _settings_body(current, emergency_credit_minor=4_000))
    assert response.status_code == 200, response.body
    saved = json.loads(response.body)
    assert (saved["version"], saved["emergency_credit_minor"]) == (current["version"] + 1, 4000)
    assert saved["rollout"]["deferred"] is True


def _pointer(field: str) -> str:
    """``friendly_hours.weekly.0`` as the problem document's JSON Pointer."""
    return "/" + field.replace(".", "/")


def _pointers(response: Any) -> set[str]:
    """Every invalid field the problem document names, and each one's parents."""
    found = set()
    for error in json.loads(response.body)["errors"]:
        parts = error["pointer"].split("/")
        found |= {"/".join(parts[:n]) for n in range(2, len(parts) + 1)}
    return found
