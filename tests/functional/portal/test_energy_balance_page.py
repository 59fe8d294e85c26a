"""The property's energy page and API: declaring the building's main meter (only a
meter of the property's buses that belongs to no unit), and the main meter against the
units per day, as JSON and as a chart and table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.usage_days import UsageDayStore
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO, PROP, GW = "formosa", "zz-energy", "gw-zz-energy"
PATH = f"/v1/properties/{PROP}"


@pytest.fixture(scope="module")
def building(services: Any) -> None:
    """A property of its own (sorted after the demo's) with a bus of a main meter and two
    flats' meters, and three finished days rolled up."""
    Catalogue.save_all(
        [
            builders.property_(
                CO, PROP, name="Energy House", address="1 Rd", city="Taipei", country="TW",
                time_zone="Asia/Taipei", currency="TWD",
            ),
            builders.gateway(CO, GW, "pl-formosa-gw-zz-energy", property_id=PROP),
            builders.meter(CO, "m-zz-main", GW, 1, profile="sdm630"),
            builders.meter(CO, "m-zz-1", GW, 2, unit_id="zz-1", profile="sdm120"),
            builders.meter(CO, "m-zz-2", GW, 3, unit_id="zz-2", profile="sdm120"),
        ]
    )  # fmt: skip
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Taipei")).date()
    store = UsageDayStore()
    for back, main, one, two in ((3, "50.000", "20.000", "20.000"), (2, "40.000", "30.000", "9.000"),
                                 (1, "30.000", "10.000", None)):  # fmt: skip
        energy = {"m-zz-main": main, "m-zz-1": one} | ({"m-zz-2": two} if two else {})
        store.put_day(CO, GW, today - timedelta(days=back), "Asia/Taipei", energy, 96)


@pytest.fixture(scope="module")
def admin(standin: LocalStack, services: Any) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


def _put(client: Client, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.http.put(
        f"{PATH}/main-meter",
        headers={**auth, "Content-Type": "application/json"},
        body=json.dumps(body),
    )


def test_only_a_meter_of_the_building_without_a_unit_can_be_its_main_meter(
    client: Client, admin: dict[str, str], building: None
) -> None:
    for body, field in (
        ({"meter_id": "m-zz-1"}, "meter_id"),  # a unit's meter
        ({"meter_id": "m-tpe-2f"}, "meter_id"),  # another property's bus
        ({"meter_id": "m-nowhere"}, "meter_id"),
        ({"meter_id": "m-zz-main", "loss_alert_percent": "80"}, "loss_alert_percent"),
        ({"meter_id": "m-zz-main", "loss_alert_percent": "five"}, "loss_alert_percent"),
    ):
        answer = _put(client, admin, body)
        assert answer.status_code == 400, body
        assert json.loads(answer.body)["detail"].startswith(field), body
    assert _put(client, admin, {"meter": "m-zz-main"}).status_code == 400  # unknown field
    balance = json.loads(client.http.get(f"{PATH}/energy-balance", headers=admin).body)
    assert balance["main_meter_id"] is None and balance["days"] == []


def test_the_days_of_the_main_meter_against_the_units(
    client: Client, admin: dict[str, str], building: None, browser: Browser
) -> None:
    # WHEN staff declare the main meter with a 10 % allowance
    answer = _put(client, admin, {"meter_id": "m-zz-main", "loss_alert_percent": "10"})
    assert answer.status_code == 200, answer.body
    days = json.loads(answer.body)["days"]
    # THEN each finished day compares it with the flats: 20 % lost, 2.5 % (within 10 %),
    # and a day one flat's meter had no energy (counted as zero, named)
    assert [(d["loss_kwh"], d["loss_percent"], d["status"]) for d in days] == [
        ("10.000", "20.0", "loss"),
        ("1.000", "2.5", "ok"),
        ("20.000", "66.7", "loss"),
    ]
    assert days[2]["meters_without_energy"] == ["m-zz-2"] and all(d["complete"] for d in days)
    # AND the page draws them, with the days beyond the allowance flagged
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(browser.get(f"/portal/properties/{PROP}/energy"))
    assert "Main meter m-zz-main, alert above 10 % loss" in page
    assert page.count('class="bar-units flagged"') == 2 and page.count('class="bar-main"') == 3
    assert "no energy from m-zz-2" in page
    assert '<option value="m-zz-main" selected>' in page and 'value="m-zz-1"' not in page
    # WHEN the form clears it THEN there is no main meter any more
    page_path = f"/portal/properties/{PROP}/energy"
    form = {"meter_id": "", "loss_alert_percent": ""}
    done = browser.post(page_path, form, csrf=browser.csrf_of(page_path))
    assert done.status_code == 303
    balance = json.loads(client.http.get(f"{PATH}/energy-balance", headers=admin).body)
    assert balance["main_meter_id"] is None and balance["loss_alert_percent"] == "5.0"


def test_a_bus_with_its_own_main_meter_gets_its_own_chart_and_table(
    client: Client, admin: dict[str, str], building: None, browser: Browser
) -> None:
    # GIVEN the bus's own main meter (a building fed in parts), 5 % allowed by default
    answer = _put(client, admin, {"meter_id": "m-zz-main", "gateway_id": GW})
    assert answer.status_code == 200, answer.body
    # WHEN staff open the energy page
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(browser.get(f"/portal/properties/{PROP}/energy"))
    # THEN the bus has a card: its main meter against its unit meters per day, the loss
    # (20 % and 66.7 % beyond the allowance, 2.5 % within it)
    assert f"Bus {GW}: main meter m-zz-main, alert above 5 % loss" in page
    card = page[page.index(f'id="balance-bus-{GW}"') :]
    table = card[card.index(f'id="balance-bus-{GW}-table"') : card.index("</table>")]
    assert table.count('<tr class="balance-') == 3
    assert table.count('class="balance-loss"') == 2 and "20 %" in table and "2.5 %" in table
    assert card.count('class="bar-units flagged"') == 2
    # WHEN the bus's main meter is dropped THEN its card goes
    assert _put(client, admin, {"meter_id": None, "gateway_id": GW}).status_code == 200
    page = text(browser.get(f"/portal/properties/{PROP}/energy"))
    assert f'id="balance-bus-{GW}"' not in page
