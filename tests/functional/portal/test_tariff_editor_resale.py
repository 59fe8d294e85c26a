"""The tariff editor's resale warning: where the property's market caps resale and the
landlord entered the utility tariff they pay, the preview prices the same readings at it
(``postpaid_bill`` and ``domain.resale.compare``, as the resale check does) and warns,
with both figures, when the edited tariff charges more; saving stays allowed. Without a
utility tariff the preview links to the resale page; a market without a cap gets no
warning. The JSON preview carries the same comparison.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.data import builders, keys
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.models import Unit
from chalicelib.domain.billing import postpaid_bill
from chalicelib.domain.calendar import zone
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.sample_usage import sample_readings
from chalicelib.domain.tariffs import parse_tariff
from chalicelib.domain.templates import template
from chalicelib.web.i18n import Translator
from chalicelib.web.tariff_forms import document_form
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO, TZ = "formosa", "Europe/London"
OFGEM = "gb-ofgem-price-cap-electricity"
EN, ZH = Translator("en"), Translator("zh-TW")
BELOW, ABOVE = "0.10", "0.60"  # GBP a kWh: well under and over Ofgem's unit rate


def _last_month() -> BillingPeriod:
    this_month = datetime.now(UTC).astimezone(zone(TZ)).date().replace(day=1)
    return BillingPeriod((this_month - timedelta(days=1)).replace(day=1), this_month)


def _flat(price: str) -> dict[str, Any]:
    return td.flat(f"rs-ed-{price}", price, currency="GBP")


def _priced(document: Any) -> int:
    """The last month's sample priced here: what the preview must show."""
    month = _last_month()
    return postpaid_bill(document, month, sample_readings(month, TZ), tz=TZ).total_minor


@pytest.fixture(scope="module")
def units(services: Any) -> dict[str, str]:
    """``capped``: GB, Ofgem entered as the utility tariff. ``unset``: GB, none entered.
    ``uncapped``: Jersey (no cap found), Ofgem entered."""
    tag = uuid.uuid4().hex[:6]
    made: dict[str, str] = {}
    items: list[Any] = []
    for name, country, utility in (
        ("capped", "GB", {"template_id": OFGEM}),
        ("unset", "GB", None),
        ("uncapped", "JE", {"template_id": OFGEM}),
    ):
        prop, unit = f"rsed-{name}-{tag}", f"rsed-u-{name}-{tag}"
        items += [
            builders.property_(
                CO,
                prop,
                name=f"Resale Editor {name}",
                address="1 Test Street",
                city="London",
                country=country,
                time_zone=TZ,
                currency="GBP",
                utility_tariff=utility,
            ),
            builders.unit(
                CO,
                unit,
                prop,
                name="Flat 1",
                unit_type="room",
                billing_mode="postpaid",
                tariff=_flat("0.20"),
            ),
        ]
        made[name] = unit
        made[f"{name}_property"] = prop
    Catalogue.save_all(items)
    return made


@pytest.fixture
def staff(client: Client) -> Browser:
    browser = Browser(client)
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _version(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found
    return found.group(1)


def _preview(staff: Browser, unit: str, price: str) -> str:
    path = f"/portal/units/{unit}/tariff"
    version = _version(text(staff.get(path)))
    form = document_form(_flat(price)) | {"version": version}
    answer = staff.post(f"{path}/preview", form, staff.csrf_of(path))
    assert answer.status_code == 200, text(answer)[:2000]
    return text(answer)


def _utility_minor() -> int:
    return _priced(template(OFGEM).timeline)


def test_a_gb_tariff_above_the_ofgem_price_is_warned_with_both_figures_and_still_saves(
    staff: Browser, units: dict[str, str]
) -> None:
    unit = units["capped"]
    above, cap = _priced(parse_tariff(_flat(ABOVE))), _utility_minor()
    assert above > cap  # the case is what it says
    # WHEN a flat 60p a kWh is previewed for a GB unit whose landlord pays Ofgem's cap
    shown = _preview(staff, unit, ABOVE)
    # THEN the preview warns, with the tariff's total and the utility's, in GBP
    warning = re.search(r'id="preview-resale-warning">([^<]+)<', shown)
    assert warning, shown[:3000]
    assert EN.money(above, "GBP") in warning.group(1) and EN.money(cap, "GBP") in warning.group(1)
    # AND saving is still allowed
    path = f"/portal/units/{unit}/tariff"
    form = document_form(_flat(ABOVE)) | {"version": _version(text(staff.get(path)))}
    saved = staff.post(path, form | {"action": "save"}, staff.csrf_of(path))
    assert saved.status_code == 303, text(saved)[:2000]
    stored = Unit.get(keys.company_pk(CO), keys.unit_sk(unit)).tariff
    assert stored["price_per_kwh"] == ABOVE
    # AND the page of the stored tariff warns too, in zh-TW with 度
    page = staff.get(path, headers={"Accept-Language": "zh-TW"})
    zh = re.search(r'id="preview-resale-warning">([^<]+)<', text(page))
    assert zh and "度" in zh.group(1) and ZH.money(cap, "GBP") in zh.group(1)


def test_a_gb_tariff_below_the_ofgem_price_is_not_warned(
    staff: Browser, units: dict[str, str]
) -> None:
    below, cap = _priced(parse_tariff(_flat(BELOW))), _utility_minor()
    assert below < cap
    shown = _preview(staff, units["capped"], BELOW)
    assert 'id="preview-resale-warning"' not in shown
    within = re.search(r'id="preview-resale-within">([^<]+)<', shown)
    assert within and EN.money(cap, "GBP") in within.group(1)


def test_without_a_utility_tariff_the_preview_links_to_the_resale_page(
    staff: Browser, units: dict[str, str]
) -> None:
    shown = _preview(staff, units["unset"], ABOVE)
    assert 'id="preview-resale-warning"' not in shown
    assert 'id="preview-resale-none"' in shown
    assert f"/portal/properties/{units['unset_property']}/resale" in shown


def test_a_market_without_a_cap_gets_no_warning(staff: Browser, units: dict[str, str]) -> None:
    shown = _preview(staff, units["uncapped"], ABOVE)
    assert 'id="preview-resale-warning"' not in shown
    assert "preview-resale" not in shown  # no cap: nothing to say


def test_the_json_preview_carries_the_comparison(
    client: Client, standin: LocalStack, units: dict[str, str]
) -> None:
    auth = {**bearer(standin, "admin@formosa.example"), "Content-Type": "application/json"}
    cap = {"amount_minor": _utility_minor(), "currency": "GBP"}

    def resale(unit: str, price: str) -> dict[str, Any]:
        path = f"/v1/units/{unit}/tariff/preview"
        answer = client.http.post(path, headers=auth, body=json.dumps({"tariff": _flat(price)}))
        assert answer.status_code == 200, answer.body
        shown: dict[str, Any] = json.loads(answer.body)["resale"]
        return shown

    above = resale(units["capped"], ABOVE)
    assert above["over_cap"] is True and above["at_utility_tariff"] == cap
    assert above["cap"]["rule"] == "max_resale_price"
    assert above["utility"]["template_id"] == OFGEM
    below = resale(units["capped"], BELOW)
    assert below["over_cap"] is False and below["at_utility_tariff"] == cap
    unset = resale(units["unset"], ABOVE)
    assert unset["utility"] is None and unset["over_cap"] is False
    uncapped = resale(units["uncapped"], ABOVE)
    assert uncapped == {"cap": None, "utility": None, "at_utility_tariff": None, "over_cap": False}
