"""The bill job follows the unit's billing cycle and splits a period at a tariff version."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain import BillingPeriod, Reading, kwh, postpaid_bill
from chalicelib.domain.tariff_versions import parse_timeline
from chalicelib.wiring.container import Container

from .billing_rig import TIERED_20, TZ, bills, local, run, store
from .rig import MeterSpec, make_bus

pytestmark = pytest.mark.functional

TIMELINE = {
    "versions": [
        {"effective_from": "2026-01-01", "tariff": TIERED_20},
        {
            "effective_from": "2026-12-16",
            "tariff": {**TIERED_20, "tariff_id": "tiered-20-dec", "tax_rate": "0.1"},
        },
    ]
}


def _set_cycle(pipeline: Container, company_id: str, unit_id: str, cycle: dict) -> None:
    unit = pipeline.catalogue.get_unit(company_id, unit_id)
    unit.billing_cycle = cycle
    unit.save()
    pipeline.buses.forget()


def test_a_bimonthly_cycle_is_one_bill_split_at_the_tariff_version_change(
    pipeline: Container,
) -> None:
    # GIVEN a postpaid unit billed every two months from November, whose tariff changes on
    # December 16th, with readings at the end of November and of December
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-c", "u-c", TIMELINE, mode="postpaid", credit_minor=0)]
    )
    _set_cycle(pipeline, bus.company_id, "u-c", {"months": 2, "anchor_month": 11})
    nov_end, dec_end = local("2026-11-30", "23:40"), local("2026-12-31", "23:45")
    store(pipeline, bus, 1, nov_end, {"m-c": "115.000"})
    # WHEN the job runs on December 2nd, the cycle is not over: nothing is billed
    assert run(pipeline, bus, local("2026-12-02", "09:00")).bills == []
    store(pipeline, bus, 2, dec_end, {"m-c": "130.000"})
    # WHEN it runs on January 2nd
    result = run(pipeline, bus, local("2027-01-02", "09:00"))
    # THEN one bill for November-December, priced by both versions
    (bill,) = bills(pipeline, bus, "u-c")
    assert result.bills == [f"{bus.accounts['u-c']}:2026-11-01"]
    assert (bill.period_start, bill.period_end) == ("2026-11-01", "2027-01-01")
    assert list(bill.tariff_versions) == ["tiered-20@2026-01-01", "tiered-20-dec@2026-12-16"]
    versions = {line["refs"]["version"] for line in bill.lines if line["code"] == "energy"}
    assert versions == {"tiered-20@2026-01-01", "tiered-20-dec@2026-12-16"}
    # AND it is the domain's bill of the cycle on the same readings, computed independently
    cycle = BillingPeriod(date(2026, 11, 1), date(2027, 1, 1))
    allocation = {line["refs"]["allocation"] for line in bill.lines if line["code"] == "energy"}
    readings = [Reading(local("2026-11-01"), kwh("100.000"))]
    if allocation == {"metered"}:
        readings.append(Reading(nov_end, kwh("115.000")))
    readings.append(Reading(dec_end, kwh("130.000")))
    expected = postpaid_bill(parse_timeline(TIMELINE), cycle, readings, tz=TZ)
    assert int(bill.total_minor) == expected.total_minor
    # (the first tier holds 20 kWh a month over the whole cycle: all 30 kWh stay in it)
    tiers = {line["refs"]["tier"] for line in bill.lines if line["code"] == "energy"}
    assert tiers == {"0"}
    assert (
        pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-c"]) == -expected.total_minor
    )


def test_an_anchored_cycle_bills_from_the_reading_day(pipeline: Container) -> None:
    # GIVEN a postpaid unit read on the 15th (a landlord's meter-reading day)
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-a", "u-a", TIERED_20, mode="postpaid", credit_minor=0)]
    )
    _set_cycle(pipeline, bus.company_id, "u-a", {"anchor_day": 15})
    store(pipeline, bus, 1, local("2026-11-14", "23:50"), {"m-a": "110.000"})
    store(pipeline, bus, 2, local("2026-12-14", "23:50"), {"m-a": "125.000"})
    # WHEN the job runs on December 16th
    result = run(pipeline, bus, local("2026-12-16", "09:00"))
    # THEN the tenancy's first cycle (October 15th - November 15th, from move-in) and the
    # next one are billed, each ending on the 15th
    periods = [(b.period_start, b.period_end) for b in bills(pipeline, bus, "u-a")]
    assert periods == [("2026-10-15", "2026-11-15"), ("2026-11-15", "2026-12-15")]
    assert len(result.bills) == 2
