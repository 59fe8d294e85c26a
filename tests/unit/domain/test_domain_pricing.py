import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import (
    AmbiguousSegmentError,
    BillingPeriod,
    InvalidPeriodError,
    NegativeIncrementError,
    Reading,
    UnknownBandError,
    charge_for_increment,
    consumption_intervals,
    month_fraction,
    postpaid_bill,
    pricing_segments,
    segment_energies,
    tou_band_energy,
)
from chalicelib.domain.pricing import segment_gross_minor, segment_net_minor
from tests.unit.domain.samples import TAIPEI, flat_tariff, taipower_like_tiered, tou_tariff

D = Decimal


def test_month_fraction_counts_days_over_days_in_each_month():
    assert month_fraction(date(2026, 3, 1), date(2026, 4, 1)) == 1
    assert month_fraction(date(2026, 1, 1), date(2026, 3, 1)) == 2
    assert month_fraction(date(2026, 1, 15), date(2026, 2, 15)) == Fraction(17, 31) + Fraction(
        14, 28
    )


def test_tier_sizes_are_prorated_when_the_period_is_not_a_whole_month():
    # GIVEN Mar 15 - Apr 15 (non-summer): 17/31 of March + 14/30 of April
    (segment,) = pricing_segments(
        taipower_like_tiered(), BillingPeriod(date(2026, 3, 15), date(2026, 4, 15))
    )
    # THEN 120 x 944/930 = 121.806451.. -> 121.806 and 330 x 944/930 -> 334.968
    assert [t.upto_kwh for t in segment.tiers] == [D("121.806"), D("334.968"), None]
    whole = pricing_segments(
        taipower_like_tiered(), BillingPeriod(date(2026, 2, 1), date(2026, 3, 1))
    )
    assert [t.upto_kwh for t in whole[0].tiers] == [D("120.000"), D("330.000"), None]


def test_a_period_across_a_season_change_is_split_by_days():
    segments = pricing_segments(
        taipower_like_tiered(), BillingPeriod(date(2026, 5, 16), date(2026, 6, 16))
    )
    assert [(s.season, s.days) for s in segments] == [("non_summer", 16), ("summer", 15)]
    assert [t.upto_kwh for t in segments[0].tiers] == [D("61.935"), D("170.323"), None]
    assert [t.upto_kwh for t in segments[1].tiers] == [D("60.000"), D("165.000"), None]
    # 400 kWh split 16:15 to the Wh, the spare Wh to the larger remainder
    assert segment_energies(segments, D("400")) == [D("206.452"), D("193.548")]


def test_charge_for_increment_walks_tiers_and_adds_tax():
    tariff = taipower_like_tiered(tax_rate="0.05")
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    # 100 -> 150 kWh: 20 kWh at 1.68 + 30 kWh at 2.45; cumulative rounding:
    # gross(150) = 120*1.68 + 30*2.45 = 201.60 + 73.50 = 275.10 -> tax 13.755 -> 13.76 => 288.86
    # gross(100) = 168.00 + 8.40 = 176.40 => charge 112.46
    charge = charge_for_increment(tariff, period, D("100"), D("150"))
    assert charge.amount_minor == 11246 and charge.currency == "TWD"
    with pytest.raises(NegativeIncrementError):
        charge_for_increment(tariff, period, D("2"), D("1"))
    with pytest.raises(AmbiguousSegmentError):
        charge_for_increment(
            tariff, BillingPeriod(date(2026, 5, 16), date(2026, 6, 16)), D(0), D(1)
        )


def test_tou_increment_is_per_band():
    tariff = tou_tariff()
    period = BillingPeriod(date(2026, 3, 1), date(2026, 4, 1))
    assert charge_for_increment(tariff, period, D("1"), D("2"), band="peak").amount_minor == 620
    with pytest.raises(UnknownBandError):
        charge_for_increment(tariff, period, D("1"), D("2"), band="nope")
    with pytest.raises(UnknownBandError):
        charge_for_increment(tariff, period, D("1"), D("2"))


def test_tou_band_energy_splits_an_interval_by_time_in_each_band():
    tariff = tou_tariff()
    # GIVEN Mon 2026-03-02 08:00-10:00 Taipei (00:00-02:00 UTC), 2 kWh
    readings = [
        Reading(datetime(2026, 3, 2, 0, 0, tzinfo=UTC), D("10")),
        Reading(datetime(2026, 3, 2, 2, 0, tzinfo=UTC), D("12")),
    ]
    bands = tou_band_energy(tariff, consumption_intervals(readings), TAIPEI)
    assert bands == {"peak": D("1.000"), "off_peak": D("1.000")}
    # GIVEN the whole of New Year's Day (a Thursday, listed as a holiday) THEN all off-peak
    holiday = [
        Reading(datetime(2025, 12, 31, 16, 0, tzinfo=UTC), D("0")),
        Reading(datetime(2026, 1, 1, 16, 0, tzinfo=UTC), D("24")),
    ]
    assert tou_band_energy(tariff, consumption_intervals(holiday), TAIPEI)["peak"] == 0


def test_periods_are_validated():
    with pytest.raises(InvalidPeriodError):
        BillingPeriod(date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(InvalidPeriodError):
        BillingPeriod(date(2026, 1, 1), date(2027, 6, 1))


periods = st.builds(
    lambda start, days: BillingPeriod(start, start + timedelta(days=days)),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=1, max_value=95),
)
energies = st.decimals(min_value=0, max_value=5000, places=3, allow_nan=False)
tax_rates = st.sampled_from(["0", "0.05", "0.2", "0.0825"])


