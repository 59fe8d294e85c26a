"""A landlord adds credit, switches a unit off by hand and on until a time in the one power
form; the tenant sees it in words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from local_aws.demo_data import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
UNIT = "tpe-3f-a"


def shoot(page: Page, name: str) -> None:
    """The same page at phone and desktop size, under tests/artifacts/screenshots."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for label, size in (("390x844", PHONE), ("1440x900", DESKTOP)):
        page.set_viewport_size(size)
        path = Path(folder / f"{name}-{label}.png")
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
    page.set_viewport_size(PHONE)


def sign_in(page: Page, url: str, screen: str, email: str) -> None:
    page.goto(f"{url}{screen}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_landlord_tops_up_disconnects_restores_and_tenant_sees_it(
    portal_url: str, chromium: Any
) -> None:
    context = chromium.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # GIVEN the landlord signs in on the staff screen
    page.goto(f"{portal_url}/signin")
    shoot(page, "01-staff-sign-in")
    sign_in(page, portal_url, "/signin", "landlord@formosa.example")
    # (every redirect keeps the stage prefix when the portal is served under one)
    expect(page).to_have_url(f"{portal_url}/portal")
    expect(page.get_by_role("link", name="3F room A")).to_be_visible()
    shoot(page, "02-dashboard")

    # WHEN they add NT$300 of credit to 3F room A
    page.get_by_role("link", name="3F room A").click()
    expect(page.locator("#balance")).to_have_text("NT$1,000.00")
    shoot(page, "03-unit")
    page.get_by_label("Amount (TWD)").fill("300")
    # (a double click: both submits carry the form's one idempotency key)
    page.get_by_role("button", name="Add credit").dblclick()
    # THEN a receipt shows the amount and the balance moved once
    expect(page.locator("#receipt-amount")).to_have_text("NT$300.00")
    expect(page.locator("#balance")).to_have_text("NT$1,300.00")
    shoot(page, "04-receipt")
    receipt_no = page.locator("#receipt-no").inner_text()
    # AND reloading the receipt (a GET after the redirect) credits nothing more
    page.reload()
    expect(page.locator("#balance")).to_have_text("NT$1,300.00")

    # WHEN they switch it off by hand with a reason, in the one power form (the
    # confirmation box is required)
    page.goto(f"{portal_url}/portal/units/{UNIT}")
    power = page.locator("#power-form")
    expect(power.get_by_label("Automatic: the credit decides")).to_be_checked()
    power.get_by_label("Off by hand").check()
    power.get_by_label("Reason (shown to the tenant)").fill("Meter safety check")
    power.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(f"{portal_url}/portal/units/{UNIT}")  # blocked by `required`
    power.get_by_label("I confirm this change").check()
    power.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Power switched off")
    expect(page.locator("#power-state")).to_have_text("Off")
    expect(page.locator("#power-mode")).to_contain_text("Switched off by hand on ")
    expect(page.locator("#power-mode")).to_contain_text("Set by landlord@formosa.example")
    shoot(page, "05-disconnected")

    # AND switch it on by hand until a time (the form offers a day from now), again with
    # a reason, in the same form: there is no second "back to automatic" form
    expect(page.get_by_role("button", name="Return to automatic control")).to_have_count(0)
    expect(page.locator("form[action$='/relay']")).to_have_count(1)
    power.get_by_label("On by hand, until the end chosen below").check()
    power.get_by_label("this time:").check()
    expect(power.locator("#until-at")).not_to_have_value("")
    power.get_by_label("Reason (shown to the tenant)").fill("Check passed")
    power.get_by_label("I confirm this change").check()
    power.get_by_role("button", name="Apply").click()
    expect(page.locator("#power-state")).to_have_text("On")
    expect(page.locator("#power-mode")).to_contain_text("Switched on by hand until ")
    expect(page.locator("#power-mode")).to_contain_text("then the credit decides again")
    shoot(page, "05b-on-until")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{portal_url}/signin")

    # THEN the tenant signs in and sees the new balance and the top-up with its receipt
    sign_in(page, portal_url, "/tenant/signin", "tenant@formosa.example")
    expect(page).to_have_url(f"{portal_url}/tenant")
    expect(page.locator("#balance")).to_have_text("NT$1,300.00")
    expect(page.locator(".ledger").get_by_text("NT$300.00")).to_be_visible()
    expect(page.get_by_text("Switched on by the landlord")).to_be_visible()
    # (the mode in words: on by hand until when, and what happens then)
    expect(page.locator("#power-mode-1")).to_contain_text("Switched on by hand until ")
    shoot(page, "06-tenant-home")
    page.get_by_role("link", name="Receipt").first.click()
    expect(page.locator("#receipt-no")).to_have_text(receipt_no)

    # AND the tenant's view in Traditional Chinese
    page.get_by_role("link", name="繁體中文").click()
    expect(page.get_by_role("heading", name="收據")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"^{re.escape(portal_url)}/tenant/units/"))
    page.goto(f"{portal_url}/tenant")
    expect(page.get_by_text("剩餘額度")).to_be_visible()
    shoot(page, "07-tenant-home-zh")
    assert not errors, errors
    context.close()
