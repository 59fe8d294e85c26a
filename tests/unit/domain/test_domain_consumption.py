from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import (
    BillingPeriod,
    IntervalFlag,
    InvalidReadingError,
    Reading,
    charge_for_increment,
    consumption_intervals,
    total_energy_kwh,
)
from tests.unit.domain.samples import flat_tariff, taipower_like_tiered

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def r(minutes, value):
    return Reading(T0 + timedelta(minutes=minutes), Decimal(value))


def test_forward_readings_give_deltas():
    intervals = consumption_intervals([r(0, "10"), r(15, "10.5"), r(30, "11.25")])
    assert [i.energy_kwh for i in intervals] == [Decimal("0.500"), Decimal("0.750")]
    assert all(not i.flags for i in intervals)
    assert total_energy_kwh(intervals) == Decimal("1.250")


def test_backwards_reading_is_flagged_never_charges_and_becomes_the_new_base():
    # GIVEN a meter replaced between two readings (register drops to 0.2)
    intervals = consumption_intervals([r(0, "500"), r(15, "501"), r(30, "0.2"), r(45, "1.2")])
    # THEN the drop charges nothing, is flagged, and the next delta continues from the new base
    assert [i.energy_kwh for i in intervals] == [Decimal("1.000"), Decimal("0"), Decimal("1.000")]
    assert intervals[1].flags == {IntervalFlag.BACKWARDS}
    assert not intervals[1].charges
    assert total_energy_kwh(intervals) == Decimal("2.000")


def test_gap_is_visible_but_energy_still_counts():
    intervals = consumption_intervals([r(0, "1"), r(180, "4")], max_gap=timedelta(hours=1))
    assert intervals[0].flags == {IntervalFlag.GAP}
    assert intervals[0].energy_kwh == Decimal("3.000")


def test_out_of_order_reading_is_flagged_and_ignored_and_duplicates_vanish():
    # GIVEN a late reading (older than the base) and an exact duplicate
    intervals = consumption_intervals([r(0, "1"), r(30, "3"), r(15, "2"), r(30, "3"), r(45, "4")])
    assert [sorted(f.value for f in i.flags) for i in intervals] == [[], ["out_of_order"], []]
    assert total_energy_kwh(intervals) == Decimal("3.000")


def test_readings_must_be_aware_and_non_negative():
    with pytest.raises(InvalidReadingError):
        Reading(datetime(2026, 1, 1), Decimal(1))
    with pytest.raises(InvalidReadingError):
        Reading(T0, Decimal("-1"))
    with pytest.raises(InvalidReadingError):
        Reading(T0, Decimal("NaN"))


readings_strategy = st.lists(
    st.tuples(
        st.integers(min_value=-60, max_value=600),
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
    ),
    max_size=40,
).map(lambda items: [r(m, v) for m, v in items])


@given(readings_strategy)
def test_no_negative_energy_or_charge_from_any_reading_sequence(readings):
    # GIVEN any sequence of readings (backwards, reordered, duplicated)
    intervals = consumption_intervals(readings)
    period = BillingPeriod(T0.date(), T0.date() + timedelta(days=31))
    flat, tiered = flat_tariff(tax_rate="0.05"), taipower_like_tiered(tax_rate="0.05")
    usage = Decimal(0)
    for interval in intervals:
        # THEN no interval has negative energy and no charge is negative
        assert interval.energy_kwh >= 0
        if not interval.charges:
            assert interval.energy_kwh == 0
        after = usage + interval.energy_kwh
        if after > Decimal("999999"):
            break
        for tariff in (flat, tiered):
            assert charge_for_increment(tariff, period, usage, after).amount_minor >= 0
        usage = after


@given(
    st.lists(
        st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False), min_size=1, max_size=30
    )
)
def test_monotone_register_energy_is_last_minus_first(steps):
    values = [sum(steps[: i + 1], Decimal(0)) for i in range(len(steps))]
    readings = [r(i * 15, v) for i, v in enumerate(values)]
    assert total_energy_kwh(consumption_intervals(readings)) == values[-1] - values[0]
