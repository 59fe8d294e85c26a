"""A landlord reviews held readings at phone width: the unit page says how many wait, the
readings page says why each was held, and the landlord replaces a spike with an estimate
and rejects a misread zero. Nothing on the page is wider than the screen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings
from local_aws.demo_data import DEMO_PASSWORD
from tests.functional.pipeline.rig import Bus, event

if TYPE_CHECKING:
    from tests.browser.conftest import Portal

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
UNIT, METER = "tpe-3f-a", "m-tpe-3f-a"  # the demo's DDS238 (at most 0.331 kWh a minute)
TAIPEI = ZoneInfo("Asia/Taipei")
READ_DELAY = timedelta(milliseconds=100)


def ingest(portal: Portal, t0: datetime, readings: list[str]) -> None:
    """One cycle a minute of the demo's Taipei bus, through the app's own ingest handler
    (what the IoT rule calls), so validation holds what it holds in production."""
    bus = Bus("formosa", "tpe-daan", "gw-tpe-1", "pl-formosa_gw-tpe-1", [])
    with using(Container(Settings.from_env(portal.env))):
        for seq, value in enumerate(readings, start=1):
            handlers.ingest_telemetry(event(bus, seq, t0 + timedelta(minutes=seq), {METER: value}))


def reading_ms(t0: datetime, minute: int) -> int:
    return int((t0 + timedelta(minutes=minute) + READ_DELAY).timestamp() * 1000)


def nothing_wider_than_the_screen(page: Page) -> None:
    found: dict[str, Any] = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .map(e => `${e.tagName}#${e.id}.${e.className}: ${e.textContent.trim().slice(0, 40)}`);
          return {scroll: document.documentElement.scrollWidth - width, wide};
        }"""
    )
    assert found["scroll"] <= 0 and not found["wide"], found


def shoot(page: Page, name: str) -> None:
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for label, size in (("390x844", PHONE), ("1440x900", DESKTOP)):
        page.set_viewport_size(size)
        nothing_wider_than_the_screen(page)
        path = folder / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
    page.set_viewport_size(PHONE)


def signed_in_landlord(portal: Portal, chromium: Any) -> tuple[Any, Page, list[str]]:
    """A phone-width page signed in as the demo landlord, with console errors collected."""
    context = chromium.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{portal.url}/signin")
    page.get_by_label("E-mail").fill("landlord@formosa.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/portal$"))
    return context, page, errors


def test_landlord_replaces_a_spike_with_an_estimate_and_rejects_a_misread_zero(
    portal: Portal, chromium: Any
) -> None:
    # GIVEN the meter of 3F room A sent a +50 kWh glitch and a misread zero in good readings
    t0 = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    ingest(portal, t0, ["302.200", "352.200", "302.300", "0.000", "302.400"])
    good_at = (t0 + timedelta(minutes=3) + READ_DELAY).astimezone(TAIPEI)
    # WHEN the landlord opens the unit: its page says two readings are held
    context, page, errors = signed_in_landlord(portal, chromium)
    page.get_by_role("link", name="3F room A").click()
    link = page.locator("#readings-link")
    expect(link).to_contain_text("2 readings held")
    nothing_wider_than_the_screen(page)
    link.click()

    # THEN the readings page says why each was held, in words
    expect(
        page.get_by_role("heading", name=re.compile("Readings and meter exchanges"))
    ).to_be_visible()
    spike = page.locator(f"#held-{reading_ms(t0, 2)}")
    zero = page.locator(f"#held-{reading_ms(t0, 4)}")
    expect(spike.locator(".evidence")).to_have_text(
        "Held: +50.000 kWh in 1 minute; this meter can pass at most 0.331 kWh."
    )
    expect(zero.locator(".evidence")).to_have_text(
        f"Held: 0.000 kWh is below the last good reading 302.300 kWh ({good_at:%H:%M})."
    )
    # AND the good readings around them, and no "accept" for a reading below the last good one
    expect(zero).to_contain_text("302.400 kWh")
    expect(zero.get_by_role("button", name="Accept as real")).to_have_count(0)
    expect(spike.get_by_role("button", name="Accept as real")).to_be_visible()
    shoot(page, "readings-01-held")

    # WHEN the landlord replaces the spike with an estimate, with a reason
    spike.get_by_label("Reason (kept with the decision)").fill("Usual evening use")
    spike.get_by_label("Estimate (kWh), to replace it").fill("302.250")
    spike.get_by_role("button", name="Replace with the estimate").click()
    # THEN the page says so and the reading shows as replaced
    expect(page.get_by_role("status")).to_have_text(
        "Reading replaced by the estimate: the account is charged up to it."
    )
    expect(spike).to_contain_text("Replaced by an estimate")
    expect(spike).to_contain_text("302.250 kWh")
    expect(spike).to_contain_text("Usual evening use")

    # WHEN the zero is rejected
    zero.get_by_label("Reason (kept with the decision)").fill("Bus glitch")
    zero.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text("Reading rejected")
    expect(zero).to_contain_text("Rejected")
    expect(page.locator("form[id^='decide-']")).to_have_count(0)
    shoot(page, "readings-02-decided")

    # AND the unit page no longer counts any held reading
    page.get_by_role("link", name=re.compile("3F room A")).click()
    expect(page.locator("#readings-link")).to_have_text("Readings")
    assert not errors, errors
    context.close()