@given(
    energy=energies,
    cuts=st.lists(st.decimals(min_value=0, max_value=1, places=3), max_size=12),
    tax=tax_rates,
    flat=st.booleans(),
)
def test_incremental_charges_telescope_to_the_one_shot_charge(energy, cuts, tax, flat):
    # GIVEN usage reaching `energy` through any chain of increments within one segment
    tariff = flat_tariff(tax_rate=tax) if flat else taipower_like_tiered(tax_rate=tax)
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    points = sorted({(energy * c).quantize(D("0.001")) for c in cuts} | {D(0), energy})
    # WHEN each increment is charged
    charges = [
        charge_for_increment(tariff, period, a, b).amount_minor
        for a, b in itertools.pairwise(points)
    ]
    # THEN every charge is >= 0 and they sum to exactly the one-shot charge
    assert all(c >= 0 for c in charges)
    assert sum(charges) == charge_for_increment(tariff, period, D(0), energy).amount_minor


def readings_for(period: BillingPeriod, energy: Decimal) -> list[Reading]:
    start = datetime.combine(period.start, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(period.end, datetime.min.time(), tzinfo=UTC)
    return [Reading(start, D("1000")), Reading(end, D("1000") + energy)]


@settings(max_examples=60)
@given(period=periods, energy=energies)
def test_tiered_bill_over_a_period_is_the_sum_of_its_day_split_parts(period, energy):
    # GIVEN a tiered tariff and any period (possibly across season changes)
    tariff = taipower_like_tiered()
    bill = postpaid_bill(
        tariff, period, readings_for(period, energy), tz=TAIPEI, max_gap=timedelta(days=400)
    )
    segments = pricing_segments(tariff, period)
    parts = segment_energies(segments, energy)
    # THEN the parts cover every day and every Wh
    assert sum(s.days for s in segments) == period.days
    assert sum(parts, D(0)) == energy
    # AND billing each day-split part on its own gives the same energy charges
    separately = 0
    for segment, part in zip(segments, parts, strict=True):
        sub = BillingPeriod(segment.start, segment.end)
        sub_bill = postpaid_bill(
            tariff, sub, readings_for(sub, part), tz=TAIPEI, max_gap=timedelta(days=400)
        )
        assert sub_bill.energy_kwh == part
        separately += sub_bill.subtotal_minor
        (only,) = pricing_segments(tariff, sub)
        assert segment_net_minor(only, part, "TWD") == sub_bill.subtotal_minor
    assert bill.subtotal_minor == separately
    assert sum(line.quantity for line in bill.energy_lines()) == energy


@given(period=periods, energy=energies, tax=tax_rates)
def test_gross_charge_is_monotone_in_usage(period, energy, tax):
    tariff = taipower_like_tiered(tax_rate=tax)
    segment = pricing_segments(tariff, period)[0]
    more = energy + D("0.001")
    rate = D(tax)
    assert segment_gross_minor(segment, more, "TWD", rate) >= segment_gross_minor(
        segment, energy, "TWD", rate
    )


LONDON_TOU = {
    "kind": "tou",
    "tariff_id": "TOU-London:1",
    "currency": "GBP",
    "bands": [{"name": "day", "price_per_kwh": "0.30"}, {"name": "night", "price_per_kwh": "0.12"}],
    "windows": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],
            "start": "00:00",
            "end": "01:30",
            "band": "night",
        },
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],
            "start": "01:30",
            "end": "07:00",
            "band": "day",
        },
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],
            "start": "07:00",
            "end": "24:00",
            "band": "night",
        },
    ],
}


@settings(max_examples=60)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 3, 27), max_value=datetime(2026, 11, 2), timezones=st.just(UTC)
    ),
    hours=st.integers(min_value=1, max_value=24 * 6),
    energy=st.decimals(min_value=0, max_value=500, places=3, allow_nan=False),
)
def test_band_split_conserves_energy_across_dst_changes(start, hours, energy):
    # GIVEN a London TOU tariff with a window boundary inside the DST change hour
    from chalicelib.domain import parse_tariff

    tariff = parse_tariff(LONDON_TOU)
    readings = [Reading(start, D("10")), Reading(start + timedelta(hours=hours), D("10") + energy)]
    # WHEN an interval (possibly across 29 Mar / 25 Oct 2026) is split into bands
    bands = tou_band_energy(
        tariff, consumption_intervals(readings, timedelta(days=7)), "Europe/London"
    )
    # THEN no Wh is lost or invented
    assert sum(bands.values(), D(0)) == energy
    assert all(v >= 0 for v in bands.values())


def test_repeated_hour_at_dst_end_is_priced_by_wall_clock_twice():
    # GIVEN 25 Oct 2026 in London: 01:00-02:00 happens twice (BST then GMT); night ends 01:30
    from chalicelib.domain import parse_tariff

    tariff = parse_tariff(LONDON_TOU)
    readings = [
        Reading(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), D("0")),
        Reading(datetime(2026, 10, 25, 3, 0, tzinfo=UTC), D("3")),
    ]
    bands = tou_band_energy(
        tariff, consumption_intervals(readings, timedelta(hours=4)), "Europe/London"
    )
    # THEN both 01:00-01:30 are night: 1 h night, 2 h day over the 3 h
    assert bands == {"day": D("2.000"), "night": D("1.000")}
