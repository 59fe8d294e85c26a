"""Billing cycles as data (domain/cycles.py)."""

from datetime import date

import pytest

from chalicelib.domain.cycles import MONTHLY, BillingCycle, parse_cycle
from chalicelib.domain.errors import InvalidCycleError
from chalicelib.domain.periods import BillingPeriod


def test_the_default_cycle_is_the_calendar_month():
    assert parse_cycle(None) == MONTHLY
    assert MONTHLY.kind == "monthly"
    assert MONTHLY.cycle_of(date(2026, 2, 14)) == BillingPeriod(date(2026, 2, 1), date(2026, 3, 1))
    assert MONTHLY.cycle_of(date(2026, 12, 31)) == BillingPeriod(
        date(2026, 12, 1), date(2027, 1, 1)
    )


def test_a_bimonthly_cycle_starts_in_its_anchor_month_and_every_second_month_after():
    # Taipower reads half its households in odd months and half in even ones.
    odd = BillingCycle(months=2, anchor_month=1)
    even = BillingCycle(months=2, anchor_month=2)
    assert odd.kind == "every_n_months"
    assert odd.cycle_of(date(2026, 2, 10)) == BillingPeriod(date(2026, 1, 1), date(2026, 3, 1))
    assert odd.cycle_of(date(2026, 1, 1)) == BillingPeriod(date(2026, 1, 1), date(2026, 3, 1))
    assert even.cycle_of(date(2026, 1, 31)) == BillingPeriod(date(2025, 12, 1), date(2026, 2, 1))
    assert odd.following(odd.cycle_of(date(2026, 11, 5))) == BillingPeriod(
        date(2027, 1, 1), date(2027, 3, 1)
    )


def test_an_anchored_cycle_runs_from_the_reading_day_to_the_day_before_the_next():
    fifteenth = BillingCycle(anchor_day=15)
    assert fifteenth.kind == "anchored"
    assert fifteenth.cycle_of(date(2026, 3, 14)) == BillingPeriod(
        date(2026, 2, 15), date(2026, 3, 15)
    )
    assert fifteenth.cycle_of(date(2026, 3, 15)) == BillingPeriod(
        date(2026, 3, 15), date(2026, 4, 15)
    )
    assert fifteenth.is_boundary(date(2026, 4, 15)) and not fifteenth.is_boundary(date(2026, 4, 1))
    bimonthly = BillingCycle(months=2, anchor_day=15, anchor_month=1)
    assert bimonthly.cycle_of(date(2026, 1, 10)) == BillingPeriod(
        date(2025, 11, 15), date(2026, 1, 15)
    )


def test_consecutive_cycles_tile_the_calendar():
    for rule in (MONTHLY, BillingCycle(months=2), BillingCycle(months=3, anchor_day=28)):
        cycle = rule.cycle_of(date(2025, 1, 1))
        for _ in range(30):
            following = rule.following(cycle)
            assert following.start == cycle.end
            cycle = following


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"months": 0}, "months"),
        ({"months": 13}, "months"),
        ({"anchor_day": 29}, "anchor_day"),
        ({"anchor_month": 0}, "anchor_month"),
        ({"months": "2"}, "months"),
        ({"every": 2}, "every"),
    ],
)
def test_bad_cycles_are_refused_naming_the_field(document, field):
    with pytest.raises(InvalidCycleError, match=field):
        parse_cycle(document)