def test_landlord_records_the_exchange_a_changed_serial_proposes_in_one_click(
    portal: Portal, chromium: Any
) -> None:
    # GIVEN 3F room B's gateway read serial 11112222, then 33334444 on a register at 0.050
    meter = "m-tpe-3f-b"
    bus = Bus("formosa", "tpe-daan", "gw-tpe-1", "pl-formosa_gw-tpe-1", [])
    t0 = (datetime.now(UTC) - timedelta(minutes=50)).replace(second=0, microsecond=0)
    cycles = [("88.100", "11112222"), ("88.200", None), ("0.050", "33334444"), ("0.150", None)]
    with using(Container(Settings.from_env(portal.env))):
        for seq, (value, serial) in enumerate(cycles, start=1):
            handlers.ingest_telemetry(
                event(
                    bus,
                    seq,
                    t0 + timedelta(minutes=seq),
                    {meter: value},
                    serials={meter: serial} if serial else None,
                )
            )
    context, page, errors = signed_in_landlord(portal, chromium)

    # WHEN the landlord opens the unit's readings
    page.goto(f"{portal.url}/portal/units/tpe-3f-b/readings")
    # THEN the proposal names both serials and pre-fills the exchange with both readings
    proposal = page.locator("#proposal")
    expect(proposal.get_by_role("heading", name="Proposed meter exchange")).to_be_visible()
    expect(proposal).to_contain_text("33334444")
    expect(proposal).to_contain_text("11112222")
    expect(proposal.get_by_label("Old meter's final reading (kWh)")).to_have_value("88.200")
    expect(proposal.get_by_label("New meter's opening reading (kWh)")).to_have_value("0.050")
    # AND the new meter's readings are held for it, with only "reject" on them
    held = page.locator(".held-reading")
    expect(held).to_have_count(2)
    expect(held.first.locator(".evidence")).to_contain_text("another meter is fitted")
    expect(held.first.get_by_role("button", name="Accept as real")).to_have_count(0)
    shoot(page, "readings-03-serial-proposal")

    # WHEN the landlord records it, in one click
    proposal.get_by_role("button", name="Record this exchange").click()
    # THEN the exchange is recorded with the serials' note, and the proposal is gone
    expect(page.get_by_role("status")).to_contain_text("exchange")
    expect(page.locator("#proposal")).to_have_count(0)
    expect(page.locator("#exchanges")).to_contain_text("Serial 11112222 replaced by 33334444")
    expect(page.locator("form[id^='decide-']")).to_have_count(0)
    assert not errors, errors
    context.close()
