"""Bills, statements and notifications: figures traceable and exact, CSV that
parses back to the same figures, bad months refused, each reader's own only.

The demo's bill (khh-shop-1, October 2026, time of use) was made at seed time by
the real billing run. This module builds its own company "stmt-co" for the rest
(a tiered bill with tax and fixed charges, a prepaid ledger, alerts), so the
demo's figures other tests rely on are not touched.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client

from chalicelib.application.bills import BillDetail
from chalicelib.application.errors import InvalidCursorError
from chalicelib.application.statement_errors import InvalidMonthError, MonthOutOfRangeError
from chalicelib.auth.principal import Principal, Role
from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.errors import NotFoundError
from chalicelib.domain import (
    BillingPeriod,
    EntryKind,
    LedgerEntry,
    Money,
    Reading,
    parse_tariff,
    postpaid_bill,
)
from chalicelib.pipeline.alerts import Alert
from chalicelib.pipeline.telemetry import MeterRow
from chalicelib.web.cookies import SESSION_COOKIE
from chalicelib.wiring.container import container
from local_aws import demo_data as demo
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

TZ = "Asia/Taipei"
CO = "stmt-co"
DEMO_UNIT = "khh-shop-1"
DEMO_BILL_ID = "a-t-khh-shop-1-2026-10-01:2026-10-01"
TIERED_WITH_TAX = {
    **demo.TARIFF_TW_TIERED,
    "tariff_id": "stmt-tiered-tax",
    "tax_rate": "0.05",
    "fixed_charges": [
        {"code": "meter-service", "amount_minor": 3000, "per": "period"},
        {"code": "standing", "amount_minor": 7, "per": "day"},
    ],
}


def _local(day: str, hhmm: str = "00:00") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), ZoneInfo(TZ))


def _rows(body: bytes) -> list[dict[str, str]]:
    decoded = body.decode("utf-8")
    assert decoded.startswith("\ufeff"), "UTF-8 with a BOM, for Excel"
    return list(csv.DictReader(io.StringIO(decoded[1:])))


@pytest.fixture(scope="module")
def world(services: Any) -> dict[str, Any]:
    """stmt-co: two properties, a postpaid unit billed for September 2026 by the
    real billing run (moved in mid-month: pro-rated tiers and fixed charges), a
    prepaid unit with a ledger over this month and the last, staff of each kind."""
    now = datetime.now(UTC)
    items: list[Any] = [
        builders.company(CO, "Statement Test Co", now),
        builders.property_(
            CO,
            "sp-1",
            name="North",
            address="1 Road",
            city="Taipei",
            country="TW",
            time_zone=TZ,
            currency="TWD",
        ),
        builders.property_(
            CO,
            "sp-2",
            name="South",
            address="2 Road",
            city="Kaohsiung",
            country="TW",
            time_zone=TZ,
            currency="TWD",
        ),
        builders.gateway(CO, "sgw-1", "pl-stmt-sgw-1", property_id="sp-1"),
        builders.gateway(CO, "sgw-2", "pl-stmt-sgw-2", property_id="sp-2"),
        builders.meter(CO, "sm-1", "sgw-1", 1, unit_id="su-post", profile="dds238"),
        builders.meter(CO, "sm-2", "sgw-1", 2, unit_id="su-pre", profile="dds238"),
        builders.meter(CO, "sm-3", "sgw-2", 1, unit_id="su-south", profile="dds238"),
        builders.membership(CO, "stmt-admin", "admin@stmt.example", "company_admin"),
        builders.membership(
            CO, "stmt-manager", "manager@stmt.example", "property_manager", property_ids={"sp-1"}
        ),
        builders.membership(CO, "stmt-tenant", "tenant@stmt.example", "tenant"),
        builders.membership(CO, "stmt-tenant2", "tenant2@stmt.example", "tenant"),
    ]
    # the postpaid unit: moved in on 15 September, billed for September
    opening = Reading(_local("2026-09-15"), Decimal("1000.000"))
    closing = Reading(_local("2026-09-30", "23:00"), Decimal("1234.567"))
    services.ledger.open_account(CO, "sa-post", "TWD", opening.at)
    items += [
        builders.tenancy(
            CO,
            "st-post",
            "su-post",
            "stmt-tenant2",
            "2026-09-15",
            account_id="sa-post",
            opening_kwh="1000.000",
        ),
        builders.unit(
            CO,
            "su-post",
            "sp-1",
            name="=Shop 1",
            unit_type="shop",
            billing_mode="postpaid",
            tariff=TIERED_WITH_TAX,
            meter_id="sm-1",
            account_id="sa-post",
            tenancy_id="st-post",
        ),
    ]
    # the prepaid unit: a ledger over the previous month and this one
    this_month = now.astimezone(ZoneInfo(TZ)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    created = last_month + timedelta(hours=1)
    services.ledger.open_account(CO, "sa-pre", "TWD", created)
    items += [
        builders.tenancy(
            CO,
            "st-pre",
            "su-pre",
            "stmt-tenant",
            last_month.date().isoformat(),
            account_id="sa-pre",
            opening_kwh="10.000",
        ),
        builders.unit(
            CO,
            "su-pre",
            "sp-1",
            name="2F 房間",
            unit_type="room",
            billing_mode="prepaid",
            tariff=demo.TARIFF_TW_FLAT,
            meter_id="sm-2",
            account_id="sa-pre",
            tenancy_id="st-pre",
        ),
        builders.unit(
            CO,
            "su-south",
            "sp-2",
            name="South shop",
            unit_type="shop",
            billing_mode="prepaid",
            tariff=demo.TARIFF_TW_FLAT,
            meter_id="sm-3",
        ),
    ]
    Catalogue.save_all(items)
    row = MeterRow("sm-1", closing.at, closing.cumulative_kwh, None, None, 1, None, 0)
    services.telemetry.put_cycle(
        CO, "sgw-1", "stmt", 1, closing.at, closing.at, [row.compact(closing.at)]
    )
    services.buses.forget()
    result = services.billing.bill_property(CO, "sp-1", _local("2026-10-02", "09:00"))
    assert result.billed == ["su-post"]

    middle = this_month + (now - this_month) / 2  # this month, and already past
    charge_from, charge_to = last_month + timedelta(days=4), last_month + timedelta(days=5)
    ms = lambda at: int(at.timestamp() * 1000)  # noqa: E731
    entries = [
        ("pre-top-1", EntryKind.TOP_UP, 100000, last_month + timedelta(days=2), "Opening", {}),
        (
            f"cons:sm-2:{ms(charge_from)}:{ms(charge_to)}",
            EntryKind.CONSUMPTION_CHARGE,
            -12345,
            charge_to,
            "24.690 kWh",
            {"meter": "sm-2", "from_kwh": "10.000", "to_kwh": "34.690", "tariff": "tw-flat-5"},
        ),
        ("pre-top-2", EntryKind.TOP_UP, 50000, middle, "", {}),
        (
            "pre-adj-1",
            EntryKind.ADJUSTMENT,
            -500,
            middle + timedelta(seconds=1),
            '=HYPERLINK("http://evil.example","x")',
            {},
        ),
    ]
    for entry_id, kind, amount, at, memo, refs in entries:
        services.ledger.append(
            CO,
            LedgerEntry(entry_id, "sa-pre", kind, Money(amount, "TWD"), at, memo=memo, refs=refs),
        )
    return {
        "opening": opening,
        "closing": closing,
        "this_month": this_month,
        "last_month": last_month,
        "now": now,
    }


def _principal(role: Role, sub: str, scope: frozenset[str] = frozenset()) -> Principal:
    return Principal(CO, sub, f"{sub}@stmt.example", role, scope)


ADMIN = _principal(Role.COMPANY_ADMIN, "stmt-admin")
MANAGER = _principal(Role.PROPERTY_MANAGER, "stmt-manager", frozenset({"sp-1"}))
TENANT = _principal(Role.TENANT, "stmt-tenant")
TENANT2 = _principal(Role.TENANT, "stmt-tenant2")


def _session(client: Client, services: Any, sub: str, audience: str = "staff") -> Browser:
    """A signed-in browser for a stmt-co member (its users have no Cognito login)."""
    session_id = secrets.token_urlsafe(32)
    services.web_sessions.create(
        session_id,
        company_id=CO,
        user_sub=sub,
        email=f"{sub}@stmt.example",
        audience=audience,
        csrf_token=secrets.token_urlsafe(32),
        now=datetime.now(UTC),
        lifetime_s=600,
    )
    browser = Browser(client)
    browser.cookies[SESSION_COOKIE] = session_id
    return browser


def _same_lines(view: BillDetail, expected: Any) -> None:
    """Each stored line equals the domain's own computation, figure by figure."""
    got = [(x.code, x.quantity, x.unit_price, x.amount_minor) for x in view.lines]
    want = [(x.code, x.quantity, x.unit_price, x.amount_minor) for x in expected.lines]
    assert got == want
    assert view.total_minor == view.summary.total_minor == expected.total_minor
    assert view.subtotal_minor + view.tax_minor == view.total_minor
    assert view.adds_up


