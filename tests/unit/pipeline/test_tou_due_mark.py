"""A time-of-use meter's due mark holds until the next band edge (settle_due.py).

GIVEN any time-of-use tariff (its windows, bands and rates), settlement period, zone
(Taipei, one with DST on the days drawn, one half an hour off UTC), cursor, balance and
levels, WHEN a reading arrives, THEN a meter the mark calls not due, or the steady check
calls steady, is one the full path (pricing the reading, no mark) finds nothing due for;
around the band edge and the mark's kWh in particular, where pricing past the edge with
the mark's kWh would cross a level the cursor's band alone does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.data.control_state import MeterControlState, decode_meter, encode_meter
from chalicelib.domain import Reading
from chalicelib.pipeline import settler as settler_module
from chalicelib.pipeline.settler import Settler
from tests.due_mark_bus import (
    FLEET_EDGE,
    MS,
    OPENED,
    ZONES,
    bus_with,
    decided_as_full_path,
    fleet_tou_meter,
    opening_state,
    tou_tariffs,
)


def plain(state: MeterControlState) -> MeterControlState:
    return replace(state, due=None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tariff=tou_tariffs(),
    tz=st.sampled_from(ZONES),
    thresholds=st.lists(st.integers(0, 200_000), max_size=2),
    allowance=st.integers(0, 5000),
    balance=st.integers(-10_000, 300_000),
    cursor_min=st.integers(0, 60 * 24 * 2),
    period_h=st.sampled_from([1, 3, 6, 8, 12, 24, 24, 5]),
    kwh_steps=st.lists(st.integers(0, 60_000), min_size=1, max_size=4),
    past=st.lists(st.integers(1, 24 * 3600 * 1000), min_size=1, max_size=3),
)
def test_a_tou_meter_the_mark_passes_has_nothing_due_on_the_full_path(
    tariff: dict[str, Any],
    tz: str,
    thresholds: list[int],
    allowance: int,
    balance: int,
    cursor_min: int,
    period_h: int,
    kwh_steps: list[int],
    past: list[int],
) -> None:
    bus = bus_with(tariff, thresholds, allowance, tz=tz, moved_in="2026-10-30")
    meter_ctx = bus.meters["m1"]
    settler = Settler(mock.Mock(), mock.Mock(), period_h=period_h)
    cursor_at = OPENED + timedelta(hours=5, minutes=cursor_min, milliseconds=cursor_min % 7)
    state = opening_state(cursor_at, balance)
    marked = settler.with_due_mark(bus, meter_ctx, state)
    mark = marked.due
    event("no mark" if mark is None else "bounded" if mark.until else "whole period")
    # the stored form reads back as the mark (the until included)
    stored = encode_meter(marked)
    assert decode_meter(stored).due == mark
    # readings: after the cursor by the steps drawn, and at the mark's kWh and just below
    # it, before, at and past its band edge (and later still)
    kwh_values = [Decimal(1_000_000 + milli) / 1000 for milli in kwh_steps]
    times = [cursor_at + MS * offset for offset in past]
    if mark is not None and mark.due_kwh is not None:
        kwh_values += [mark.due_kwh, mark.due_kwh - Decimal("0.001")]
    if mark is not None and mark.until is not None:
        edge = mark.until
        times += [edge - MS, edge, edge + MS, *(edge + MS * offset for offset in past)]
    times.append(cursor_at + MS)
    decided_as_full_path(settler, bus, plain(state), marked, stored, times, kwh_values)


def test_the_fleet_benchs_tou_meter_is_steady_until_the_band_edge() -> None:
    # GIVEN the fleet bench's time-of-use meter (off until 09:00, peak after, Taipei) whose
    # 06:00-12:00 period crosses the edge, cursor at 08:00, far from its levels
    bus, settler, state = fleet_tou_meter()
    meter_ctx = bus.meters["m1"]
    # WHEN it is marked
    marked = settler.with_due_mark(bus, meter_ctx, state)
    # THEN the mark holds until 09:00 in Taipei (01:00 UTC), stored with it
    edge = FLEET_EDGE
    assert marked.due is not None and marked.due.until == edge
    stored = encode_meter(marked)
    assert stored["due"][1] == f"{marked.due.basis}@{int(edge.timestamp() * 1000)}"
    # AND a reading before the edge is steady and decided without pricing
    before = Reading(edge - MS, Decimal("1010.000"))
    assert settler.steady(bus, meter_ctx, stored, before.at, before.cumulative_kwh)
    with mock.patch.object(settler_module, "_plan", side_effect=AssertionError("priced")):
        assert not settler.due(bus, meter_ctx, marked, before)
    # AND one at the edge is not steady, and is priced to decide
    at_edge = Reading(edge, Decimal("1010.000"))
    assert not settler.steady(bus, meter_ctx, stored, at_edge.at, at_edge.cumulative_kwh)
    with mock.patch.object(settler_module, "_plan", wraps=settler_module._plan) as priced:
        assert not settler.due(bus, meter_ctx, marked, at_edge)
    assert priced.called
    # AND a mark stored without an until (before it existed) reads as a whole-period one
    whole = {**stored, "due": [stored["due"][0], marked.due.basis, stored["due"][2]]}
    assert decode_meter(whole).due == replace(marked.due, until=None)
    assert settler.steady(bus, meter_ctx, whole, at_edge.at, at_edge.cumulative_kwh)
