"""Closings without a reading at the period end: interpolated between real readings, or
estimated from the unit's own use; and an over-estimate credited as it was charged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import (
    BillingPeriod,
    ClosingKind,
    EstimatedBill,
    InvalidReadingError,
    Reading,
    daily_usage_kwh,
    estimate,
    interpolate,
    kwh,
    over_estimate_credit,
    parse_tariff,
    postpaid_bill,
)

T = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # December 1st, 00:00 in Taipei
TZ = "Asia/Taipei"
NOVEMBER = BillingPeriod(date(2026, 11, 1), date(2026, 12, 1))
TIERED = parse_tariff(
    {
        "kind": "tiered",
        "tariff_id": "t",
        "currency": "TWD",
        "tax_rate": "0.05",
        "seasons": [
            {
                "name": "all",
                "start": "01-01",
                "end": "12-31",
                "tiers": [
                    {"upto_kwh": "20", "price_per_kwh": "1.68"},
                    {"upto_kwh": None, "price_per_kwh": "3.33"},
                ],
            }
        ],
    }
)
TOU = parse_tariff(
    {
        "kind": "tou",
        "tariff_id": "tou",
        "currency": "TWD",
        "tax_rate": "0.05",
        "bands": [
            {"name": "peak", "price_per_kwh": "6.20"},
            {"name": "off", "price_per_kwh": "2.10"},
        ],
        "windows": [
            {"days": d, "start": s, "end": e, "band": b}
            for d in (["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],)
            for s, e, b in (("00:00", "12:00", "off"), ("12:00", "24:00", "peak"))
        ],
    }
)


def test_interpolation_is_the_straight_line_rounded_down_to_the_wh() -> None:
    before = Reading(T - timedelta(hours=3), kwh("100.000"))
    after = Reading(T + timedelta(hours=1), kwh("100.001"))
    # THEN three quarters of 1 Wh is 0 Wh: a bill never runs ahead of the meter
    assert interpolate(before, after, T) == Reading(T, kwh("100.000"))
    assert interpolate(
        before, Reading(T + timedelta(hours=1), kwh("104.000")), T
    ).cumulative_kwh == kwh("103.000")


def test_interpolation_across_a_register_that_went_down_is_refused() -> None:
    with pytest.raises(InvalidReadingError):
        interpolate(Reading(T - timedelta(hours=1), kwh("9")), Reading(T, kwh("1")), T)


def test_daily_usage_needs_a_day_of_history() -> None:
    last = Reading(T, kwh("130"))
    assert daily_usage_kwh(Reading(T - timedelta(days=10), kwh("100")), last) == kwh("3")
    assert daily_usage_kwh(Reading(T - timedelta(hours=23), kwh("100")), last) == kwh("0")
    assert daily_usage_kwh(Reading(T - timedelta(days=3), kwh("200")), last) == kwh("0")


def test_an_estimate_extends_its_base_and_never_falls_below_the_floor() -> None:
    base = Reading(T - timedelta(days=5, hours=12), kwh("125.000"))
    closing = estimate(base, kwh("1.000"), T, floor=kwh("100"))
    assert closing.kind is ClosingKind.ESTIMATED and closing.estimated
    assert closing.reading == Reading(T, kwh("130.500"))
    assert (closing.base, closing.daily_kwh) == (base, kwh("1.000"))
    # AND an estimate after an estimate is never lower than the one before it
    assert estimate(base, kwh("0"), T, floor=kwh("140")).reading.cumulative_kwh == kwh("140")


@given(
    st.integers(min_value=1, max_value=60_000),
    st.integers(min_value=0, max_value=60_000),
    st.integers(min_value=0, max_value=60_000),
)
def test_a_credit_makes_the_estimated_bill_what_the_real_reading_would_have_made(
    estimated_wh: int, real_part_wh: int, over_wh: int
) -> None:
    # GIVEN November billed on an estimate: opening 100, a real reading, then an estimate
    over_wh = min(over_wh, estimated_wh)
    opening = Reading(datetime(2026, 10, 31, 16, 0, tzinfo=UTC), kwh("100"))
    base = Reading(T - timedelta(days=5), opening.cumulative_kwh + Decimal(real_part_wh) / 1000)
    est = Reading(T, base.cumulative_kwh + Decimal(estimated_wh) / 1000)
    for tariff in (TIERED, TOU):
        charged = postpaid_bill(tariff, NOVEMBER, [opening, base, est], tz=TZ)
        bands = {
            line.refs["band"]: line.quantity
            for line in charged.energy_lines()
            if "band" in line.refs
        }
        bill = EstimatedBill(
            date(2026, 11, 1), tariff, NOVEMBER, base, est, charged.energy_kwh, bands
        )
        # WHEN the real reading turns out over_wh lower than the estimate
        lines = over_estimate_credit(Decimal(over_wh) / 1000, [bill], TZ)
        # THEN the credit is the difference the real reading makes to November's energy charge
        real = Reading(T, est.cumulative_kwh - Decimal(over_wh) / 1000)
        truth = postpaid_bill(tariff, NOVEMBER, [opening, base, real], tz=TZ)
        assert (
            charged.total_minor + sum(line.amount_minor for line in lines) == truth.total_minor
        ), tariff.kind
        assert all(line.amount_minor <= 0 for line in lines)
        assert {line.code for line in lines} <= {"credit", "tax"}


def test_an_over_estimate_beyond_every_estimate_is_refused() -> None:
    opening = Reading(T - timedelta(days=30), kwh("100"))
    bill = EstimatedBill(
        date(2026, 11, 1), TIERED, NOVEMBER, opening, Reading(T, kwh("110")), kwh("10")
    )
    with pytest.raises(Exception, match="beyond the estimates"):
        over_estimate_credit(kwh("10.001"), [bill], TZ)