# --- bills ---


def test_tiered_bill_lines_match_readings_and_tariff_and_add_up(world: dict[str, Any]) -> None:
    # GIVEN the September bill the billing run made for the tenancy that began on the 15th
    _, _, bills = container().bills.bills_of_unit(ADMIN, "su-post")
    assert [b.bill_id for b in bills] == ["sa-post:2026-09-01"]
    bill = container().bills.bill_of_unit(ADMIN, "su-post", "sa-post:2026-09-01")
    # THEN it names its readings and tariff
    opening, closing = world["opening"], world["closing"]
    assert bill.opening is not None and bill.closing is not None
    assert (bill.opening.at, bill.opening.cumulative_kwh) == (opening.at, opening.cumulative_kwh)
    assert (bill.closing.at, bill.closing.cumulative_kwh) == (closing.at, closing.cumulative_kwh)
    assert bill.metered_kwh == bill.billed_kwh == Decimal("234.567")
    assert (bill.tariff_id, bill.tariff_kind) == ("stmt-tiered-tax", "tiered")
    tiers = [(x.season, x.tier, x.tier_upto_kwh) for x in bill.lines if x.code == "energy"]
    # the tier bound as applied: 120 kWh a month pro-rated to the 16 days occupied
    assert tiers[0] == ("summer", 0, Decimal("64.000")) and len(tiers) >= 2
    assert {x.fixed_code for x in bill.lines if x.code == "fixed"} == {"meter-service", "standing"}
    assert any(x.code == "tax" for x in bill.lines)
    # AND every line is what the domain computes from the same readings and tariff
    expected = postpaid_bill(
        parse_tariff(TIERED_WITH_TAX),
        BillingPeriod(date(2026, 9, 1), date(2026, 10, 1)),
        [opening, closing],
        tz=TZ,
        move_in=date(2026, 9, 15),
    )
    _same_lines(bill, expected)


