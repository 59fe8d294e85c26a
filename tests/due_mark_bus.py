"""A one-meter prepaid bus for the due-mark tests (tests/unit/pipeline: the mark on any
tariff, the time-of-use mark until its band edge, the quoted mark and the bound past the
edge), its opening state, and the check that a marked state decides as the full path."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from unittest import mock

from hypothesis import strategies as st

from chalicelib.data import builders
from chalicelib.data.control_state import MeterControlState
from chalicelib.domain import Reading
from chalicelib.domain.tariff_versions import parse_timeline
from chalicelib.pipeline.context import BusContext, MeterContext, cycle_of_unit, in_force
from chalicelib.pipeline.settler import Settler
from local_aws import tariff_documents as td

OPENED = datetime(2026, 11, 1, tzinfo=UTC)
# New York leaves summer time at 06:00 UTC on 1 November 2026: cursors from 05:00 UTC on
ZONES = ["Asia/Taipei", "America/New_York", "Asia/Kolkata"]
MS = timedelta(milliseconds=1)
RATES = st.integers(1, 2_000).map(lambda c: f"{c // 100}.{c % 100:02d}")


@st.composite
def tou_tariffs(draw: st.DrawFn) -> dict[str, Any]:
    """Every day the same windows: cut at 2-8 minutes of the day, each window a band
    (two neighbours may share one: one component, no edge between them)."""
    cuts = sorted(draw(st.sets(st.integers(1, 24 * 60 - 1), min_size=2, max_size=8)))
    edges = [0, *cuts, 24 * 60]
    band = draw(st.sampled_from(["peak", "off"]))
    windows = []
    for a, b in pairwise(edges):
        windows.append((f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}", band))
        if draw(st.sampled_from([True, True, True, False])):  # mostly an edge between
            band = "off" if band == "peak" else "peak"
    return td.tou_every_day("tou", windows, peak=draw(RATES), off=draw(RATES))


def bus_with(
    tariff: dict[str, Any],
    thresholds: list[int],
    allowance: int,
    *,
    tz: str = "Asia/Taipei",
    moved_in: str = "2026-11-01",
) -> BusContext:
    """Meter m1 on prepaid unit u1 (account a1, tenancy t1 from ``moved_in``) on
    ``tariff``, in a property in ``tz`` with ``allowance`` of emergency credit; the
    company's low-credit levels are ``thresholds``."""
    co = "co"
    premises = builders.taipei_property(co, time_zone=tz, emergency_credit_minor=allowance)
    unit = builders.unit(
        co,
        "u1",
        "p1",
        name="u1",
        unit_type="flat",
        billing_mode="prepaid",
        tariff=tariff,
        meter_id="m1",
        account_id="a1",
        tenancy_id="t1",
    )
    tenancy = builders.tenancy(
        co, "t1", "u1", "sub", moved_in, account_id="a1", opening_kwh="1000.000"
    )
    timeline = parse_timeline(tariff)
    ctx = MeterContext(
        builders.meter(co, "m1", "gw", 1, unit_id="u1"),
        unit,
        tenancy,
        in_force(timeline, OPENED.date()),
        timeline,
        cycle_of_unit(unit, premises),
    )
    return BusContext(
        gateway=builders.gateway(co, "gw", "pl-co_gw", property_id="p1"),
        premises=premises,
        company=builders.company(co, "Co", OPENED, low_credit_thresholds_minor=thresholds),
        meters={"m1": ctx},
    )


def opening_state(cursor_at: datetime, balance: int) -> MeterControlState:
    """Meter m1's state with its cursor at the tenancy's opening reading (1,000 kWh)."""
    return MeterControlState(
        account_id="a1",
        balance_minor=balance,
        settled_kwh=Decimal("1000.000"),
        settled_at=cursor_at,
        never_settled=True,
    )


def decided_as_full_path(
    settler: Settler,
    bus: BusContext,
    plain: MeterControlState,
    marked: MeterControlState,
    stored: Mapping[str, Any],
    times: Iterable[datetime],
    kwh_values: list[Decimal],
) -> list[tuple[Reading, bool]]:
    """Every reading of ``times`` x ``kwh_values``, with the full path's answer (``plain``:
    no mark, priced), after requiring the ``marked`` state (stored as ``stored``) to
    answer as it does and the steady check to pass nothing it finds due."""
    meter_ctx = bus.meters["m1"]
    answers = []
    for at in times:
        for value in kwh_values:
            reading = Reading(at, value)
            full = settler.due(bus, meter_ctx, plain, reading)
            assert settler.due(bus, meter_ctx, marked, reading) == full, (reading, marked.due)
            if settler.steady(bus, meter_ctx, stored, at, value):
                assert not full, (reading, marked.due)
            answers.append((reading, full))
    return answers


# The fleet bench's time-of-use tariff (bench/pipeline_ingest.py): off until 09:00, peak
# after, every day
FLEET_TOU = td.tou_every_day("tou", [("00:00", "09:00", "off"), ("09:00", "24:00", "peak")])
# 09:00 in Taipei on the fleet bench's day
FLEET_EDGE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def fleet_tou_meter() -> tuple[BusContext, Settler, MeterControlState]:
    """The fleet bench's time-of-use meter in Taipei, far from its levels (50,000 and
    10,000 of a 5,000,000 balance), its cursor at 08:00 in the 06:00-12:00 period (whose
    09:00 band edge it crosses), and a settler of 6-hour periods."""
    bus = bus_with(FLEET_TOU, [50_000, 10_000], 0, moved_in="2026-10-30")
    settler = Settler(mock.Mock(), mock.Mock(), period_h=6)
    state = MeterControlState(
        account_id="a1",
        balance_minor=5_000_000,
        settled_kwh=Decimal("1000.000"),
        settled_at=datetime(2026, 11, 20, 0, 0, tzinfo=UTC),  # 08:00 in Taipei
    )
    return bus, settler, state
