"""Consumption charts (day, week, month, year; this period against the last;
average per day) and the note on a top-up, through the app against the stand-in.

Usage is written straight into the bus's items (15-minute buckets and day
roll-ups, as ingest writes them; the roll-up itself is tested through ingest in
tests/functional/pipeline/test_day_rollup.py). Dates are far enough in the past
that "today" never touches them; the demo tenancy of tpe-3f-a starts 2026-11-01.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import botocore.client
import pytest
from chalice.test import Client

from chalicelib.application.open_bucket import OpenBuckets
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.data.usage_days import UsageDayStore
from chalicelib.pipeline.buckets import bucket_start
from chalicelib.pipeline.telemetry import MeterRow
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

UNIT, METER, GW = "tpe-3f-a", "m-tpe-3f-a", "gw-tpe-1"  # Taipei, UTC+8


@pytest.fixture(scope="module")
def usage(services: Any) -> None:
    days, buckets = UsageDayStore(), TelemetryStore()
    for day, kwh in [
        ("2024-06-01", "1.000"),
        ("2025-05-15", "4.000"),
        ("2025-06-10", "2.000"),
        ("2025-06-20", "3.000"),
        ("2026-10-30", "0.400"),  # before the tenancy
        ("2026-11-02", "0.300"),
    ]:
        days.put_day("formosa", GW, date.fromisoformat(day), "Asia/Taipei", {METER: kwh}, 96)
    for at, kwh in [
        (datetime(2026, 10, 31, 2, 0, tzinfo=UTC), "0.700"),  # 10:00 Taipei, before the tenancy
        (datetime(2026, 11, 3, 0, 0, tzinfo=UTC), "0.250"),  # 08:00 Taipei
        (datetime(2026, 11, 3, 0, 15, tzinfo=UTC), "0.250"),  # 08:15
        (datetime(2026, 11, 3, 15, 45, tzinfo=UTC), "0.100"),  # 23:45
        (datetime(2026, 11, 3, 16, 0, tzinfo=UTC), "9.000"),  # 00:00 on the 4th: not the 3rd
    ]:
        buckets.put_usage("formosa", GW, at, {METER: kwh, "m-other": "5.000"})
    # London: the clocks go back at 02:00 BST on 2026-10-25, so 01:00 happens twice
    for at, kwh in [
        (datetime(2026, 10, 25, 0, 0, tzinfo=UTC), "0.100"),  # 01:00 BST
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "0.200"),  # 01:00 GMT
    ]:
        buckets.put_usage("thames", "gw-ldn-1", at, {"m-ldn-flat-1": kwh})


@pytest.fixture(scope="module")
def admin(standin: LocalStack, usage: None) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


@pytest.fixture(scope="module")
def tenant(standin: LocalStack, usage: None) -> dict[str, str]:
    return bearer(standin, "tenant@formosa.example")


def _get(client: Client, auth: dict[str, str], query: str, unit: str = UNIT) -> Any:
    response = client.http.get(f"/v1/units/{unit}/consumption?{query}", headers=auth)
    return response.status_code, json.loads(response.body)


@contextmanager
def dynamodb_calls() -> Iterator[dict[str, int]]:
    calls: dict[str, int] = {}
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls[operation] = calls.get(operation, 0) + 1
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = counted
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original


def test_staff_month_against_the_month_before_with_the_average_per_day(
    client: Client, admin: dict[str, str]
) -> None:
    status, c = _get(client, admin, "period=month&at=2025-06-18")
    assert status == 200
    assert (c["period"], c["time_zone"], c["since"]) == ("month", "Asia/Taipei", None)
    assert (c["current"]["start"], c["current"]["end"]) == ("2025-06-01", "2025-07-01")
    assert len(c["bars"]) == 30
    assert c["bars"][9] == {
        "start": "2025-06-10T00:00:00+08:00",
        "end": "2025-06-11T00:00:00+08:00",
        "energy_kwh": "2.000",
    }
    assert c["bars"][19]["energy_kwh"] == "3.000"
    assert c["current"]["total_kwh"] == "5.000"
    assert c["previous"]["total_kwh"] == "4.000"
    assert c["change_percent"] == "25.0"
    assert (c["current"]["days"], c["current"]["average_per_day_kwh"]) == (30, "0.167")
    assert (c["previous_at"], c["next_at"]) == ("2025-05-01", "2025-07-01")


def test_a_year_reads_day_rollups_in_one_query_not_quarter_hours(
    client: Client, admin: dict[str, str]
) -> None:
    with dynamodb_calls() as calls:
        status, c = _get(client, admin, "period=year&at=2025-03-01")
    assert status == 200
    assert [b["energy_kwh"] for b in c["bars"]][4:6] == ["4.000", "5.000"]
    assert len(c["bars"]) == 12 and c["bars"][0]["start"] == "2025-01-01T00:00:00+08:00"
    assert (c["current"]["total_kwh"], c["previous"]["total_kwh"]) == ("9.000", "1.000")
    assert c["change_percent"] == "800.0"
    # membership, unit, property, meter GetItems; one Query of the 731 days it covers
    assert calls.get("Query", 0) == 1, calls
    assert sum(calls.values()) <= 6, calls
    # the current year: roll-ups plus the live days' buckets, and the open bucket's
    # newest readings and the ones before it (application/open_bucket.py)
    with dynamodb_calls() as calls:
        status, _ = _get(client, admin, "period=year")
    assert status == 200 and calls.get("Query", 0) <= 4, calls


def test_a_week_starts_on_monday_and_an_empty_previous_period_has_no_percentage(
    client: Client, admin: dict[str, str]
) -> None:
    status, c = _get(client, admin, "period=week&at=2025-06-12")
    assert status == 200
    assert (c["current"]["start"], c["current"]["end"]) == ("2025-06-09", "2025-06-16")
    assert [b["energy_kwh"] for b in c["bars"]] == ["0.000", "2.000"] + ["0.000"] * 5
    assert c["previous"]["total_kwh"] == "0.000" and c["change_percent"] is None


def test_day_chart_has_hourly_bars_from_the_buckets_of_that_local_day(
    client: Client, admin: dict[str, str], tenant: dict[str, str]
) -> None:
    for auth in (admin, tenant):
        status, c = _get(client, auth, "period=day&at=2026-11-03")
        assert status == 200
        energies = [b["energy_kwh"] for b in c["bars"]]
        assert len(energies) == 24
        assert energies[8] == "0.500" and energies[23] == "0.100"
        assert c["current"]["total_kwh"] == "0.600"  # the 00:00 bucket of the 4th is not in it
        assert c["previous"]["total_kwh"] == "0.300"
        assert c["change_percent"] == "100.0"


def test_a_tenant_sees_nothing_from_before_the_tenancy_staff_see_it_all(
    client: Client, admin: dict[str, str], tenant: dict[str, str]
) -> None:
    _, staff = _get(client, admin, "period=day&at=2026-10-31")
    assert (staff["current"]["total_kwh"], staff["previous"]["total_kwh"]) == ("0.700", "0.400")
    _, own = _get(client, tenant, "period=day&at=2026-10-31")
    assert own["since"] == "2026-11-01"
    assert (own["current"]["total_kwh"], own["previous"]["total_kwh"]) == ("0.000", "0.000")
    assert own["has_data"] is False and own["current"]["days"] == 0
    _, year = _get(client, tenant, "period=year&at=2025-06-01")
    assert year["current"]["total_kwh"] == "0.000"
    # and another tenant's unit does not exist for them
    status, _ = _get(client, tenant, "period=day", unit="tpe-2f")
    assert status == 404


def test_london_day_when_the_clocks_go_back_has_25_bars_and_two_one_oclocks(
    client: Client, standin: LocalStack, usage: None
) -> None:
    thames = bearer(standin, "admin@thames.example")
    status, c = _get(client, thames, "period=day&at=2026-10-25", unit="ldn-flat-1")
    assert status == 200 and len(c["bars"]) == 25
    assert [b["start"] for b in c["bars"][1:3]] == [
        "2026-10-25T01:00:00+01:00",
        "2026-10-25T01:00:00+00:00",
    ]
    assert [b["energy_kwh"] for b in c["bars"][1:3]] == ["0.100", "0.200"]
    status, spring = _get(client, thames, "period=day&at=2026-03-29", unit="ldn-flat-1")
    assert status == 200 and len(spring["bars"]) == 23


@pytest.mark.parametrize(
    "query",
    ["period=hour", "period=DAY", "at=2026-02-30", "at=tomorrow", "at=2999-01-01", "at=1999-12-31"],
)
def test_bad_period_or_date_is_400_with_the_reason(
    client: Client, admin: dict[str, str], query: str
) -> None:
    status, body = _get(client, admin, query)
    assert status == 400 and body["type"] == "urn:powerlet:problem:invalid-request"
    assert body["title"] and body["detail"] and body["status"] == 400


def test_staff_unit_page_has_period_tabs_navigation_and_an_accessible_chart(
    browser: Browser, usage: None
) -> None:
    assert browser.sign_in("landlord@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(browser.get(f"/portal/units/{UNIT}?period=year&at=2025-06-01"))
    assert page.count('<rect class="bar"') == 12
    assert 'aria-labelledby="chart-t chart-d"' in page
    assert "Consumption, 2025" in page
    assert f'href="/portal/units/{UNIT}?period=year&amp;at=2024-01-01" rel="prev"' in page
    assert f'href="/portal/units/{UNIT}?period=year&amp;at=2026-01-01" rel="next"' in page
    assert re.search(r'aria-current="page" class="current">Year<', page)
    assert "This period: 9.000 kWh" in page and "Change: +800.0%" in page
    assert "Average per day: 0.025 kWh" in page  # 9 kWh over 365 days
    for tab in ("day", "week", "month"):
        assert f"?period={tab}&amp;at=2025-06-01" in page
    # the current period has no "next"
    assert 'rel="next"' not in text(browser.get(f"/portal/units/{UNIT}?period=day"))
    # bad input: a 400 page that says what is wrong
    for query in ("period=fortnight", "at=2026-13-01", "at=2999-01-01"):
        response = browser.get(f"/portal/units/{UNIT}?{query}")
        assert response.status_code == 400
        assert "the period must be day, week, month or year" in text(response)


def test_tenant_home_chart_counts_from_the_tenancy_in_chinese_too(
    browser: Browser, usage: None
) -> None:
    ok = browser.sign_in("tenant@formosa.example", DEMO_PASSWORD, "/tenant/signin")
    assert ok.status_code == 303
    page = text(browser.get("/tenant?period=day&at=2026-10-31"))
    assert "This period: 0.000 kWh" in page
    assert "Counted from the start of your tenancy" in page
    page = text(browser.get("/tenant?period=day&at=2026-11-03"))
    assert page.count('<rect class="bar"') == 24
    assert "<title>08:00: 0.500 kWh</title>" in page
    assert 'href="/tenant?period=week&amp;at=2026-11-03"' in page
    zh = text(browser.get("/tenant?period=day&at=2026-11-03", headers={"Accept-Language": "zh-TW"}))
    assert "本期：0.600 度" in zh and "上期" in zh and "變化：+100.0%" in zh
    assert browser.get("/tenant?period=year&at=nope").status_code == 400


def test_staff_london_page_labels_the_repeated_hour_with_its_offset(
    browser: Browser, usage: None
) -> None:
    assert browser.sign_in("admin@thames.example", DEMO_PASSWORD).status_code == 303
    page = text(browser.get("/portal/units/ldn-flat-1?period=day&at=2026-10-25"))
    assert page.count('<rect class="bar"') == 25
    assert "<title>01:00 +01:00: 0.100 kWh</title>" in page
    assert "<title>01:00 +00:00: 0.200 kWh</title>" in page


# --- the note on a top-up ---
# On tpe-2f, the portal tests' playground: other tests pin the demo balance of tpe-3f-a.
TOPUP_UNIT = "tpe-2f"


def _top_up(client: Client, auth: dict[str, str], body: dict[str, Any]) -> Any:
    response = client.http.post(
        f"/v1/units/{TOPUP_UNIT}/top-ups",
        headers={**auth, "Content-Type": "application/json"},
        body=json.dumps(body),
    )
    return response.status_code, json.loads(response.body)


def test_a_top_up_note_is_the_receipts_memo_and_part_of_the_replay(
    client: Client, admin: dict[str, str]
) -> None:
    key = secrets.token_urlsafe(18)
    body = {"amount_minor": 1500, "idempotency_key": key, "note": "  Cash at the office 收據 7  "}
    status, first = _top_up(client, admin, body)
    assert status == 201 and first["receipt"]["memo"] == "Cash at the office 收據 7"
    status, again = _top_up(client, admin, body)
    assert status == 200 and again["replayed"] is True and again["receipt"] == first["receipt"]
    # the same key with another note, or none, is another request: refused, nothing credited
    assert _top_up(client, admin, {**body, "note": "Bank transfer"})[0] == 409
    assert _top_up(client, admin, {"amount_minor": 1500, "idempotency_key": key})[0] == 409
    assert again["balance"] == _top_up(client, admin, body)[1]["balance"]
    # without a note the memo still names who added the credit
    status, plain = _top_up(
        client, admin, {"amount_minor": 100, "idempotency_key": secrets.token_urlsafe(18)}
    )
    assert status == 201 and plain["receipt"]["memo"] == "top-up by admin@formosa.example"


@pytest.mark.parametrize("note", ["x" * 201, "two\nlines", "bell\x07", "nbsp\x85"])
def test_a_bad_note_is_400_and_credits_nothing(
    client: Client, admin: dict[str, str], note: str
) -> None:
    body = {"amount_minor": 100, "idempotency_key": secrets.token_urlsafe(18), "note": note}
    assert _top_up(client, admin, body)[0] == 400
    assert _top_up(client, admin, {**body, "note": None})[0] == 201  # the key was never used


def test_the_form_note_shows_on_the_receipt_the_ledger_and_the_tenants_credits(
    client: Client, usage: None
) -> None:
    landlord = Browser(client)
    assert landlord.sign_in("landlord@formosa.example", DEMO_PASSWORD).status_code == 303
    page = text(landlord.get(f"/portal/units/{TOPUP_UNIT}"))
    assert 'name="note"' in page and "Note (optional" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert csrf and key
    note = f"Paid in cash, slip {secrets.token_hex(3)}"
    too_long = landlord.post(
        f"/portal/units/{TOPUP_UNIT}/top-up",
        {"amount": "10", "idempotency_key": key.group(1), "note": "n" * 201},
        csrf=csrf.group(1),
    )
    assert too_long.status_code == 400 and "at most 200 characters" in text(too_long)
    done = landlord.post(
        f"/portal/units/{TOPUP_UNIT}/top-up",
        {"amount": "10", "idempotency_key": key.group(1), "note": note},
        csrf=csrf.group(1),
    )
    assert done.status_code == 303
    receipt = text(landlord.get(done.headers["location"]))
    assert note in receipt
    assert note in text(landlord.get(f"/portal/units/{TOPUP_UNIT}"))
    tenant = Browser(client)
    ok = tenant.sign_in("tenant2@formosa.example", DEMO_PASSWORD, "/tenant/signin")
    assert ok.status_code == 303
    assert note in text(tenant.get("/tenant"))


def test_unit_page_requests_stay_bounded_for_every_period(browser: Browser, usage: None) -> None:
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    seen = {}
    for query in ("", "period=day", "period=month", "period=year", "period=year&at=2025-01-01"):
        with dynamodb_calls() as calls:
            assert browser.get(f"/portal/units/{UNIT}?{query}").status_code == 200
        seen[query] = dict(calls)
        # session, membership, brand, unit, property, meter, tenancy, account GetItems;
        # ledger, relay-history, latest-cycles and held-readings (how many wait) Queries;
        # at most two for the chart (days, buckets); one for the bus health (the last
        # 25 hours of the gateway's buckets, application/bus_health.py); when the chart
        # reaches today, two for its open bucket (application/open_bucket.py)
        assert calls.get("Query", 0) <= 9, calls
        assert sum(calls.values()) <= 18, calls
    print("unit page DynamoDB requests per chart period:", seen)


def test_the_open_bucket_is_priced_from_the_readings_so_the_chart_does_not_lag(
    services: Any,
) -> None:
    # GIVEN a bus whose newest reading lies in a bucket ingest has not written yet
    store, gateway = TelemetryStore(), f"gw-open-{secrets.token_hex(4)}"
    now = datetime.now(UTC).replace(microsecond=0)
    start = bucket_start(now)
    for seq, (at, value) in enumerate(
        [
            (start - timedelta(minutes=20), "10.000"),
            (start - timedelta(minutes=5), "10.200"),
            (start, "10.250"),
            (now, "10.700"),
        ],
        start=1,
    ):
        row = MeterRow(METER, at, Decimal(value), None, None, 1, None, 0)
        store.put_cycle("formosa", gateway, "0123456789abcdef", seq, at, at, [row.compact(at)])
    # WHEN the open bucket is asked for
    found = OpenBuckets(store).of("formosa", gateway, METER)
    # THEN it runs from the last reading before the bucket to the newest one
    assert found is not None
    assert (found.start, found.energy_kwh) == (start, Decimal("0.500"))
    # AND a meter with no reading before the bucket has nothing to add
    assert OpenBuckets(store).of("formosa", gateway, "m-nobody") is None