def test_demo_time_of_use_bill_is_the_domains_and_shows_on_page_and_api(
    client: Client, standin: LocalStack, services: Any
) -> None:
    # GIVEN the demo's bill, made at seed time by the billing run
    spec = demo.DEMO_BILL
    admin = Principal("formosa", "x", "admin@formosa.example", Role.COMPANY_ADMIN)
    bill = container().bills.bill_of_unit(admin, DEMO_UNIT, DEMO_BILL_ID)
    opening = Reading(_local(spec["starts_on"]), Decimal(spec["opening_kwh"]))
    closing = Reading(
        datetime.fromisoformat(spec["closing_at"]), Decimal(demo.OPENING_KWH[DEMO_UNIT])
    )
    expected = postpaid_bill(
        parse_tariff(demo.TARIFF_TW_TOU),
        BillingPeriod(date(2026, 10, 1), date(2026, 11, 1)),
        [opening, closing],
        tz=TZ,
        move_in=date(2026, 10, 1),
    )
    _same_lines(bill, expected)
    assert bill.tariff_kind == "tou"
    assert {x.band for x in bill.lines if x.code == "energy"} == {"peak", "off-peak"}
    # WHEN the manager reads it as JSON and as a page
    auth = bearer(standin, "manager@formosa.example")
    body = json.loads(
        client.http.get(f"/v1/units/{DEMO_UNIT}/bills/{DEMO_BILL_ID}", headers=auth).body
    )
    # THEN the same figures: int minor units, kWh and prices as strings
    assert body["total"] == {"amount_minor": expected.total_minor, "currency": "TWD"}
    assert [x["amount"]["amount_minor"] for x in body["lines"]] == [
        x.amount_minor for x in expected.lines
    ]
    assert body["opening_reading"]["cumulative_kwh"] == spec["opening_kwh"]
    assert body["adds_up"] is True
    listed = json.loads(client.http.get(f"/v1/units/{DEMO_UNIT}/bills", headers=auth).body)
    assert [b["bill_id"] for b in listed["bills"]] == [DEMO_BILL_ID]
    browser = Browser(client)
    assert browser.sign_in("manager@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(browser.get(f"/portal/units/{DEMO_UNIT}/bills/{DEMO_BILL_ID}"))
    total = f"NT${Decimal(expected.total_minor).scaleb(-2):,.2f}"
    assert total in page and "12,030.550 kWh" in page and "11,412.300 kWh" in page
    assert "time of use" in page and "peak" in page
    assert DEMO_BILL_ID in text(browser.get(f"/portal/units/{DEMO_UNIT}/bills"))
    # AND the ledger of the postpaid account carries the bill as one charge
    statement = text(browser.get(f"/portal/units/{DEMO_UNIT}/statement?month=2026-11"))
    assert f"/portal/units/{DEMO_UNIT}/bills/{DEMO_BILL_ID}" in statement


def test_bill_csv_parses_back_to_the_same_figures_and_neutralises_formulas(
    client: Client, services: Any, world: dict[str, Any]
) -> None:
    browser = _session(client, services, "stmt-admin")
    response = browser.get("/portal/units/su-post/bills/sa-post:2026-09-01?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="bill-su-post-2026-09.csv"'
    )
    rows = _rows(response.body)
    bill = container().bills.bill_of_unit(ADMIN, "su-post", "sa-post:2026-09-01")
    lines = [r for r in rows if r["record"] == "line"]
    assert [Decimal(r["amount"]) for r in lines] == [
        Money(x.amount_minor, "TWD").to_decimal() for x in bill.lines
    ]
    assert [Decimal(r["quantity"]) for r in lines] == [x.quantity for x in bill.lines]
    assert {r["currency"] for r in rows} == {"TWD"}
    total = next(r for r in rows if r["record"] == "total")
    assert Decimal(total["amount"]) == sum(Decimal(r["amount"]) for r in lines)
    assert Decimal(total["amount"]) == Money(bill.summary.total_minor, "TWD").to_decimal()
    assert lines[0]["opening_kwh"] == "1000.000" and lines[0]["closing_kwh"] == "1234.567"
    assert datetime.fromisoformat(lines[0]["opening_reading_at"]) == world["opening"].at
    # the unit's name begins with "=": shown, never evaluated
    assert {r["unit_name"] for r in rows} == {"'=Shop 1"}
    assert (
        browser.get("/portal/units/su-post/bills/sa-post:2026-09-01?format=pdf").status_code == 400
    )


# --- statements ---


def test_statement_opening_plus_entries_is_closing_and_the_stored_balance(
    services: Any, world: dict[str, Any]
) -> None:
    now = world["now"]
    last = container().statements.statement(
        ADMIN, "su-pre", world["last_month"].strftime("%Y-%m"), now
    )
    current = container().statements.statement(ADMIN, "su-pre", None, now)  # default: this month
    for st in (last, current):
        total = sum(int(x.entry.amount_minor) for x in st.lines)
        assert st.opening_minor + total == st.closing_minor
        assert st.lines == () or st.lines[-1].balance_after_minor == st.closing_minor
    assert last.opening_minor == 0
    assert [x.entry.entry_kind for x in last.lines] == ["top_up", "consumption_charge"]
    assert last.closing_minor == 100000 - 12345 == current.opening_minor
    charge = last.lines[1]
    assert charge.energy_kwh == Decimal("24.690")
    assert charge.window_end == charge.entry.occurred_at
    assert charge.window_start == charge.window_end - timedelta(days=1)
    assert current.month == world["this_month"].strftime("%Y-%m")
    assert [x.entry.entry_id for x in current.lines] == ["pre-top-2", "pre-adj-1"]
    stored = services.ledger.get_account(CO, "sa-pre").balance_minor
    derived = services.ledger.derive_balance(CO, "sa-pre")
    assert current.closing_minor == stored == 100000 - 12345 + 50000 - 500
    assert derived.consistent


def test_statement_csv_parses_back_and_neutralises_formulas(
    client: Client, services: Any, world: dict[str, Any]
) -> None:
    tenant = _session(client, services, "stmt-tenant", audience="tenant")
    response = tenant.get("/tenant/units/su-pre/statement?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    month = world["this_month"].strftime("%Y-%m")
    assert f'filename="statement-su-pre-{month}.csv"' in response.headers["content-disposition"]
    rows = _rows(response.body)
    assert [r["record"] for r in rows] == ["opening", "entry", "entry", "closing"]
    opening, closing = Decimal(rows[0]["balance_after"]), Decimal(rows[-1]["balance_after"])
    entries = [r for r in rows if r["record"] == "entry"]
    assert opening + sum(Decimal(r["amount"]) for r in entries) == closing
    assert closing == Decimal("1371.55")  # (100000 - 12345 + 50000 - 500) minor units
    assert entries[-1]["balance_after"] == rows[-1]["balance_after"]
    assert entries[-1]["amount"] == "-5.00"  # a negative amount stays a number
    assert entries[-1]["memo"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[0]["unit_name"] == "2F 房間"  # zh-TW text survives UTF-8
    # the page shows the same balances, formatted for the property
    page = text(tenant.get("/tenant/units/su-pre/statement"))
    assert "NT$1,371.55" in page and "=HYPERLINK" in page  # shown escaped as text, not run


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "must be written YYYY-MM"),
        ("2026-1", "must be written YYYY-MM"),
        ("abc", "must be written YYYY-MM"),
        ("2999-01", "is outside"),
        ("2000-01", "is outside"),
    ],
)
def test_bad_months_are_refused_with_a_message(
    client: Client,
    services: Any,
    standin: LocalStack,
    world: dict[str, Any],
    month: str,
    message: str,
) -> None:
    error = InvalidMonthError if "YYYY" in message else MonthOutOfRangeError
    with pytest.raises(error):
        container().statements.statement(ADMIN, "su-pre", month, world["now"])
    page = _session(client, services, "stmt-admin").get(
        f"/portal/units/su-pre/statement?month={month}"
    )
    assert page.status_code == 400
    assert "YYYY-MM" in text(page) or "Choose a month from" in text(page)
    auth = bearer(standin, "tenant@formosa.example")
    api = client.http.get(f"/v1/units/tpe-3f-a/statement?month={month}", headers=auth)
    assert api.status_code == 400 and message in json.loads(api.body)["detail"]


