"""A landlord builds a two-season tiered tariff in the editor at phone width: rows are
added with the page's buttons, the preview beside the form follows what is typed, the
tariff is saved, and an overlapping season is refused next to the season's field."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_reading_review import shoot, signed_in_landlord

if TYPE_CHECKING:
    from tests.browser.conftest import Portal

pytestmark = pytest.mark.browser

UNIT = "tpe-3f-b"  # the demo's flat-priced prepaid room


def fill(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.locator(f'[name="{name}"]').fill(value)


def add_row_after(page: Page, selector: str) -> None:
    """Press the "Add a row" button the script put right after ``selector``."""
    page.locator(f"{selector} + button.add-row").click()


def test_landlord_builds_a_two_season_tariff_with_a_live_preview(
    portal: Portal, chromium: Any
) -> None:
    context, page, errors = signed_in_landlord(portal, chromium)
    try:
        page.goto(f"{portal.url}/portal/units/{UNIT}/tariff")
        total = page.locator("#preview-total")
        # GIVEN the stored flat tariff's bill of last month (on the room's own metered days)
        expect(page.locator("#preview-basis")).to_be_visible()
        expect(total).to_be_visible()
        # WHEN the landlord builds two seasons of two tiers each with the page's buttons
        page.locator("#kind-tiered").check()
        fill(page, {"tariff_id": "tpe-two-seasons"})
        fill(
            page,
            {
                "season0_name": "summer",
                "season0_start": "06-01",
                "season0_end": "09-30",
                "season0_tier0_upto": "1",
                "season0_tier0_price": "2",
            },
        )
        add_row_after(page, "#season0 .table-wrap")
        fill(page, {"season0_tier1_price": "4"})
        add_row_after(page, "#season0")
        fill(
            page,
            {
                "season1_name": "rest",
                "season1_start": "10-01",
                "season1_end": "05-31",
                "season1_tier0_upto": "1",
                "season1_tier0_price": "1",
                "season1_tier1_price": "3",
            },
        )
        # THEN the preview beside the form prices it without a click: both tiers of
        # last month's season (November is in "rest")
        lines = page.locator("#preview-lines")
        expect(lines).to_contain_text("rest · tier 2")
        tiered_total = total.inner_text()
        # AND a dearer top tier changes it again
        fill(page, {"season1_tier1_price": "5"})
        expect(total).not_to_have_text(tiered_total)
        shoot(page, "tariff-editor")
        # WHEN it is saved THEN the page says so and shows both seasons from the store
        page.locator("#save-button").click()
        expect(page).to_have_url(re.compile(rf"/portal/units/{UNIT}/tariff\?done=1$"))
        expect(page.locator(".notice")).to_be_visible()
        expect(page.locator("#current-tariff")).to_contain_text("summer")
        expect(page.locator("#current-tariff")).to_contain_text("rest")
        # WHEN the second season is moved to start inside the first and saved
        fill(page, {"tariff_id": "tpe-overlap", "season1_start": "09-01"})
        page.locator("#save-button").click()
        # THEN it is refused next to that season's field, naming it; nothing is stored
        error = page.locator("#season1_start-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("Season 2: 09-01 is covered by seasons 1 (summer) and 2")
        expect(page.locator('[name="season1_start"]')).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#current-tariff")).to_contain_text("tpe-two-seasons")
        # (the preview answers 400 while the form is half typed: that is its answer)
        assert not [e for e in errors if "status of 400" not in e], errors
    finally:
        context.close()


REMOVE_UNIT = "tpe-4f"  # the demo's two-season tiered flat with a fixed charge; not saved here


def test_rows_are_removed_with_their_button_and_the_preview_follows(
    portal: Portal, chromium: Any
) -> None:
    context, page, errors = signed_in_landlord(portal, chromium)
    try:
        page.goto(f"{portal.url}/portal/units/{REMOVE_UNIT}/tariff")
        total = page.locator("#preview-total")
        expect(total).to_be_visible()
        # GIVEN the stored tariff's two seasons, each with its Remove button named for it
        expect(page.locator("#season1")).to_be_visible()
        # WHEN the second season is removed THEN it goes from the page, no page load
        page.get_by_role("button", name="Remove season 2", exact=True).click()
        expect(page.locator("#season1")).to_have_count(0)
        expect(page.locator('[name="season1_name"]')).to_have_count(0)
        # (and the preview says the one season left does not cover the year)
        expect(page.locator("#preview-blocked")).to_be_visible()
        fill(page, {"season0_start": "01-01", "season0_end": "12-31"})
        expect(total).to_be_visible()
        whole_year = total.inner_text()
        # WHEN its first tier is removed THEN that row goes and the preview prices the rest
        first_tier = page.locator('[name="season0_tier0_price"]')
        expect(first_tier).to_have_value("1.68")
        page.get_by_role("button", name="Remove season 1, tier 1", exact=True).click()
        expect(first_tier).to_have_count(0)
        expect(page.locator('#season0 tr[data-row="tier"]')).to_have_count(4)  # 3 + the spare
        expect(total).not_to_have_text(whole_year)
        dearer_start = total.inner_text()
        # WHEN the fixed charge is removed THEN the preview drops it too
        page.get_by_role("button", name="Remove fixed charge 1", exact=True).click()
        expect(page.locator('[name="fixed0_code"]')).to_have_count(0)
        expect(total).not_to_have_text(dearer_start)
        # AND a row added with the script can be removed again by its own button
        add_row_after(page, ".table-wrap:has(#fixed)")
        expect(page.get_by_role("button", name="Remove fixed charge 2", exact=True)).to_be_visible()
        assert not [e for e in errors if "status of 400" not in e], errors
    finally:
        context.close()
