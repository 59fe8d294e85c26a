"""Prepaid and postpaid agree to the minor unit, for every template (issue 14).

The rule that makes it hold (domain/prepaid_cycle.py, docs/tariffs.md): a settlement
prices the whole cycle-so-far exactly as the postpaid bill would (same spans, tier bounds
for the occupied days, line rounding, tax rule, total rounding) and charges the
difference from what the cycle was already charged. The charges telescope to the bill's
total, and none is negative because every rounding used is monotone.

GIVEN a template, a cycle somewhere in its timeline (season and version changes
included), a move-in day, perhaps a move-out day, random readings at random instants and
random settlement times, WHEN the prepaid account is settled chunk by chunk (learning of
the move-out only at the end) and the postpaid bill is made on the same readings, THEN
the charges sum to the bill's total.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import Reading, consumption_intervals, postpaid_bill
from chalicelib.domain.estimation import interpolate
from chalicelib.domain.prepaid_cycle import Tenure, settle_cycles
from chalicelib.domain.templates import all_templates

D = Decimal
GAP = timedelta(days=70)
ZONES = {"TW": "Asia/Taipei", "GB": "Europe/London"}


@st.composite
def scenarios(draw):
    found = draw(st.sampled_from(all_templates()))
    earliest = found.cycle.following(found.cycle.cycle_of(found.versions[0].effective_from))
    cycle = found.cycle.cycle_of(earliest.start + timedelta(days=draw(st.integers(0, 2800))))
    move_in = cycle.start + timedelta(days=draw(st.integers(0, cycle.days - 1)))
    move_out = None
    if draw(st.booleans()):
        move_out = move_in + timedelta(days=draw(st.integers(1, (cycle.end - move_in).days)))
    tz = ZONES[found.market]
    start = datetime.combine(move_in, time(0), ZoneInfo(tz))
    end = datetime.combine(move_out or cycle.end, time(0), ZoneInfo(tz))
    seconds = int((end - start).total_seconds())
    instants = sorted(draw(st.sets(st.integers(1, seconds - 1), max_size=25)))
    steps = draw(st.lists(st.integers(0, 30_000), min_size=len(instants) + 1, max_size=40))
    cuts = draw(st.sets(st.integers(1, len(instants) + 1), max_size=6))
    return found, cycle, move_in, move_out, tz, start, end, instants, steps, cuts


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_prepaid_settlements_over_a_cycle_sum_to_the_postpaid_bill(scenario):
    found, cycle, move_in, move_out, tz, start, end, instants, steps, cuts = scenario
    times = [start, *(start + timedelta(seconds=s) for s in instants), end]
    readings, total_wh = [Reading(start, D(0))], 0
    for at, wh in zip(times[1:], steps, strict=False):
        total_wh += wh
        readings.append(Reading(at, D(total_wh) / 1000))
    assert readings[-1].at == end

    living = Tenure(found.timeline, found.cycle, tz, move_in=move_in)
    leaving = Tenure(found.timeline, found.cycle, tz, move_in=move_in, move_out=move_out)
    position, charged, previous = None, 0, readings[0]
    for index in [*sorted(c for c in cuts if c < len(readings) - 1), len(readings) - 1]:
        chunk = [r for r in readings if previous.at < r.at <= readings[index].at]
        if not chunk:
            continue
        last = chunk[-1] is readings[-1]
        settled = settle_cycles(
            leaving if last else living,
            position,
            consumption_intervals([previous, *chunk], GAP),
            chunk[-1].at,
        )
        assert all(c.amount_minor >= 0 for c in settled.charges), settled.charges
        charged += settled.amount_minor
        position, previous = settled.position, chunk[-1]

    bill = postpaid_bill(
        found.timeline, cycle, readings, tz=tz, move_in=move_in, move_out=move_out, max_gap=GAP
    )
    assert charged == bill.total_minor


# --- energy across a cycle boundary (a gap from the opening reading, a gateway offline) ---


@st.composite
def two_cycles(draw):
    found = draw(st.sampled_from(all_templates()))
    earliest = found.cycle.following(found.cycle.cycle_of(found.versions[0].effective_from))
    first = found.cycle.cycle_of(earliest.start + timedelta(days=draw(st.integers(0, 2800))))
    second = found.cycle.following(first)
    move_in = first.start + timedelta(days=draw(st.integers(0, first.days - 1)))
    tz = ZONES[found.market]
    start = datetime.combine(move_in, time(0), ZoneInfo(tz))
    end = datetime.combine(second.end, time(0), ZoneInfo(tz))
    seconds = int((end - start).total_seconds())
    # Few readings: most draws have an interval over the boundary, as a late first reading has.
    instants = sorted(draw(st.sets(st.integers(1, seconds - 1), max_size=4)))
    steps = draw(st.lists(st.integers(1, 900_000), min_size=len(instants) + 1, max_size=5))
    cuts = draw(st.sets(st.integers(1, len(instants) + 1), max_size=3))
    return found, first, second, move_in, tz, start, end, instants, steps, cuts


@settings(max_examples=150, deadline=None)
@given(two_cycles())
def test_energy_over_a_cycle_boundary_is_charged_as_the_two_bills(scenario):
    """The rule (docs/tariffs.md): an interval over a cycle boundary is cut at the
    boundary's local midnight; the first cycle gets the register interpolated there, down
    to the Wh (the closing its bill is made with), the second the rest. The prepaid
    charges of each cycle then equal that cycle's bill to the minor unit, and the parts
    sum to the interval exactly. (A largest-remainder split over both cycles gave the
    first cycle the rounded-up Wh about half the time: a bill and its charges 1 apart.)"""
    found, first, second, move_in, tz, start, end, instants, steps, cuts = scenario
    times = [start, *(start + timedelta(seconds=s) for s in instants), end]
    readings, total_wh = [Reading(start, D(0))], 0
    for at, wh in zip(times[1:], steps, strict=False):
        total_wh += wh
        readings.append(Reading(at, D(total_wh) / 1000))
    readings = readings[: len(times)]
    end = readings[-1].at

    tenure = Tenure(found.timeline, found.cycle, tz, move_in=move_in)
    position, previous, by_cycle = None, readings[0], {}
    for index in [*sorted(c for c in cuts if c < len(readings) - 1), len(readings) - 1]:
        chunk = [r for r in readings if previous.at < r.at <= readings[index].at]
        if not chunk:
            continue
        settled = settle_cycles(
            tenure, position, consumption_intervals([previous, *chunk], GAP), chunk[-1].at
        )
        for charge in settled.charges:
            by_cycle[charge.cycle] = by_cycle.get(charge.cycle, 0) + charge.amount_minor
        position, previous = settled.position, chunk[-1]

    boundary = datetime.combine(second.start, time(0), ZoneInfo(tz))
    before = [r for r in readings if r.at < boundary]
    after = [r for r in readings if r.at > boundary]
    at_boundary = [r for r in readings if r.at == boundary]
    closing = at_boundary[0] if at_boundary else interpolate(before[-1], after[0], boundary)
    first_bill = postpaid_bill(
        found.timeline, first, [*before, closing], tz=tz, move_in=move_in, max_gap=GAP
    )
    assert by_cycle.get(first, 0) == first_bill.total_minor
    if after:
        second_bill = postpaid_bill(found.timeline, second, [closing, *after], tz=tz, max_gap=GAP)
        assert by_cycle.get(second, 0) == second_bill.total_minor