# --- who sees what ---


def test_tenant_sees_own_bills_only(client: Client, services: Any, world: dict[str, Any]) -> None:
    # the demo shop's tenant sees the demo bill
    shop = Browser(client)
    assert shop.sign_in("shop@formosa.example", DEMO_PASSWORD, "/tenant/signin").status_code == 303
    assert DEMO_BILL_ID in text(shop.get(f"/tenant/units/{DEMO_UNIT}/bills"))
    page = shop.get(f"/tenant/units/{DEMO_UNIT}/bills/{DEMO_BILL_ID}")
    assert page.status_code == 200 and "12,030.550 kWh" in text(page)
    assert shop.get(f"/tenant/units/{DEMO_UNIT}/bills/{DEMO_BILL_ID}?format=csv").status_code == 200
    # another tenant of the same company: 404 for the bill, the list and the statement
    other = Browser(client)
    assert (
        other.sign_in("tenant@formosa.example", DEMO_PASSWORD, "/tenant/signin").status_code == 303
    )
    for path in (
        f"/tenant/units/{DEMO_UNIT}/bills/{DEMO_BILL_ID}",
        f"/tenant/units/{DEMO_UNIT}/bills",
        f"/tenant/units/{DEMO_UNIT}/statement",
        f"/tenant/units/tpe-3f-a/bills/{DEMO_BILL_ID}",  # a bill moved onto their own unit
    ):
        assert other.get(path).status_code == 404, path
    # in stmt-co: the postpaid tenant's bill is not the prepaid tenant's, even by id
    _, _, mine = container().bills.bills_of_unit(TENANT2, "su-post")
    assert [b.bill_id for b in mine] == ["sa-post:2026-09-01"]
    with pytest.raises(NotFoundError):
        container().bills.bill_of_unit(TENANT, "su-pre", "sa-post:2026-09-01")
    with pytest.raises(NotFoundError):
        container().bills.bill_of_unit(TENANT, "su-post", "sa-post:2026-09-01")


