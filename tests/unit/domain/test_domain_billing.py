from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain import BillingPeriod, InvalidBillError, Reading, parse_tariff, postpaid_bill
from tests.unit.domain.samples import TAIPEI, taipower_like_tiered, tou_tariff

D = Decimal
FIXED = [
    {"code": "meter", "amount_minor": 1000, "per": "day"},
    {"code": "service", "amount_minor": 15000, "per": "period"},
]


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_tiered_bill_across_a_season_change_is_traceable_line_by_line():
    # GIVEN May 16 - Jun 16 (16 non-summer days + 15 summer days), 400 kWh, 5% tax
    tariff = taipower_like_tiered(tax_rate="0.05", fixed=FIXED)
    period = BillingPeriod(date(2026, 5, 16), date(2026, 6, 16))
    readings = [
        Reading(at(period.start), D("1000"), "r-open"),
        Reading(at(period.end), D("1400"), "r-close"),
    ]
    bill = postpaid_bill(tariff, period, readings, tz=TAIPEI, max_gap=timedelta(days=40))
    energy = [
        (ln.refs["season"], ln.refs["tier"], ln.quantity, ln.amount_minor)
        for ln in bill.energy_lines()
    ]
    # THEN 206.452 kWh non-summer over tiers 61.935 / 170.323 and 193.548 kWh summer over 60/165
    assert energy == [
        ("non_summer", "0", D("61.935"), 10405),  # x 1.68 = 104.0508
        ("non_summer", "1", D("108.388"), 23412),  # x 2.16 = 234.11808
        ("non_summer", "2", D("36.129"), 10947),  # x 3.03 = 109.47087
        ("summer", "0", D("60.000"), 10080),
        ("summer", "1", D("105.000"), 25725),
        ("summer", "2", D("28.548"), 10563),  # x 3.70 = 105.6276
    ]
    taxes = [ln.amount_minor for ln in bill.lines if ln.code == "tax"]
    # per priced component: 44764 * 5% = 2238.2, 46368 * 5% = 2318.4, 31000 * 5%, 15000 * 5%
    assert taxes == [2238, 2318, 1550, 750]
    fixed = [(ln.refs["fixed"], ln.amount_minor) for ln in bill.lines if ln.code == "fixed"]
    assert fixed == [("meter", 31000), ("service", 15000)]
    assert bill.subtotal_minor == 91132 + 31000 + 15000
    assert bill.total_minor == bill.subtotal_minor + 2238 + 2318 + 1550 + 750
    first = bill.energy_lines()[0]
    assert first.refs["opening_reading"] == "r-open" and first.refs["closing_reading"] == "r-close"
    assert first.refs["tier_upto_kwh"] == "61.935" and first.refs["tariff_id"] == "tiered-1"
    assert first.refs["segment"] == "[2026-05-16, 2026-06-01)"
    assert first.unit_price == D("1.68")


def test_move_in_pro_rates_tiers_and_fixed_charges():
    # GIVEN a March period and a tenant moving in on the 11th (21 of 31 days)
    tariff = parse_tariff(
        {
            "kind": "flat",
            "tariff_id": "f",
            "currency": "TWD",
            "price_per_kwh": "5.5",
            "tax_rate": "0.05",
            "fixed_charges": FIXED,
        }
    )
    period = BillingPeriod(date(2026, 3, 1), date(2026, 4, 1))
    readings = [Reading(at(date(2026, 3, 11)), D("100")), Reading(at(period.end), D("150.5"))]
    bill = postpaid_bill(
        tariff, period, readings, tz=TAIPEI, move_in=date(2026, 3, 11), max_gap=timedelta(days=40)
    )
    assert bill.billed == BillingPeriod(date(2026, 3, 11), date(2026, 4, 1))
    amounts = [(ln.code, ln.amount_minor) for ln in bill.lines]
    # 50.5 kWh x 5.5 = 277.75; 21 days x 10.00; 150.00 x 21/31 = 101.6129 -> 101.61
    assert amounts == [
        ("energy", 27775),
        ("tax", 1389),
        ("fixed", 21000),
        ("tax", 1050),
        ("fixed", 10161),
        ("tax", 508),
    ]
    assert bill.total_minor == 61883
    assert [ln.refs.get("prorate") for ln in bill.lines if ln.code == "fixed"] == [None, "21/31"]


def test_move_out_pro_rates_tier_sizes_by_occupied_days():
    tariff = taipower_like_tiered()
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    readings = [Reading(at(period.start), D("0")), Reading(at(date(2026, 7, 11)), D("200"))]
    bill = postpaid_bill(
        tariff, period, readings, tz=TAIPEI, move_out=date(2026, 7, 11), max_gap=timedelta(days=40)
    )
    # 10 of 31 July days: tier 1 is 120 x 10/31 = 38.710 kWh
    assert [ln.refs["tier_upto_kwh"] for ln in bill.energy_lines()] == ["38.710", "106.452", "none"]
    assert [ln.quantity for ln in bill.energy_lines()] == [D("38.710"), D("67.742"), D("93.548")]


def test_tou_bill_prices_each_band():
    # GIVEN Monday 2026-03-02 in Taipei: 9 kWh off-peak night, 16 kWh peak day, 7 kWh evening
    tariff = tou_tariff()
    period = BillingPeriod(date(2026, 3, 2), date(2026, 3, 3))
    local = [
        datetime(2026, 3, 1, 16, tzinfo=UTC),
        datetime(2026, 3, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 2, 9, tzinfo=UTC),
        datetime(2026, 3, 2, 16, tzinfo=UTC),
    ]
    readings = [Reading(t, D(v)) for t, v in zip(local, ["0", "9", "25", "32"], strict=True)]
    bill = postpaid_bill(tariff, period, readings, tz=TAIPEI, max_gap=timedelta(hours=9))
    assert [(ln.refs["band"], ln.quantity, ln.amount_minor) for ln in bill.energy_lines()] == [
        ("peak", D("16.000"), 9920),
        ("off_peak", D("16.000"), 3360),
    ]
    assert bill.total_minor == 13280


def test_backwards_readings_are_flagged_on_the_bill_and_never_charged():
    tariff = taipower_like_tiered()
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    days = [at(date(2026, 7, d)) for d in (1, 10, 20, 31)]
    readings = [Reading(t, D(v)) for t, v in zip(days, ["100", "120", "5", "15"], strict=True)]
    bill = postpaid_bill(tariff, period, readings, tz=TAIPEI, max_gap=timedelta(days=40))
    assert bill.energy_kwh == D("30.000")
    assert bill.flags == {"backwards"}
    assert bill.subtotal_minor >= 0


def test_bills_need_two_ordered_readings_and_an_overlapping_tenancy():
    tariff = taipower_like_tiered()
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    one = [Reading(at(period.start), D("1"))]
    with pytest.raises(InvalidBillError):
        postpaid_bill(tariff, period, one, tz=TAIPEI)
    with pytest.raises(InvalidBillError):
        postpaid_bill(tariff, period, one + one, tz=TAIPEI)
    with pytest.raises(ValueError, match="does not overlap"):
        postpaid_bill(
            tariff,
            period,
            [one[0], Reading(at(period.end), D("2"))],
            tz=TAIPEI,
            move_in=date(2026, 9, 1),
        )
