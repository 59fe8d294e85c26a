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
        ({"months": True}, "months"),
        ({"change": {"effective_from": "soon", "cycle": {}}}, r"change\.effective_from"),
        (
            {"change": {"effective_from": "2026-12-01", "cycle": {"months": 0}}},
            r"change\.cycle\.months",
        ),
        ({"change": {"cycle": {}}}, "change"),
        ([1], "cycle"),
    ],
)
def test_bad_cycles_are_refused_naming_the_field(document, field):
    with pytest.raises(InvalidCycleError, match=field):
        parse_cycle(document)


# --- a cycle change waits for the next boundary ---

FIFTEENTH = BillingCycle(anchor_day=15)


def test_a_change_asked_mid_cycle_takes_effect_at_the_end_of_the_current_cycle():
    # GIVEN a calendar-month unit on 20 November, asking for cycles from the 15th
    changed = MONTHLY.scheduled(FIFTEENTH, date(2026, 11, 20))
    # THEN November is still the calendar month, whole: never cut mid-cycle
    assert changed.cycle_of(date(2026, 11, 20)) == BillingPeriod(
        date(2026, 11, 1), date(2026, 12, 1)
    )
    assert changed.pending is not None and changed.pending.effective_from == date(2026, 12, 1)
    # AND from 1 December a bridge to the new rule's first boundary, then the new cycles
    assert changed.cycle_of(date(2026, 12, 3)) == BillingPeriod(
        date(2026, 12, 1), date(2026, 12, 15)
    )
    assert changed.following(changed.cycle_of(date(2026, 12, 3))) == BillingPeriod(
        date(2026, 12, 15), date(2027, 1, 15)
    )
    assert changed.in_force(date(2026, 11, 30)) == MONTHLY
    assert changed.in_force(date(2026, 12, 1)) == FIFTEENTH
    # AND it is stored and read back as data
    assert parse_cycle(changed.document()) == changed


def test_a_change_on_a_boundary_itself_waits_for_the_next_one():
    # 1 December has begun: it is priced in December's cycle, so the change waits for January
    changed = MONTHLY.scheduled(BillingCycle(months=2), date(2026, 12, 1))
    assert changed.pending is not None and changed.pending.effective_from == date(2027, 1, 1)
    assert changed.cycle_of(date(2027, 1, 1)) == BillingPeriod(date(2027, 1, 1), date(2027, 3, 1))


def test_asking_again_before_the_boundary_replaces_the_pending_change_and_it_can_be_withdrawn():
    first = MONTHLY.scheduled(FIFTEENTH, date(2026, 11, 20))
    again = first.scheduled(BillingCycle(months=2), date(2026, 11, 25))
    assert again.change is not None and again.change.cycle == BillingCycle(months=2)
    assert again.change.cycle.change is None
    assert again.withdrawn(date(2026, 11, 26)) == MONTHLY
    # back to the rule in force only drops what waits
    assert first.scheduled(MONTHLY, date(2026, 11, 21)) == MONTHLY
    with pytest.raises(InvalidCycleError, match=r"cycle\.change"):
        MONTHLY.withdrawn(date(2026, 11, 26))
    # a change in force is history, not withdrawable
    with pytest.raises(InvalidCycleError, match=r"cycle\.change"):
        first.withdrawn(date(2026, 12, 2))


def test_changes_chain_each_from_a_boundary_of_the_rule_before():
    first = MONTHLY.scheduled(FIFTEENTH, date(2026, 11, 20))
    # asked in the bridge (1 to 15 December): waits for its end
    second = first.scheduled(BillingCycle(months=2), date(2026, 12, 5))
    assert second.pending is not None and second.pending.effective_from == date(2026, 12, 15)
    assert second.cycle_of(date(2026, 11, 30)).start == date(2026, 11, 1)
    assert second.cycle_of(date(2026, 12, 10)) == BillingPeriod(
        date(2026, 12, 1), date(2026, 12, 15)
    )
    assert second.cycle_of(date(2026, 12, 20)) == BillingPeriod(
        date(2026, 12, 15), date(2027, 1, 1)
    )
    assert second.cycle_of(date(2027, 2, 1)) == BillingPeriod(date(2027, 1, 1), date(2027, 3, 1))
    # AND rules over a year old are dropped when a new change is stored
    later = second.scheduled(MONTHLY, date(2028, 6, 10))
    assert later.rule == BillingCycle(months=2) and later.pending is not None


def test_bills_follow_a_pending_change_whole_cycles_then_the_bridge():
    from datetime import UTC, datetime

    from chalicelib.pipeline.bill_periods import due_periods

    changed = MONTHLY.scheduled(FIFTEENTH, date(2026, 11, 20))
    periods = due_periods(
        date(2026, 11, 1),
        datetime(2027, 1, 20, tzinfo=UTC),
        "Asia/Taipei",
        cycle=changed,
        continues=True,
    )
    assert [(p.start, p.end) for p in periods] == [
        (date(2026, 11, 1), date(2026, 12, 1)),
        (date(2026, 12, 1), date(2026, 12, 15)),
        (date(2026, 12, 15), date(2027, 1, 15)),
    ]
