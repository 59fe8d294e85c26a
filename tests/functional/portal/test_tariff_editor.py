"""The tariff editor page: a two-season tiered tariff built in the form is previewed
(priced by the function bills are made with, nothing stored) and saved; each bad input of
the issue's list is refused next to its field and nothing is stored; a template fills the
form, marked up or not. (Who may use the routes: access_cases/settings.py.)

Runs on units of this module's own in the demo company, one with a bill already issued
for the last calendar month, one whose meter metered the last month.
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
from chalicelib.data.usage_days import UsageDayStore
from chalicelib.domain.billing import postpaid_bill
from chalicelib.domain.calendar import zone
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.sample_usage import sample_readings
from chalicelib.domain.tariffs import parse_tariff
from chalicelib.web.i18n import Translator
from chalicelib.web.tariff_forms import compact, tariff_document
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO = "formosa"
TZ = "Asia/Taipei"
EN = Translator("en")


def _today() -> date:
    return datetime.now(UTC).astimezone(zone(TZ)).date()


def _last_month() -> BillingPeriod:
    this_month = _today().replace(day=1)
    return BillingPeriod((this_month - timedelta(days=1)).replace(day=1), this_month)


@pytest.fixture(scope="module")
def units(services: Container) -> dict[str, str]:
    """``billed``: postpaid, billed for last month, no meter. ``metered``: its meter used
    5 kWh on each of two days of last month."""
    tag = uuid.uuid4().hex[:8]
    prop, account, gateway, meter = f"ed-{tag}", f"a-ed-{tag}", f"gw-ed-{tag}", f"m-ed-{tag}"
    billed, metered = f"ed-u-{tag}", f"ed-m-{tag}"
    services.ledger.open_account(CO, account, "TWD", datetime(2026, 1, 1, tzinfo=UTC))
    Catalogue.save_all(
        [
            builders.property_(
                CO,
                prop,
                name="Editor House",
                address="3 Test Road",
                city="Taipei",
                country="TW",
                time_zone=TZ,
                currency="TWD",
            ),
            builders.unit(
                CO,
                billed,
                prop,
                name="Room E",
                unit_type="room",
                billing_mode="postpaid",
                tariff=td.flat("ed-flat-5", "5.00"),
                account_id=account,
                tenancy_id=f"t-{tag}",
            ),
            builders.unit(
                CO,
                metered,
                prop,
                name="Room M",
                unit_type="room",
                billing_mode="postpaid",
                tariff=td.flat("ed-flat-4", "4.00"),
                meter_id=meter,
            ),
            builders.meter(CO, meter, gateway, 7, unit_id=metered, profile="dds238"),
        ]
    )
    month = _last_month()
    Bill(
        keys.account_pk(CO, account),
        keys.bill_sk(month.start.isoformat()),
        company_id=CO,
        account_id=account,
        period_start=month.start.isoformat(),
        period_end=month.end.isoformat(),
        total_minor=0,
        currency="TWD",
        lines=[],
    ).save()
    days = UsageDayStore()
    for day in (month.start + timedelta(days=2), month.start + timedelta(days=9)):
        days.put_day(CO, gateway, day, TZ, {meter: "5.000"}, 96)
    return {"billed": billed, "metered": metered}


@pytest.fixture
def staff(client: Client) -> Browser:
    browser = Browser(client)
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _version(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found
    return found.group(1)


def two_seasons(version: str, **changes: str) -> dict[str, str]:
    form = {
        "version": version,
        "kind": "tiered",
        "tariff_id": f"ed-two-{uuid.uuid4().hex[:6]}",
        "tax_percent": "0",
        "tax_on": "lines",
        "rounding_lines": "minor",
        "rounding_total": "whole",
        "rounding_mode": "half_up",
        "tier_scaling": "per_month",
        "season0_name": "summer",
        "season0_start": "06-01",
        "season0_end": "09-30",
        "season0_tier0_upto": "120",
        "season0_tier0_price": "2",
        "season0_tier1_upto": "",
        "season0_tier1_price": "4",
        "season1_name": "rest",
        "season1_start": "10-01",
        "season1_end": "05-31",
        "season1_tier0_upto": "120",
        "season1_tier0_price": "1",
        "season1_tier1_upto": "",
        "season1_tier1_price": "3",
        "season2_name": "",
        "season2_start": "",
        "season2_end": "",
    }
    return form | changes


def _stored(unit_id: str) -> Any:
    return Unit.get(keys.company_pk(CO), keys.unit_sk(unit_id)).tariff


def _total(response: Any) -> str:
    found = re.search(r'id="preview-total">([^<]+)<', text(response))
    assert found, text(response)[:2000]
    return found.group(1)


def _expected_sample_total(form: dict[str, str]) -> int:
    """The same month priced here with the same sample: what the preview must show."""
    tariff = parse_tariff(tariff_document(compact(form), "TWD"))
    month = _last_month()
    return postpaid_bill(tariff, month, sample_readings(month, TZ), tz=TZ).total_minor


def test_a_two_season_tariff_is_previewed_without_saving_then_saved(
    staff: Browser, units: dict[str, str]
) -> None:
    unit = units["billed"]
    path = f"/portal/units/{unit}/tariff"
    page = staff.get(path)
    assert page.status_code == 200
    # GIVEN the page shows the stored flat tariff's bill of last month on the sample
    assert 'id="tariff-preview"' in text(page) and "10.000 kWh a day" in text(page)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    csrf = staff.csrf_of(path)
    form = two_seasons(_version(text(page)))
    stored = _stored(unit)
    # WHEN the two-season tariff is previewed through the fragment the script asks for
    fragment = staff.post(f"{path}/preview", form, csrf)
    assert fragment.status_code == 200, text(fragment)[:2000]
    expected = _expected_sample_total(form)
    assert _total(fragment) == EN.money(expected, "TWD")
    # AND with a higher top tier the preview changes
    dearer = staff.post(f"{path}/preview", form | {"season1_tier1_price": "5"}, csrf)
    assert _total(dearer) != _total(fragment)
    # AND the page's own Preview button (no script) shows the same bill beside the form
    previewed = staff.post(path, form | {"action": "preview"}, csrf)
    assert previewed.status_code == 200 and _total(previewed) == _total(fragment)
    # THEN nothing was stored by previewing
    assert _stored(unit) == stored
    # WHEN it is saved
    saved = staff.post(path, form | {"action": "save"}, csrf)
    assert saved.status_code == 303, text(saved)[:3000]
    tariff = parse_tariff(_stored(unit))
    assert tariff.tariff_id == form["tariff_id"] and tariff.kind == "tiered"
    assert [s.name for s in tariff.seasons] == ["summer", "rest"]
    assert tariff.rounding.total == "whole"
    # AND the page shows it back in rows, with one spare season
    again = text(staff.get(path))
    assert 'name="season1_tier1_price"' in again and 'value="rest"' in again
    assert 'name="season2_name"' in again and 'name="season3_name"' not in again


def _bad_cases() -> list[Any]:
    this_month = _today().replace(day=1)
    return [
        pytest.param(
            {"season1_start": "09-01"},
            "season1_start",
            "Season 2: 09-01 is covered by seasons 1 (summer) and 2 (rest)",
            id="overlapping-seasons",
        ),
        pytest.param(
            {"season1_start": "10-02"},
            "seasons",
            "10-01 is covered by no season",
            id="gappy-seasons",
        ),
        pytest.param(
            {"season0_tier1_price": "1000001"},
            "season0_tier1_price",
            "Season 1, tier 2: price",
            id="price-beyond-the-limit",
        ),
        pytest.param(
            {"season1_tier1_upto": "100", "season1_tier2_price": "9"},
            "season1_tier1_upto",
            "Season 2, tier 2: upper bound must be above 120 kWh",
            id="tier-bound-below-the-last",
        ),
        pytest.param(
            {"season0_tier0_price": "2.5e1"},
            "season0_tier0_price",
            "Season 1, tier 1: exponent notation (1e3) is not accepted",
            id="price-in-exponent-notation",
        ),
        pytest.param(
            {"effective_from": (this_month - timedelta(days=10)).isoformat()},
            "effective_from",
            "bill already issued",
            id="dated-over-an-issued-bill",
        ),
        pytest.param(
            {
                "kind": "json",
                "document": '{"kind": "flat", "tariff_id": "gb", '
                '"currency": "GBP", "price_per_kwh": "0.2"}',
            },
            "document",
            "must be TWD",
            id="currency-of-another-account",
        ),
    ]


@pytest.mark.parametrize(("changes", "field", "said"), _bad_cases())
def test_each_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    staff: Browser, units: dict[str, str], changes: dict[str, str], field: str, said: str
) -> None:
    unit = units["billed"]
    path = f"/portal/units/{unit}/tariff"
    page = text(staff.get(path))
    csrf = staff.csrf_of(path)
    stored = _stored(unit)
    response = staff.post(path, two_seasons(_version(page), **changes), csrf)
    assert response.status_code == 400
    body = text(response)
    error = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', body) if field != "form" else None
    shown = error.group(1) if error else body
    assert said in shown.replace("&#39;", "'"), shown[:500]
    assert _stored(unit) == stored
    # AND the fragment refuses the same document with the same words
    if "effective_from" not in changes:
        fragment = staff.post(f"{path}/preview", two_seasons("0", **changes), csrf)
        assert fragment.status_code == 400 and 'id="preview-blocked"' in text(fragment)


def test_a_template_fills_the_form_marked_up_and_another_currency_is_refused(
    staff: Browser, units: dict[str, str]
) -> None:
    unit = units["billed"]
    path = f"/portal/units/{unit}/tariff"
    page = text(staff.get(path))
    csrf = staff.csrf_of(path)
    stored = _stored(unit)
    chosen = {"version": _version(page), "action": "template"}
    # WHEN a Taiwanese template is taken with 10 % on the energy prices
    filled = staff.post(
        path, chosen | {"template": "tw-taipower-residential-tiered", "markup_percent": "10"}, csrf
    )
    assert filled.status_code == 200
    body = text(filled)
    # THEN the form holds its seasons and tiers (1.78 x 1.1 = 1.958), its source, a preview
    assert 'value="taipower-residential-2025-10-m10"' in body
    assert 'name="season0_tier0_price"' in body and 'value="1.958"' in body
    assert 'id="preview-total"' in body
    # WHEN a British template is taken for a unit billed in TWD THEN it is refused, named
    refused = staff.post(path, chosen | {"template": "gb-ofgem-price-cap-electricity"}, csrf)
    assert refused.status_code == 400
    assert re.search(r'id="template-error"[^>]*>[^<]*GBP', text(refused))
    assert _stored(unit) == stored


def test_the_preview_prices_the_units_own_metered_days(
    staff: Browser, units: dict[str, str]
) -> None:
    unit = units["metered"]
    path = f"/portal/units/{unit}/tariff"
    page = staff.get(path)
    body = text(page)
    # GIVEN 10 kWh metered last month at the stored 4.00 a kWh THEN the preview says so
    assert "own metered use" in body
    assert _total(page) == EN.money(4000, "TWD")


def test_the_json_api_previews_the_same_bill_and_names_the_field(
    client: Client, standin: LocalStack, units: dict[str, str]
) -> None:
    auth = {**bearer(standin, "admin@formosa.example"), "Content-Type": "application/json"}
    path = f"/v1/units/{units['billed']}/tariff/preview"
    form = two_seasons("0")
    tariff = tariff_document(compact(form), "TWD")
    stored = _stored(units["billed"])
    answer = client.http.post(path, headers=auth, body=json.dumps({"tariff": tariff}))
    assert answer.status_code == 200, answer.body
    shown = json.loads(answer.body)
    assert shown["source"] == "sample" and shown["energy_kwh"] == "300.000"
    assert shown["total"] == {"amount_minor": _expected_sample_total(form), "currency": "TWD"}
    overlapping = dict(tariff, seasons=[tariff["seasons"][0], tariff["seasons"][0]])
    refused = client.http.post(path, headers=auth, body=json.dumps({"tariff": overlapping}))
    assert refused.status_code == 400
    assert "tariff.tiered.seasons" in json.loads(refused.body)["detail"]
    assert _stored(units["billed"]) == stored


def _value(body: str, name: str) -> str | None:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', body)
    return found.group(1) if found else None


def test_a_row_is_removed_without_script_and_nothing_is_stored(
    staff: Browser, units: dict[str, str]
) -> None:
    unit = units["billed"]
    path = f"/portal/units/{unit}/tariff"
    page = text(staff.get(path))
    csrf = staff.csrf_of(path)
    stored = _stored(unit)
    form = two_seasons(_version(page)) | {
        "fixed0_code": "meter",
        "fixed0_amount": "30",
        "fixed0_per": "period",
    }
    # GIVEN every row has a Remove button that names it (the spare rows have none to use)
    shown = text(staff.post(path, form | {"action": "preview"}, csrf))
    assert re.search(
        r'<button type="submit" name="remove" value="tier:1:0" class="remove-row"'
        r' formnovalidate aria-label="Remove season 2, tier 1">Remove</button>',
        shown,
    ), shown
    for value, label in (("season:1", "Remove season 2"), ("fixed:0", "Remove fixed charge 1")):
        assert f'value="{value}" class="remove-row" formnovalidate aria-label="{label}">' in shown
    assert re.search(r'value="season:2"[^>]*hidden>', shown)  # the spare season
    # WHEN the first tier of the second season is removed (a submit button, no script)
    response = staff.post(path, form | {"remove": "tier:1:0"}, csrf)
    # THEN the page comes back without it: the next tier moved up, the spare follows
    assert response.status_code == 200, text(response)[:2000]
    body = text(response)
    assert "Removed Season 2, tier 1." in body
    assert (_value(body, "season1_tier0_price"), _value(body, "season1_tier0_upto")) == ("3", "")
    assert _value(body, "season1_tier1_price") == "" and _value(body, "season1_tier2_price") is None
    assert _value(body, "season0_tier1_price") == "4"  # the other season is untouched
    # AND the preview prices what is left
    left = {k: v for k, v in form.items() if not k.startswith("season1_tier0_")}
    assert _total(response) == EN.money(_expected_sample_total(left), "TWD")
    # WHEN the fixed charge is removed THEN the preview drops it
    without_charge = staff.post(path, form | {"remove": "fixed:0"}, csrf)
    assert _value(text(without_charge), "fixed0_code") == ""
    assert _total(without_charge) != _total(staff.post(path, form | {"action": "preview"}, csrf))
    # WHEN the first season is removed THEN the second becomes season 1, and the gap shows
    no_summer = text(staff.post(path, form | {"remove": "season:0"}, csrf))
    assert _value(no_summer, "season0_name") == "rest" and _value(no_summer, "season1_name") == ""
    assert 'id="preview-blocked"' in no_summer
    # AND a Remove of no row on the form is refused, saying so
    for bogus in ("season:9", "tier:0:9", "everything", "fixed:-1"):
        refused = staff.post(path, form | {"remove": bogus}, csrf)
        assert refused.status_code == 400 and "nothing was removed" in text(refused), bogus
    # THEN nothing of it was stored
    assert _stored(unit) == stored


def test_removing_a_band_takes_its_price_out_of_every_season(
    staff: Browser, units: dict[str, str]
) -> None:
    unit = units["billed"]
    path = f"/portal/units/{unit}/tariff"
    csrf = staff.csrf_of(path)
    version = _version(text(staff.get(path)))
    form = {
        "version": version,
        "kind": "tou",
        "tariff_id": "ed-tou-remove",
        "band0_name": "peak",
        "band0_price": "6",
        "band1_name": "mid",
        "band1_price": "4",
        "band2_name": "off",
        "band2_price": "2",
        "windows": "mon-sun,holiday 00:00-08:00 off\nmon-sun,holiday 08:00-24:00 peak",
        "season0_name": "all",
        "season0_start": "01-01",
        "season0_end": "12-31",
        "season0_band0_price": "6.5",
        "season0_band1_price": "4.5",
        "season0_band2_price": "2.5",
    }
    body = text(staff.post(path, form | {"remove": "band:1"}, csrf))
    assert [_value(body, f"band{k}_name") for k in range(3)] == ["peak", "off", ""]
    assert [_value(body, f"season0_band{k}_price") for k in range(3)] == ["6.5", "2.5", None]
    assert 'id="preview-total"' in body, re.findall(r"(?:error|alert)[^>]*>([^<]+)<", body)


# The same bad inputs as a zh-TW reader is told them (by the cases' ids).
ZH_SAID = {
    "overlapping-seasons": "第 2 個季節：09-01 同時屬於第 1 個季節（summer）與第 2 個季節（rest）；"
    "每一天須恰好屬於一個季節",
    "tier-bound-below-the-last": "第 2 個季節，第 2 段：上限須高於第 1 段的 120 度；"
    "各段上限須逐段遞增",
    "price-beyond-the-limit": "第 1 個季節，第 2 段：單價：不可超過 1000000",
    "price-in-exponent-notation": "第 1 個季節，第 1 段：不接受科學記號（1e3）：請寫出每一位數字",
    "dated-over-an-issued-bill": "落在已開立的帳單期間內",
}


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        pytest.param(*case.values[:2], ZH_SAID[case.id], id=case.id)
        for case in _bad_cases()
        if case.id in ZH_SAID
    ],
)
def test_the_editors_errors_read_in_chinese_for_a_zh_tw_reader(
    staff: Browser, units: dict[str, str], changes: dict[str, str], field: str, said: str
) -> None:
    # GIVEN a reader of zh-TW
    unit = units["billed"]
    path = f"/portal/units/{unit}/tariff"
    staff.cookies["pl_lang"] = "zh_TW"
    page = text(staff.get(path))
    csrf = staff.csrf_of(path)
    # WHEN an invalid tariff is saved
    response = staff.post(path, two_seasons(_version(page), **changes), csrf)
    # THEN it is refused next to its field in Chinese, with no English sentence left
    assert response.status_code == 400
    body = text(response)
    errors = re.findall(r'class="error field-error" id="([^"]+)-error"[^>]*>([^<]+)<', body)
    assert [f for f, _ in errors] == [field], errors
    shown = errors[0][1]
    assert said in shown, shown
    assert not re.search(r"[A-Za-z]{2,}", re.sub(r"summer|rest", "", shown)), shown
    # AND the preview beside it says why it cannot price, in Chinese too
    blocked = re.search(r'id="preview-blocked">([^<]+)<', body)
    assert blocked and not re.search(r"[A-Za-z]{2,}", blocked.group(1)), body[-3000:]
