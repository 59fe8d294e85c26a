"""Statements, charts' "this period" and the staff views follow the unit's billing cycle,
not the calendar month: one unit billed every two months (November-December) and one
read on the 15th (the 15th to the 14th), in Taipei.

Usage is written straight into the bus's day roll-ups (as ingest writes them) and the
ledger entries straight into the accounts; every date is in the past.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client

from chalicelib.application.statement_errors import InvalidMonthError
from chalicelib.auth.principal import Principal, Role
from chalicelib.data import builders, keys
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.models import Bill, Unit
from chalicelib.data.usage_days import UsageDayStore
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.domain.cycles import parse_cycle
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO, TZ = "formosa", "Asia/Taipei"
BIMONTHLY = {"months": 2, "anchor_month": 1}  # Jan-Feb, ..., Nov-Dec
ANCHORED = {"anchor_day": 15}
ADMIN = Principal(CO, "cycper-admin", "admin@cycper.example", Role.COMPANY_ADMIN, frozenset())


def _local(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=ZoneInfo(TZ))


@pytest.fixture(scope="module")
def units(services: Container) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    prop, gw = f"cycper-{tag}", f"cycper-gw-{tag}"
    found: dict[str, str] = {}
    items: list[Any] = [
        builders.property_(
            CO,
            prop,
            name="Cycle Periods House",
            address="4 Test Road",
            city="Taipei",
            country="TW",
            time_zone=TZ,
            currency="TWD",
        ),
        builders.gateway(CO, gw, f"pl-{gw}", property_id=prop),
    ]
    for n, (name, cycle) in enumerate((("bimonthly", BIMONTHLY), ("anchored", ANCHORED))):
        unit, meter, account = f"cycper-{name}-{tag}", f"m-{name[:3]}-{tag}", f"a-{name}-{tag}"
        services.ledger.open_account(CO, account, "TWD", _local("2026-08-20"))
        items += [
            builders.meter(CO, meter, gw, n + 1, unit_id=unit, profile="dds238"),
            builders.unit(
                CO,
                unit,
                prop,
                name=f"Room {name}",
                unit_type="room",
                billing_mode="prepaid",
                tariff=td.flat(f"cycper-{name}", "5.00"),
                meter_id=meter,
                account_id=account,
                billing_cycle=cycle,
            ),
        ]
        found[name], found[f"{name}_account"], found[f"{name}_meter"] = unit, account, meter
    Catalogue.save_all(items)
    days = UsageDayStore()
    for day, kwh in [
        ("2026-09-30", "1.000"),
        ("2026-10-14", "2.000"),
        ("2026-10-15", "4.000"),
        ("2026-11-01", "8.000"),
        ("2026-11-14", "16.000"),
        ("2026-11-15", "32.000"),
    ]:
        energy = {found["bimonthly_meter"]: kwh, found["anchored_meter"]: kwh}
        days.put_day(CO, gw, datetime.fromisoformat(day).date(), TZ, energy, 96)
    for key in ("bimonthly_account", "anchored_account"):
        for entry_id, kind, amount, at in [
            ("top-1", EntryKind.TOP_UP, 100000, _local("2026-09-01")),
            ("top-2", EntryKind.TOP_UP, 2000, _local("2026-10-14", 23)),
            ("adj-1", EntryKind.ADJUSTMENT, -300, _local("2026-10-15", 0)),
            ("adj-2", EntryKind.ADJUSTMENT, -500, _local("2026-10-31", 23)),
            ("adj-3", EntryKind.ADJUSTMENT, -700, _local("2026-11-14", 23)),
            ("top-3", EntryKind.TOP_UP, 900, _local("2026-11-15", 0)),
        ]:
            services.ledger.append(
                CO, LedgerEntry(entry_id, found[key], kind, Money(amount, "TWD"), at)
            )
    return found


# --- statements: one billing period of the unit's cycle ---


def test_an_anchored_units_statement_runs_from_the_15th_to_the_14th(
    services: Container, units: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    st = services.statements.statement(ADMIN, units["anchored"], "2026-10", now)
    # THEN "October" is the period starting on 15 October, to 14 November inclusive
    assert (st.period.start.isoformat(), st.period.end.isoformat()) == ("2026-10-15", "2026-11-15")
    assert st.start == _local("2026-10-15", 0) and not st.calendar_month
    assert [x.entry.entry_id for x in st.lines] == ["adj-1", "adj-2", "adj-3"]
    assert (st.opening_minor, st.closing_minor) == (102000, 100500)
    # AND the pager steps by its periods, the account's first one starting in August
    assert (st.previous_month, st.next_month, st.first_month) == ("2026-09", "2026-11", "2026-08")
    # AND a day asks for the period holding it
    same = services.statements.statement(ADMIN, units["anchored"], "2026-11-14", now)
    assert same.period == st.period


def test_a_bimonthly_units_statement_covers_its_two_months(
    services: Container, units: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    st = services.statements.statement(ADMIN, units["bimonthly"], "2026-10", now)
    assert (st.period.start.isoformat(), st.period.end.isoformat()) == ("2026-09-01", "2026-11-01")
    assert [x.entry.entry_id for x in st.lines] == ["top-1", "top-2", "adj-1", "adj-2"]
    assert st.month == "2026-09" and st.previous_month == "2026-07"  # opened in July-August
    assert st.next_month == "2026-11"
    # the current period, asked for by nothing, is November-December
    current = services.statements.statement(ADMIN, units["bimonthly"], None, now)
    assert current.period.start.isoformat() == "2026-11-01"
    assert current.closing_minor == current.balance_now_minor
    with pytest.raises(InvalidMonthError):
        services.statements.statement(ADMIN, units["bimonthly"], "2026-02-30", now)


def test_the_statement_page_names_the_periods_days(client: Client, units: dict[str, str]) -> None:
    staff = Browser(client)
    assert staff.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(staff.get(f"/portal/units/{units['anchored']}/statement?month=2026-10"))
    heading = re.search(r'id="statement-month">([^<]*)<', page)
    assert heading and "Oct 15, 2026" in heading.group(1) and "Nov 14, 2026" in heading.group(1)
    assert "statement?month=2026-09" in page and "statement?month=2026-11" in page


# --- charts: the "cycle" period is the unit's billing period ---


@pytest.fixture(scope="module")
def admin(standin: LocalStack) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


def _chart(client: Client, auth: dict[str, str], unit: str, query: str) -> dict[str, Any]:
    response = client.http.get(f"/v1/units/{unit}/consumption?{query}", headers=auth)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def test_this_period_of_an_anchored_unit_is_the_15th_to_the_14th(
    client: Client, admin: dict[str, str], units: dict[str, str]
) -> None:
    c = _chart(client, admin, units["anchored"], "period=cycle&at=2026-11-01")
    assert (c["current"]["start"], c["current"]["end"]) == ("2026-10-15", "2026-11-15")
    assert len(c["bars"]) == 31
    assert c["current"]["total_kwh"] == "28.000"  # 15 Oct, 1 Nov, 14 Nov
    assert (c["previous"]["start"], c["previous"]["end"]) == ("2026-09-15", "2026-10-15")
    assert c["previous"]["total_kwh"] == "3.000"  # 30 Sep, 14 Oct
    # the calendar month is still there, and differs
    month = _chart(client, admin, units["anchored"], "period=month&at=2026-11-01")
    assert month["current"]["total_kwh"] == "56.000"


def test_this_period_of_a_bimonthly_unit_is_its_two_months(
    client: Client, admin: dict[str, str], units: dict[str, str]
) -> None:
    c = _chart(client, admin, units["bimonthly"], "period=cycle&at=2026-10-20")
    assert (c["current"]["start"], c["current"]["end"]) == ("2026-09-01", "2026-11-01")
    assert len(c["bars"]) == 61
    assert c["current"]["total_kwh"] == "7.000"
    assert c["previous_at"] == "2026-07-01" and c["next_at"] == "2026-11-01"
    refused = client.http.get(
        f"/v1/units/{units['bimonthly']}/consumption?period=fortnight", headers=admin
    )
    assert refused.status_code == 400


def test_the_unit_page_offers_the_billing_period_tab_only_where_it_is_not_the_month(
    client: Client, units: dict[str, str]
) -> None:
    staff = Browser(client)
    assert staff.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(staff.get(f"/portal/units/{units['bimonthly']}?period=cycle&at=2026-10-20"))
    assert "Billing period" in page and "period=cycle" in page
    assert "Sep 1" in page  # the chart's range names the period's days
    calendar = text(staff.get("/portal/units/tpe-3f-a"))
    assert "period=cycle" not in calendar


# --- the staff dashboard: the last bill is the one of the unit's last completed period ---


def test_the_dashboard_shows_the_bill_of_a_bimonthly_units_last_period(
    client: Client, services: Container, units: dict[str, str]
) -> None:
    unit = Unit.get(keys.company_pk(CO), keys.unit_sk(units["bimonthly"]))
    prop = str(unit.property_id)
    tag = uuid.uuid4().hex[:6]
    account = f"a-post-{tag}"
    services.ledger.open_account(CO, account, "TWD", _local("2026-01-05"))
    cycle = parse_cycle(BIMONTHLY)
    today = datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()
    last = cycle.cycle_of(cycle.cycle_of(today).start - timedelta(days=1))
    assert last.days > 31 and last.start != date(today.year, today.month, 1)
    Catalogue.save_all(
        [
            builders.unit(
                CO,
                f"cycper-post-{tag}",
                prop,
                name=f"Postpaid {tag}",
                unit_type="room",
                billing_mode="postpaid",
                tariff=td.flat("cycper-post", "5.00"),
                account_id=account,
                tenancy_id=f"t-{tag}",
                billing_cycle=BIMONTHLY,
            )
        ]
    )
    Bill(
        keys.account_pk(CO, account),
        keys.bill_sk(last.start.isoformat()),
        company_id=CO,
        account_id=account,
        period_start=last.start.isoformat(),
        period_end=last.end.isoformat(),
        total_minor=123400,
        currency="TWD",
        lines=[],
    ).save()
    staff = Browser(client)
    assert staff.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(staff.get(f"/portal?property={prop}&q=Postpaid"))
    assert "1,234.00" in page, page[-3000:]