# --- notifications ---


def test_notifications_are_newest_first_paged_and_scoped(
    client: Client, services: Any, world: dict[str, Any]
) -> None:
    base = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    alerts: list[tuple[str, str, Literal["tenant", "staff"], str | None]] = [
        ("low_credit", "unit:su-pre:5000", "tenant", "stmt-tenant"),
        ("gateway_offline", "gateway:sgw-1", "staff", None),
        ("meter_offline", "meter:sm-3", "staff", None),
        ("disconnected", "unit:su-south", "tenant", None),
        ("balance_mismatch", "account:sa-pre", "staff", None),
    ]
    for n, (topic, ref, audience, tenant) in enumerate(alerts):
        services.notifier.notify(
            Alert(CO, topic, ref, base + timedelta(minutes=n), audience, tenant, {"n": str(n)})
        )
    # the admin reads every alert, newest first, two per page
    seen, cursor = [], None
    for _ in range(5):
        page = container().notifications.page(ADMIN, cursor, page_size=2)
        assert len(page.items) <= 2
        seen += [v.item.subject_ref for v in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [ref for _, ref, _, _ in reversed(alerts)]
    # the manager of sp-1 reads sp-1's only: its unit's and its gateway's
    scoped = container().notifications.page(MANAGER, page_size=50)
    assert [v.item.subject_ref for v in scoped.items] == ["gateway:sgw-1", "unit:su-pre:5000"]
    placed = {v.item.subject_ref: v for v in container().notifications.page(ADMIN).items}
    assert placed["meter:sm-3"].property_id == "sp-2"
    assert placed["meter:sm-3"].unit_id == "su-south"
    assert placed["unit:su-pre:5000"].audience == "tenant"
    # a cursor of another company's outbox is refused
    formosa = Principal("formosa", "x", "a@x", Role.COMPANY_ADMIN)
    foreign = container().notifications.page(formosa, page_size=1).next_cursor
    with pytest.raises(InvalidCursorError):
        container().notifications.page(ADMIN, foreign or "e30=")
    # the page shows them, in the reader's language
    browser = _session(client, services, "stmt-manager")
    html = text(browser.get("/portal/notifications"))
    assert "A gateway went offline" in html and "Your electricity credit is low" in html
    assert "A meter stopped answering" not in html  # sp-2's meter: not the manager's
    # in words: the gateway by its id and property, no subject references, no raw fields
    assert "gateway sgw-1 at" in html
    assert not any(raw in html for raw in ("gateway:", "unit:", "_minor", "balance_minor"))
    assert browser.get("/portal/notifications?cursor=bm90LWEtY3Vyc29y").status_code == 400
    browser.get("/lang/zh_TW?next=/portal/notifications")
    assert "閘道器已離線" in text(browser.get("/portal/notifications"))
