"""Prepaid settlement over cycles adds up to the postpaid bill (domain/prepaid_cycle.py)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import Reading, consumption_intervals, parse_tariff, postpaid_bill
from chalicelib.domain.cycles import BillingCycle
from chalicelib.domain.prepaid_cycle import CyclePosition, Tenure, settle_cycles
from tests.unit.domain.samples import TAIPEI, taipower_like_tiered

D = Decimal
GAP = timedelta(days=70)


def local(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(TAIPEI))


def test_a_settlement_across_a_cycle_boundary_closes_the_cycle_and_opens_the_next():
    tenure = Tenure(taipower_like_tiered(), BillingCycle(), TAIPEI)
    readings = [
        Reading(local(date(2026, 7, 31)), D("0")),
        Reading(local(date(2026, 8, 1)) + timedelta(hours=12), D("36")),
    ]
    intervals = consumption_intervals(readings, GAP)
    settled = settle_cycles(tenure, None, intervals, readings[-1].at)
    july, august = settled.charges
    # 36 kWh over 36 hours: 24 in July's last day, 12 in August's first half day
    assert (july.energy_kwh, july.closes_cycle) == (D("24.000"), True)
    assert (august.energy_kwh, august.closes_cycle) == (D("12.000"), False)
    assert july.amount_minor == 24 * 168 and august.amount_minor == 12 * 168
    assert settled.position.cycle_start == date(2026, 8, 1)
    assert CyclePosition.from_document(settled.position.to_document()) == settled.position


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40_000), min_size=1, max_size=40),
    st.integers(min_value=0, max_value=58),
    st.sets(st.integers(min_value=1, max_value=39), max_size=10),
)
def test_prepaid_chunks_sum_to_the_bill_with_fixed_charges_and_whole_dollars(
    steps_wh, move_in_offset, cuts
):
    document = taipower_like_tiered(
        fixed=[
            {"code": "meter", "price": "3.333", "per": "day"},
            {"code": "service", "amount_minor": 15001, "per": "period"},
        ]
    ).model_dump(mode="json")
    document["rounding"] = {"lines": "exact", "total": "whole"}
    tariff = parse_tariff(document)
    rule = BillingCycle(months=2, anchor_month=5)
    cycle = rule.cycle_of(date(2026, 5, 1))  # May-June: a season change inside
    move_in = cycle.start + timedelta(days=move_in_offset)
    start = local(move_in)
    span = local(cycle.end) - start
    readings = [Reading(start, D(0))]
    total = 0
    for i, wh in enumerate(steps_wh, start=1):
        total += wh
        at = start + span * i / len(steps_wh)
        readings.append(Reading(at, D(total) / 1000))
    tenure = Tenure(tariff, rule, TAIPEI, move_in=move_in)
    position, charged, previous = None, 0, readings[0]
    chunks = [*sorted(c for c in cuts if c < len(steps_wh)), len(steps_wh)]
    for end in chunks:
        chunk = [r for r in readings if previous.at < r.at <= readings[end].at]
        if not chunk:
            continue
        settled = settle_cycles(
            tenure, position, consumption_intervals([previous, *chunk], GAP), chunk[-1].at
        )
        assert all(c.amount_minor >= 0 for c in settled.charges)
        charged += settled.amount_minor
        position, previous = settled.position, chunk[-1]
    bill = postpaid_bill(tariff, cycle, readings, tz=TAIPEI, move_in=move_in, max_gap=GAP)
    assert charged == bill.total_minor
    assert bill.total_minor % 100 == 0


def test_a_scheduled_cycle_change_closes_the_old_cycle_whole_and_opens_the_bridge():
    # GIVEN a calendar-month unit that asked on 20 July for cycles from the 15th
    changed = BillingCycle().scheduled(BillingCycle(anchor_day=15), date(2026, 7, 20))
    tenure = Tenure(taipower_like_tiered(), changed, TAIPEI)
    readings = [
        Reading(local(date(2026, 7, 31)), D("0")),
        Reading(local(date(2026, 8, 1)) + timedelta(hours=12), D("36")),
    ]
    settled = settle_cycles(tenure, None, consumption_intervals(readings, GAP), readings[-1].at)
    july, bridge = settled.charges
    # THEN July closes as a whole calendar month (never cut mid-cycle), and the energy
    # after it opens the bridge to the new rule's first boundary, 1 to 15 August
    assert (july.energy_kwh, july.closes_cycle) == (D("24.000"), True)
    assert (bridge.energy_kwh, bridge.closes_cycle) == (D("12.000"), False)
    assert settled.position.cycle_start == date(2026, 8, 1)
    assert changed.cycle_of(settled.position.cycle_start).end == date(2026, 8, 15)
    # AND the bridge's 12 kWh sit in its first tier, whose bound is its share of 14 days
    assert bridge.amount_minor == 12 * 168
