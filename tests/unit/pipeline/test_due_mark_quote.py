"""The due mark worked out from the quote (settle_due.py, ``EnergyQuote``) is the one the
full pricing path gives, and past a time-of-use band edge the period's bound is safe.

GIVEN any flat, tiered or time-of-use tariff (rates, tiers, windows, tax on lines or on
the total, line and total rounding, fixed charges per day or per period), a zone (Taipei,
New York across its DST change, Kolkata), a settlement period, a settlement just made
(its position in the cycle, its balance) and the company's levels, WHEN the mark is worked
out for the settlement's cursor, THEN it equals the mark searched by pricing every guess
through ``plan_settlement`` (the path before the quote), also when it takes the
settlement's own charge of the cycle as the charge of no energy, and an exact one is the first
reading whose full pricing crosses the level. AND WHEN a reading passes the band edge the
mark held until, THEN the bound that replaces it never calls a reading not due that the
full path (pricing it, no mark) finds due."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.data.control_state import DueMark, MeterControlState, encode_meter
from chalicelib.domain import Reading
from chalicelib.domain.calendar import local_midnight
from chalicelib.pipeline import settle_due
from chalicelib.pipeline import settler as settler_module
from chalicelib.pipeline.context import BusContext, MeterContext
from chalicelib.pipeline.settle_due import period_bounds, work_out_mark
from chalicelib.pipeline.settler import Settler
from local_aws import tariff_documents as td
from tests.due_mark_bus import (
    FLEET_EDGE,
    MS,
    OPENED,
    RATES,
    ZONES,
    bus_with,
    decided_as_full_path,
    fleet_tou_meter,
    opening_state,
    tou_tariffs,
)

START = OPENED + timedelta(hours=5)


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    """Tax, rounding and fixed charges any kind of tariff may carry."""
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["tax_rate"] = draw(st.sampled_from(["0.05", "0.175", "0.2"]))
        extra["tax_on"] = draw(st.sampled_from(["lines", "total"]))
    if draw(st.booleans()):
        extra["rounding"] = {
            "lines": draw(st.sampled_from(["minor", "whole", "exact"])),
            "total": draw(st.sampled_from(["minor", "whole"])),
            "mode": draw(st.sampled_from(["half_up", "half_even"])),
        }
    if draw(st.booleans()):
        extra["fixed_charges"] = [
            {
                "code": "service",
                "amount_minor": draw(st.integers(1, 5_000)),
                "per": draw(st.sampled_from(["day", "period"])),
            }
        ]
    return extra


@st.composite
def tariffs(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["flat", "tiered", "tou"]))
    if kind == "flat":
        document = td.flat("flat", draw(RATES))
    elif kind == "tiered":
        bounds = sorted(draw(st.sets(st.integers(1, 400), min_size=1, max_size=3)))
        tiers: list[tuple[str | None, str]] = [(str(b), draw(RATES)) for b in bounds]
        document = td.tiered_all_year("tiered", [*tiers, (None, draw(RATES))])
    else:
        document = draw(tou_tariffs())
    return {**document, **draw(rules())}


def settled_state(
    bus: BusContext, meter_ctx: MeterContext, period_h: int, opened_at: datetime, used: int
) -> MeterControlState:
    """The state a settlement of ``used`` Wh from ``opened_at`` to the reading an hour on
    leaves: its cursor, position in the cycle and balance, as ``Settler.settle_all``
    writes them."""
    settler = Settler(mock.Mock(), mock.Mock(), period_h=period_h)
    opening = MeterControlState(
        account_id="a1",
        balance_minor=10_000_000,
        settled_kwh=Decimal("1000.000"),
        settled_at=opened_at,
        never_settled=True,
    )
    reading = Reading(opened_at + timedelta(hours=1), Decimal(1_000_000 + used) / 1000)
    prepared = settler.prepare(bus, meter_ctx, opening, [reading])
    assert prepared is not None
    plan = prepared.plan
    return replace(
        opening,
        settled_kwh=plan.end.cumulative_kwh,
        settled_at=plan.end.at,
        tariff_position=plan.usage,
        never_settled=False,
    )


def full_path_mark(
    bus: BusContext, meter_ctx: MeterContext, state: MeterControlState, period_h: int
) -> DueMark | None:
    """The mark searched by pricing each guess through ``plan_settlement`` (no quote)."""
    with mock.patch.object(settle_due, "_quote", return_value=None):
        return work_out_mark(bus, meter_ctx, state, period_h)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tariff=tariffs(),
    tz=st.sampled_from(ZONES),
    thresholds=st.lists(st.integers(0, 200_000), max_size=2),
    allowance=st.integers(0, 5000),
    period_h=st.sampled_from([1, 3, 6, 24]),
    opened_min=st.integers(0, 60 * 24 * 2),
    midnight=st.booleans(),
    used=st.integers(0, 400_000),
    balance=st.integers(-10_000, 3_000_000),
)
def test_the_quoted_mark_is_the_full_pricing_paths_mark(
    tariff: dict[str, Any],
    tz: str,
    thresholds: list[int],
    allowance: int,
    period_h: int,
    opened_min: int,
    midnight: bool,
    used: int,
    balance: int,
) -> None:
    # GIVEN a settlement just made (a cursor an hour after the opening, or at the cycle's
    # first local midnight, with the position it left) and a balance after it
    bus = bus_with(tariff, thresholds, allowance, tz=tz, moved_in="2026-10-30")
    meter_ctx = bus.meters["m1"]
    opened_at = START + timedelta(minutes=opened_min, milliseconds=opened_min % 7)
    if midnight:  # the settlement reaches the first local midnight of December (a new cycle)
        opened_at = local_midnight(date(2026, 12, 1), tz) - timedelta(hours=1)
    state = replace(settled_state(bus, meter_ctx, period_h, opened_at, used), balance_minor=balance)
    # WHEN the mark is worked out (the quote; also on the settlement's own pricing, as
    # the settling message does) and searched by pricing each guess in full
    mark = work_out_mark(bus, meter_ctx, state, period_h)
    on_settlement = work_out_mark(bus, meter_ctx, state, period_h, settled=True)
    full = full_path_mark(bus, meter_ctx, state, period_h)
    event("no mark" if mark is None else f"exact={mark.exact} until={mark.until is not None}")
    # THEN they are the same mark
    assert mark == full
    assert on_settlement == full
    # AND an exact mark is the first reading (just after the cursor) whose full pricing
    # takes the balance to a level
    if mark is None or mark.due_kwh is None or not mark.exact:
        return
    assert state.settled_at is not None
    cursor = Reading(state.settled_at, state.settled_kwh)
    probe = state.settled_at + MS
    levels = bus.levels_minor(meter_ctx.tariff.currency, meter_ctx.unit)  # type: ignore[union-attr]
    need = state.balance_minor - max(level for level in levels if level < state.balance_minor)

    def charge(kwh: Decimal) -> int:
        return settle_due._charge(bus, meter_ctx, cursor, state, Reading(probe, kwh))

    assert charge(mark.due_kwh) >= need
    if mark.due_kwh > state.settled_kwh:
        assert charge(mark.due_kwh - Decimal("0.001")) < need


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tariff=tou_tariffs(),
    extra=rules(),
    tz=st.sampled_from(ZONES),
    thresholds=st.lists(st.integers(0, 200_000), min_size=1, max_size=2),
    period_h=st.sampled_from([3, 6, 8, 12, 24]),
    cursor_min=st.integers(0, 60 * 24 * 2),
    balance=st.integers(0, 300_000),
    past=st.lists(st.integers(0, 24 * 3600 * 1000), min_size=1, max_size=3),
    kwh_steps=st.lists(st.integers(0, 60_000), min_size=1, max_size=3),
)
def test_past_the_band_edge_the_bound_calls_nothing_due_not_due(
    tariff: dict[str, Any],
    extra: dict[str, Any],
    tz: str,
    thresholds: list[int],
    period_h: int,
    cursor_min: int,
    balance: int,
    past: list[int],
    kwh_steps: list[int],
) -> None:
    # GIVEN a time-of-use meter whose mark holds until a band edge inside its period
    bus = bus_with({**tariff, **extra}, thresholds, 0, tz=tz, moved_in="2026-10-30")
    meter_ctx = bus.meters["m1"]
    settler = Settler(mock.Mock(), mock.Mock(), period_h=period_h)
    cursor_at = START + timedelta(minutes=cursor_min, milliseconds=cursor_min % 7)
    state = opening_state(cursor_at, balance)
    marked = settler.with_due_mark(bus, meter_ctx, state)
    if marked.due is None or marked.due.until is None:
        event("no edge in the period")
        return
    edge = marked.due.until
    end = period_bounds(cursor_at, period_h, tz).end
    # WHEN a reading passes the edge (at it, or later in the period)
    first = min(edge + MS * past[0], end - MS)
    bounded = settler.with_due_mark(bus, meter_ctx, marked, first)
    bound = bounded.due
    # THEN the mark becomes the period's bound, for the same cursor and balance
    assert bound is not None and bound.until is None and bound.basis == marked.due.basis
    event(f"bound exact={bound.exact} none={bound.due_kwh is None}")
    # AND at any time in the rest of the period, a reading it (or the steady check) calls
    # not due is one the full path finds nothing due for, and it decides as the full path
    plain = replace(state, due=None)
    stored = encode_meter(bounded)
    kwh_values = [Decimal(1_000_000 + milli) / 1000 for milli in kwh_steps]
    if bound.due_kwh is not None:
        kwh_values += [bound.due_kwh, bound.due_kwh - Decimal("0.001")]
    times = [edge, first, end - MS, *(min(edge + MS * offset, end - MS) for offset in past)]
    answers = decided_as_full_path(settler, bus, plain, bounded, stored, times, kwh_values)
    for reading, full in answers:
        value = reading.cumulative_kwh
        if bound.due_kwh is not None and state.settled_kwh <= value < bound.due_kwh:
            assert not full, (reading, bound)  # (a reading below the cursor is due)


def test_the_fleet_benchs_tou_meter_is_steady_again_past_the_band_edge() -> None:
    # GIVEN the fleet bench's time-of-use meter (off until 09:00, peak after, Taipei) with
    # its cursor at 08:00 in the 06:00-12:00 period, marked until 09:00
    bus, settler, state = fleet_tou_meter()
    meter_ctx = bus.meters["m1"]
    marked = settler.with_due_mark(bus, meter_ctx, state)
    edge = FLEET_EDGE
    assert marked.due is not None and marked.due.until == edge
    # WHEN the first reading past the edge arrives
    reading = Reading(edge + timedelta(seconds=30), Decimal("1010.000"))
    bounded = settler.with_due_mark(bus, meter_ctx, marked, reading.at)
    # THEN its mark holds to the period's end: the bound of 49,500.00 TWD over both bands
    # (2.10 + 6.20 TWD a kWh, each band line rounded to the cent: 5,963.855 kWh)
    assert bounded.due == DueMark(Decimal("6963.855"), marked.due.basis, exact=False)
    # AND that reading and the later ones are steady and decided without pricing
    stored = encode_meter(bounded)
    with mock.patch.object(settler_module, "_plan", side_effect=AssertionError("priced")):
        for minutes in (0, 60, 179):
            at = reading.at + timedelta(minutes=minutes)
            assert settler.steady(bus, meter_ctx, stored, at, reading.cumulative_kwh)
            assert not settler.due(bus, meter_ctx, bounded, Reading(at, Decimal("1010.000")))
            # a reading with the bound worked out stays as it is (no state to write)
            assert settler.with_due_mark(bus, meter_ctx, bounded, at) is bounded
