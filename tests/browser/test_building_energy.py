"""At phone width: the unit page's bus health card, and a landlord who declares the
building's main meter on the property's energy page and sees the days it lost energy.
Nothing on either page is wider than the screen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.pipeline.buckets import bucket_start
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings
from tests.browser.test_portal_journey import sign_in
from tests.browser.test_reading_review import PHONE, shoot

if TYPE_CHECKING:
    from tests.browser.conftest import Portal

pytestmark = pytest.mark.browser

GATEWAY, MAIN, UNIT = "gw-tpe-1", "m-tpe-main", "tpe-3f-a"


def _seed(portal: Portal) -> None:
    """The building's meter on the Taipei bus, three finished days (the last one lost a
    fifth of its energy), and an afternoon of the bus counters of 3F room A's meter."""
    with using(Container(Settings.from_env(portal.env))) as root:
        Catalogue.save_all([builders.meter("formosa", MAIN, GATEWAY, 90, profile="sdm630")])
        units = [
            m.meter_id
            for m in root.catalogue.list_meters_of_gateway("formosa", GATEWAY)
            if m.unit_id
        ]
        today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Taipei")).date()
        for back, main in ((3, 41), (2, 40), (1, 50)):
            energy = {m: "10.000" for m in units} | {MAIN: f"{main}.000"}
            root.usage_days.put_day(
                "formosa", GATEWAY, today - timedelta(days=back), "Asia/Taipei", energy, 96
            )
        now = datetime.now(UTC)
        for hours, dg in ((4, [3, 0, 0, 41, 0, 0, 0]), (3, [9, 1, 0, 44, 0, 0, 0]),
                          (2, [9, 1, 2, 60, 0, 1, 0]), (1, [9, 1, 2, 38, 0, 1, 0])):  # fmt: skip
            at = now - timedelta(hours=hours)
            root.telemetry.put_usage(
                "formosa",
                GATEWAY,
                bucket_start(at) - timedelta(minutes=15),
                {},
                health={"t": int(at.timestamp() * 1000), "m": {f"m-{UNIT}": dg}},
            )
    assert len(units) == 4, units  # the demo's Taipei bus: the loss figures depend on it


def test_bus_health_and_the_buildings_energy_balance(portal: Portal, chromium: Any) -> None:
    _seed(portal)
    context = chromium.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, portal.url, "/signin", "landlord@formosa.example")
    expect(page).to_have_url(re.compile(r"/portal$"))

    # GIVEN the unit page of 3F room A: its bus health over the last day
    page.goto(f"{portal.url}/portal/units/{UNIT}")
    card = page.locator("#bus-health")
    expect(card.get_by_role("heading", name="Bus health, last 24 hours")).to_be_visible()
    expect(card.locator("tr", has_text="Time-outs")).to_contain_text("6")
    expect(card.locator("tr", has_text="Exception responses")).to_contain_text("2")
    expect(card.locator("tr", has_text="Latency")).to_contain_text("44 / 60 ms")
    expect(page.locator("#meter-model")).to_have_text("Meter: Hiking DDS238-2 ZN/SR (dds238)")
    shoot(page, "20-unit-bus-health")

    # WHEN the landlord opens the property's energy page and declares the main meter
    page.goto(f"{portal.url}/portal")
    page.get_by_role("link", name="Energy balance").click()
    page.get_by_label("Main meter", exact=True).select_option(MAIN)
    page.get_by_label("Alert above this loss").fill("5")
    page.get_by_role("button", name="Save").click()
    # THEN the chart and the table show each day, the last one flagged as a loss
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.locator("#balance h2")).to_have_text(f"Main meter {MAIN}, alert above 5 % loss")
    rows = page.locator("#balance-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("10.000 (20 %)")
    expect(rows.first).to_contain_text("loss")
    expect(rows.nth(1)).to_contain_text("within the allowance")
    expect(page.locator(".balance-chart .bar-units.flagged")).to_have_count(1)
    shoot(page, "21-property-energy")
    assert not errors, errors
    context.close()
