"""The unit page's meter facts: the profile versions the gateway reads it with, and the
RS-485 bus health of the last 24 hours (counters, latency, failures per hour)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.data.catalogue import Catalogue
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.pipeline.buckets import bucket_start
from local_aws.demo_data import DEMO_PASSWORD

from .browser_client import Browser, text

pytestmark = pytest.mark.functional

UNIT, METER, GATEWAY = "tpe-2f", "m-tpe-2f", "gw-tpe-1"


@pytest.fixture
def landlord(browser: Browser) -> Browser:
    assert browser.sign_in("landlord@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _snapshot(at: datetime, dg: list[Any]) -> None:
    """A bucket closed at ``at`` with the meter's counters (and no energy of its own)."""
    TelemetryStore().put_usage(
        "formosa",
        GATEWAY,
        bucket_start(at) - timedelta(minutes=15),
        {},
        health={"t": int(at.timestamp() * 1000), "m": {METER: dg}},
    )


def test_the_unit_page_shows_profile_versions_and_bus_health(landlord: Browser) -> None:
    # GIVEN the gateway reported its profiles, and three snapshots of the meter's counters
    # in the last hours: 5 time-outs, 2 CRC errors, a connection failure, a backwards reading
    now = datetime.now(UTC)
    Catalogue.set_meter_profile_versions(
        "formosa", METER, {"relay_module": "1.0badc0de", "sdm120": "2.0a1b2c3d"}, now
    )
    _snapshot(now - timedelta(hours=3), [10, 0, 0, 38, 0, 0, 0])
    _snapshot(now - timedelta(hours=2), [12, 2, 0, 41, 0, 1, 0])
    _snapshot(now - timedelta(hours=1), [15, 2, 0, 95, 0, 1, 1])
    # WHEN the landlord opens the unit
    page = text(landlord.get(f"/portal/units/{UNIT}"))
    # THEN it names the profiles and their versions
    assert "sdm120 version 2 (0a1b2c3d)" in page and "relay_module version 1 (0badc0de)" in page
    # AND the bus health card shows the counts, the latency and the hours with failures
    card = page[page.index('id="bus-health"') :]
    card = card[: card.index("</section>")]
    for label, value in (
        ("Time-outs", "5"),
        ("CRC errors", "2"),
        ("Connection failures", "1"),
        ("Readings lower than the one before", "1"),
        ("Gateway restarts", "0"),
    ):
        assert f'<th scope="row">{label}</th><td>{value}</td>' in card, label
    assert "41 / 95 ms" in card
    assert card.count('class="spark-bar bad"') == 2
    assert "Counters cover 2 hours of the last 24 hours." in card


def test_a_unit_without_counters_says_so(landlord: Browser) -> None:
    page = text(landlord.get("/portal/units/tpe-3f-a"))
    assert "No bus counters from the gateway in the last 24 hours." in page
