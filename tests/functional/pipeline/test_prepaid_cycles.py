"""Prepaid tiers follow the unit's billing cycle, and prepaid settlement charges what the
postpaid bill of the same readings would (issue 14)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import BillingPeriod, Reading, kwh, parse_tariff, postpaid_bill
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td

from .rig import MeterSpec, event, make_bus

pytestmark = pytest.mark.functional

TZ = "Asia/Taipei"
# 20 kWh a month in the first tier, 5% tax.
TIERED_20 = td.tiered_all_year("tiered-20", [("20", "1.68"), (None, "3.33")])
CREDIT = 100_000


def at(day: str, hhmm: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), ZoneInfo(TZ))


READINGS = [
    ("2026-11-01", "00:30", "100.000"),
    ("2026-11-30", "23:00", "125.000"),  # 25 kWh in November
    ("2026-12-01", "01:00", "125.000"),
    ("2026-12-20", "12:00", "130.000"),  # 5 kWh in December
    ("2026-12-31", "23:30", "130.000"),
    ("2027-01-01", "00:30", "130.000"),
]


def test_a_bimonthly_prepaid_unit_keeps_its_tiers_over_both_months(pipeline: Container) -> None:
    # GIVEN two prepaid units on one bus with the same tariff: one billed monthly, one every
    # two months from November (Taipower's way: each tier bound doubled for the two months)
    bus = make_bus(
        pipeline.ledger,
        [
            MeterSpec("m-mo", "u-mo", TIERED_20, credit_minor=CREDIT),
            MeterSpec("m-bi", "u-bi", TIERED_20, credit_minor=CREDIT),
        ],
    )
    unit = pipeline.catalogue.get_unit(bus.company_id, "u-bi")
    unit.billing_cycle = {"months": 2, "anchor_month": 11}
    unit.save()
    pipeline.buses.forget()
    # WHEN both meters use 25 kWh in November and 5 kWh in December, read into the new year
    for seq, (day, hhmm, value) in enumerate(READINGS, start=1):
        handlers.ingest_telemetry(event(bus, seq, at(day, hhmm), {"m-mo": value, "m-bi": value}))
    # THEN the monthly unit paid November's 5 kWh above its 20 kWh tier:
    # Nov 20 x 1.68 + 5 x 3.33 = 50.25 + 5% -> 52.76; Dec 5 x 1.68 = 8.40 + 5% -> 8.82
    monthly = CREDIT - pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-mo"])
    assert monthly == 5276 + 882
    # AND the bimonthly unit paid all 30 kWh in its 40 kWh first tier: 50.40 + 5% -> 52.92
    bimonthly = CREDIT - pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-bi"])
    assert bimonthly == 5292
    # AND that is exactly the postpaid bill of the cycle on the same readings
    readings = [Reading(at("2026-11-01", "00:00"), kwh("100.000"))]
    readings += [Reading(at(d, t), kwh(v)) for d, t, v in READINGS if d < "2027"]
    cycle = BillingPeriod(date(2026, 11, 1), date(2027, 1, 1))
    bill = postpaid_bill(parse_tariff(TIERED_20), cycle, readings, tz=TZ)
    assert bill.total_minor == bimonthly
    # AND the account's position names the cycle it is in
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-bi"])
    assert (account.usage or {}).get("cycle") == "2027-01-01"
