"""The precomputed threshold (settle_due.py) decides exactly as pricing every reading did.

GIVEN a prepaid meter's cursor, balance and levels on a flat, tiered or time-of-use
tariff, WHEN a reading arrives, THEN ``Settler.due`` with the mark worked out at the
cursor answers what it answers without the mark (pricing the reading), for readings
across the whole period and around the mark itself; and the mark spares the pricing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.data.control_state import MeterControlState
from chalicelib.domain import Reading
from chalicelib.pipeline import settler as settler_module
from chalicelib.pipeline.settle_due import work_out_mark
from chalicelib.pipeline.settler import Settler
from local_aws import tariff_documents as td
from tests.due_mark_bus import OPENED, bus_with, opening_state

TARIFFS = {
    "flat": td.flat("flat", "5.00"),
    "tiered": td.tiered_all_year("tiered", [("120", "1.68"), (None, "3.33")]),
    "tou": td.tou_every_day("tou", [("00:00", "09:00", "off"), ("09:00", "24:00", "peak")]),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(TARIFFS)),
    thresholds=st.lists(st.integers(0, 200_000), max_size=2),
    allowance=st.integers(0, 5000),
    balance=st.integers(-10_000, 300_000),
    cursor_min=st.integers(0, 60 * 24 * 20),
    period_h=st.sampled_from([1, 6, 24]),
    steps=st.lists(st.tuples(st.integers(1, 400), st.integers(0, 30_000)), min_size=1, max_size=6),
)
def test_the_mark_decides_as_pricing_the_reading_does(
    kind: str,
    thresholds: list[int],
    allowance: int,
    balance: int,
    cursor_min: int,
    period_h: int,
    steps: list[tuple[int, int]],
) -> None:
    bus = bus_with(TARIFFS[kind], thresholds, allowance)
    meter_ctx = bus.meters["m1"]
    settler = Settler(mock.Mock(), mock.Mock(), period_h=period_h)
    cursor_at = OPENED + timedelta(minutes=cursor_min, milliseconds=cursor_min % 7)
    state = opening_state(cursor_at, balance)
    marked = settler.with_due_mark(bus, meter_ctx, state)
    readings = []
    at, kwh_milli = cursor_at, 1_000_000
    for minutes, milli in steps:
        at, kwh_milli = at + timedelta(minutes=minutes), kwh_milli + milli
        readings.append(Reading(at, Decimal(kwh_milli) / 1000))
    if marked.due is not None and marked.due.due_kwh is not None:
        edge = marked.due.due_kwh
        near = cursor_at + timedelta(milliseconds=1)
        readings += [Reading(near, edge), Reading(near, edge - Decimal("0.001"))]
    for reading in readings:
        assert settler.due(bus, meter_ctx, marked, reading) == settler.due(
            bus, meter_ctx, state, reading
        ), (reading, marked.due)


def test_flat_and_tiered_meters_are_decided_without_pricing_each_reading() -> None:
    # GIVEN a flat meter with a threshold far below its balance, marked at its cursor
    bus = bus_with(TARIFFS["flat"], [50_000], 0)
    meter_ctx = bus.meters["m1"]
    settler = Settler(mock.Mock(), mock.Mock(), period_h=6)
    state = MeterControlState(
        account_id="a1",
        balance_minor=100_000,
        settled_kwh=Decimal("1000.000"),
        settled_at=OPENED + timedelta(hours=1),
        never_settled=True,
    )
    marked = settler.with_due_mark(bus, meter_ctx, state)
    # THEN the mark is the first reading charged 50,000 minor units: 99.999 kWh at 5.00
    # is 49,999.5, rounded half up
    assert marked.due is not None and marked.due.due_kwh == Decimal("1099.999")
    # WHEN readings arrive in the period, THEN none of them is priced to decide
    with mock.patch.object(settler_module, "_plan", side_effect=AssertionError("priced")):
        for kwh in ("1000.500", "1099.998"):
            reading = Reading(OPENED + timedelta(hours=2), Decimal(kwh))
            assert not settler.due(bus, meter_ctx, marked, reading)
        assert settler.due(
            bus, meter_ctx, marked, Reading(OPENED + timedelta(hours=2), Decimal("1099.999"))
        )
    # AND a moved balance makes the mark stale (worked out again, not trusted)
    moved = replace(marked, balance_minor=60_000)
    assert settler.with_due_mark(bus, meter_ctx, moved).due != marked.due


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(TARIFFS)),
    period_h=st.sampled_from([1, 6, 5]),
    cursors=st.lists(
        st.tuples(st.integers(0, 60 * 24 * 3), st.integers(-10_000, 300_000)),
        min_size=1,
        max_size=8,
    ),
)
def test_a_remembered_answer_of_no_mark_is_the_one_worked_out(
    kind: str, period_h: int, cursors: list[tuple[int, int]]
) -> None:
    # GIVEN one meter whose cursor and balance move from message to message (the
    # container remembers, by basis, where no mark can be kept: Settler.with_due_mark)
    bus = bus_with(TARIFFS[kind], [50_000], 1000)
    meter_ctx = bus.meters["m1"]
    settler = Settler(mock.Mock(), mock.Mock(), period_h=period_h)
    for cursor_min, balance in cursors:
        state = MeterControlState(
            account_id="a1",
            balance_minor=balance,
            settled_kwh=Decimal("1000.000"),
            settled_at=OPENED + timedelta(minutes=cursor_min),
            never_settled=True,
        )
        # WHEN it is marked (the memo warm from the states before, and other examples')
        marked = settler.with_due_mark(bus, meter_ctx, state)
        # THEN the mark is the one worked out afresh, and no mark leaves the state as read
        assert marked.due == work_out_mark(bus, meter_ctx, state, period_h), cursor_min
        if marked.due is None:
            assert marked is state
