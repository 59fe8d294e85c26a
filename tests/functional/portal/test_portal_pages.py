"""Landlord and tenant pages: dashboard, unit, add credit once, power with a reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.application.errors import InvalidCursorError
from chalicelib.application.views import USAGE_DAYS
from chalicelib.auth.principal import Principal, Role
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.wiring.container import container
from local_aws.demo_data import DEMO_PASSWORD

from .browser_client import Browser, text

pytestmark = pytest.mark.functional

# tpe-2f (tenant2) is this module's playground: tpe-3f-a keeps the demo's
# opening balance for the access tests.
UNIT = "tpe-2f"


@pytest.fixture
def landlord(browser: Browser) -> Browser:
    assert browser.sign_in("landlord@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _tenant2(browser: Browser) -> Browser:
    tenant = Browser(browser.client)
    ok = tenant.sign_in("tenant2@formosa.example", DEMO_PASSWORD, "/tenant/signin")
    assert ok.status_code == 303
    return tenant


def _balance_minor(services: Any) -> int:
    unit = services.catalogue.get_unit("formosa", UNIT)
    return int(services.ledger.get_account("formosa", unit.account_id).balance_minor)


def test_dashboard_shows_units_with_balance_power_and_filters(landlord: Browser) -> None:
    page = text(landlord.get("/portal"))
    assert "3F room A" in page and "2F flat" in page
    assert "NT$1,000.00" in page  # the opening credit, formatted for the property
    found = text(landlord.get("/portal?property=tpe-daan&q=4F"))
    assert "4F flat" in found and "3F room A" not in found
    # a property the landlord is not delegated answers 404, like one that does not exist
    assert landlord.get("/portal?property=khh-yancheng").status_code == 404


def test_dashboard_pages_are_bounded_and_cursors_cannot_be_forged(services: Any) -> None:
    admin = Principal("formosa", "sub", "a@x", Role.COMPANY_ADMIN)
    first = container().views.dashboard(admin, property_id="tpe-daan", page_size=2)
    assert len(first.rows) == 2 and first.next_cursor
    second = container().views.dashboard(
        admin, property_id="tpe-daan", cursor=first.next_cursor, page_size=2
    )
    ids = [r.unit.unit_id for r in first.rows + second.rows]
    assert len(ids) == len(set(ids)) == 4
    # a cursor of another partition (another company's units) is refused
    other = container().views.dashboard(
        Principal("thames", "sub", "a@x", Role.COMPANY_ADMIN), page_size=1
    )
    with pytest.raises(InvalidCursorError):
        container().views.dashboard(
            admin, property_id="tpe-daan", cursor=other.next_cursor or "e30="
        )


def test_add_credit_twice_with_one_form_credits_once(landlord: Browser, services: Any) -> None:
    # GIVEN the unit page with its add-credit form (one idempotency key per render)
    page = text(landlord.get(f"/portal/units/{UNIT}"))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert csrf and key
    before = _balance_minor(services)
    form = {"amount": "250.50", "idempotency_key": key.group(1)}
    # WHEN the form is submitted twice (a double click, or a retry after a timeout)
    first = landlord.post(f"/portal/units/{UNIT}/top-up", form, csrf=csrf.group(1))
    second = landlord.post(f"/portal/units/{UNIT}/top-up", form, csrf=csrf.group(1))
    # THEN both land on the same receipt and the balance moved once
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _balance_minor(services) == before + 25050
    receipt = text(landlord.get(first.headers["location"]))
    assert "NT$250.50" in receipt
    # AND the receipt has a number people can quote (per company), not the entry's id
    number = re.search(r'id="receipt-no">(\d{6})<', receipt)
    assert number, receipt
    assert "topup:" not in receipt
    # WHEN the next top-up is made, it takes the next number; the replay took none
    page = text(landlord.get(f"/portal/units/{UNIT}"))
    csrf2 = re.search(r'name="csrf_token" value="([^"]+)"', page)
    key2 = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert csrf2 and key2
    third = landlord.post(
        f"/portal/units/{UNIT}/top-up",
        {"amount": "1", "idempotency_key": key2.group(1)},
        csrf=csrf2.group(1),
    )
    following = re.search(
        r'id="receipt-no">(\d{6})<', text(landlord.get(third.headers["location"]))
    )
    assert following and int(following.group(1)) == int(number.group(1)) + 1


def test_add_credit_refuses_bad_amounts(landlord: Browser, services: Any) -> None:
    page = text(landlord.get(f"/portal/units/{UNIT}"))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    before = _balance_minor(services)
    for amount in ("0", "-5", "1.234", "abc", "1e9999"):
        response = landlord.post(
            f"/portal/units/{UNIT}/top-up", {"amount": amount, "idempotency_key": key}, csrf=csrf
        )
        assert response.status_code == 400, amount
    assert _balance_minor(services) == before


def test_disconnect_needs_confirmation_and_reason_and_the_tenant_sees_why(
    landlord: Browser, browser: Browser
) -> None:
    csrf = landlord.csrf_of(f"/portal/units/{UNIT}")
    no_confirm = landlord.post(
        f"/portal/units/{UNIT}/relay", {"power": "off", "reason": "Unpaid rent"}, csrf=csrf
    )
    assert no_confirm.status_code == 400
    no_reason = landlord.post(
        f"/portal/units/{UNIT}/relay", {"power": "off", "reason": " ", "confirm": "yes"}, csrf=csrf
    )
    assert no_reason.status_code == 400
    done = landlord.post(
        f"/portal/units/{UNIT}/relay",
        {"power": "off", "reason": "Wiring inspection 14:00", "confirm": "yes"},
        csrf=csrf,
    )
    assert done.status_code == 303
    unit_page = text(landlord.get(done.headers["location"]))
    assert "Power switched off" in unit_page and "Switched off by hand on " in unit_page
    assert "Set by landlord@formosa.example." in unit_page
    tenant_page = text(_tenant2(browser).get("/tenant"))
    assert "Switched off by the landlord" in tenant_page
    assert "Wiring inspection 14:00" in tenant_page
    # AND "on" by hand needs an end: without one it is refused, nothing changes
    csrf = landlord.csrf_of(f"/portal/units/{UNIT}")
    endless = landlord.post(
        f"/portal/units/{UNIT}/relay",
        {"power": "on", "reason": "Inspection done", "confirm": "yes"},
        csrf=csrf,
    )
    assert endless.status_code == 400 and "a time within a month" in text(endless)
    # WHEN the landlord switches it on until the next top-up, in the same one form
    until = landlord.post(
        f"/portal/units/{UNIT}/relay",
        {"power": "on", "until_kind": "topup", "reason": "Inspection done", "confirm": "yes"},
        csrf=csrf,
    )
    assert until.status_code == 303
    restored = text(landlord.get(until.headers["location"]))
    assert "Switched on by hand until the next top-up (at the latest " in restored
    # THEN the tenant reads the mode and why in words
    tenant_page = text(_tenant2(browser).get("/tenant"))
    assert "Switched on by hand until the next top-up" in tenant_page
    assert "then the credit decides again" in tenant_page
    # AND automatic control is the same form's first choice
    auto = landlord.post(
        f"/portal/units/{UNIT}/relay",
        {"power": "auto", "reason": "Back to prepaid rules", "confirm": "yes"},
        csrf=csrf,
    )
    assert auto.status_code == 303
    after = text(landlord.get(auto.headers["location"]))
    assert "Back under automatic control" in after
    assert "Automatic control: the credit decides." in after
    assert "Return to automatic control" not in after  # one form, not two


def test_tenant_sees_credit_days_left_chart_and_receipts(browser: Browser, services: Any) -> None:
    # GIVEN a week of 15-minute usage for the tenant's meter, and a charge in the ledger
    now = datetime.now(UTC)
    store = TelemetryStore()
    for day in range(3):
        start = (now - timedelta(days=day)).replace(minute=0, second=0, microsecond=0)
        store.put_usage("formosa", "gw-tpe-1", start, {"m-tpe-2f": "1.250"})
    tenant = _tenant2(browser)
    page = text(tenant.get("/tenant"))
    # THEN the tenant sees the balance, the chart and the credit history with receipts
    assert "Remaining credit" in page
    assert '<svg class="chart"' in page and "1.250 kWh" in page
    receipts = re.findall(r'href="(/tenant/units/tpe-2f/receipts/[^"]+)"', page)
    assert receipts
    receipt = tenant.get(receipts[0])
    assert receipt.status_code == 200 and "Receipt" in text(receipt)
    # AND the landlord's pages are not theirs
    assert tenant.get(f"/portal/units/{UNIT}").status_code == 403
    # AND another tenant's receipt answers 404
    other = receipts[0].replace("tpe-2f", "tpe-3f-a")
    assert tenant.get(other).status_code == 404


def test_daily_usage_sums_buckets_per_local_day(services: Any) -> None:
    meter = services.catalogue.get_meter("formosa", "m-tpe-3f-b")
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 20:00 in Taipei
    store = TelemetryStore()
    # 15:45 UTC is 23:45 Taipei (the 20th); 16:00 UTC is 00:00 the 21st
    store.put_usage(
        "formosa", "gw-tpe-1", datetime(2026, 11, 19, 15, 45, tzinfo=UTC), {"m-tpe-3f-b": "0.500"}
    )
    store.put_usage(
        "formosa",
        "gw-tpe-1",
        datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        {"m-tpe-3f-b": "0.250", "other": "9"},
    )
    days = container().views.daily_usage("formosa", meter, "Asia/Taipei", now)
    assert len(days) == USAGE_DAYS
    by_day = {d.day.date().isoformat(): d.energy_kwh for d in days}
    assert by_day["2026-11-19"] == Decimal("0.500")
    assert by_day["2026-11-20"] == Decimal("0.250")


def test_pages_render_in_traditional_chinese(landlord: Browser) -> None:
    landlord.get("/lang/zh_TW?next=/portal")
    page = text(landlord.get(f"/portal/units/{UNIT}"))
    assert "供電控制" in page and "儲值" in page and 'lang="zh-Hant-TW"' in page
    # AND in Taiwan's words: NT$ (not a bare "$"), 度 for kWh, the tenancy by its dates
    assert "NT$" in page and " 度" in page and "kWh" not in page
    assert '<dd id="tenancy-words">tenant2@formosa.example · 自 2026-11-01 起</dd>' in page


def test_a_tenancy_is_shown_by_its_tenant_and_dates_not_its_id(landlord: Browser) -> None:
    page = text(landlord.get(f"/portal/units/{UNIT}"))
    assert '<dd id="tenancy-words">tenant2@formosa.example · from 2026-11-01</dd>' in page
    assert "t-tpe-2f-2026-11-01</dd>" not in page


def test_the_dashboard_shows_a_postpaid_units_last_bill_in_the_same_batch(services: Any) -> None:
    # GIVEN the demo's postpaid shop, billed for October by the real billing code
    from chalicelib.auth.principal import Principal, Role

    admin = Principal("formosa", "sub-admin", "admin@formosa.example", Role.COMPANY_ADMIN)
    # WHEN the dashboard of its property is read in November
    board = container().views.dashboard(
        admin, property_id="khh-yancheng", now=datetime(2026, 11, 15, tzinfo=UTC)
    )
    rows = {r.unit.unit_id: r for r in board.rows}
    # THEN the shop's row carries that bill, and prepaid rows carry none
    shop = rows["khh-shop-1"]
    assert shop.bill is not None and shop.bill.period_start == "2026-10-01"
    assert int(shop.bill.total_minor) == -int(shop.account.balance_minor) > 0
    assert all(r.bill is None for r in rows.values() if r.unit.billing_mode == "prepaid")
    # AND in December nothing is shown for November until it is billed
    later = container().views.dashboard(
        admin, property_id="khh-yancheng", now=datetime(2026, 12, 2, tzinfo=UTC)
    )
    assert next(r for r in later.rows if r.unit.unit_id == "khh-shop-1").bill is None
