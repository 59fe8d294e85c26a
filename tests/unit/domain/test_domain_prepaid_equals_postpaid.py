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
