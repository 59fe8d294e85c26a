"""The steady case told from the stored state (``Ingest._steady``, ``Settler.steady``)
never skips a meter the full path would change: GIVEN any stored state of a meter (its
account, cursor, balance, due mark, desired state, manual override, flags) and any
reading, WHEN the fast check says steady, THEN the full planning path, run on the decoded
state, changes nothing, plans nothing and asks the ledger nothing (issue 19)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.data import builders
from chalicelib.data.bus_item import CatalogueParts, StoredParts, pack
from chalicelib.data.control_state import (
    CANONICAL_KWH_TEXT,
    KWH_TEXT,
    BusControlState,
    MeterControlState,
    decode_meter,
    encode_meter,
    stored_meters,
)
from chalicelib.pipeline import settler as settler_module
from chalicelib.pipeline.context import (
    BusContext,
    assemble,
    assemble_stored,
    steady_record,
)
from chalicelib.pipeline.control import Controller
from chalicelib.pipeline.ingest import Ingest
from chalicelib.pipeline.settler import Settler
from chalicelib.pipeline.telemetry import MeterRow
from local_aws import tariff_documents as td

OPENED = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)  # 11:30 in Taipei: a 6 h period 06:00-12:00
TARIFFS = {
    "flat": td.flat("flat", "5.00"),
    "tiered": td.tiered_all_year("tiered", [("120", "1.68"), (None, "3.33")]),
    "tou": td.tou_every_day("tou", [("00:00", "09:00", "off"), ("09:00", "24:00", "peak")]),
}


class NoLedger:
    """The steady case asks the ledger nothing: any call fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the ledger was asked ({name}) for a steady meter")


@dataclass(frozen=True)
class Message:
    received_at: datetime
    cycle_at: datetime


def bus_with(tariff: dict[str, Any], prepaid: bool) -> BusContext:
    co = "co"
    premises = builders.taipei_property(
        co,
        emergency_credit_minor=500,
    )
    unit = builders.unit(
        co,
        "u1",
        "p1",
        name="u1",
        unit_type="flat",
        billing_mode="prepaid" if prepaid else "postpaid",
        tariff=tariff,
        meter_id="m1",
        account_id="a1",
        tenancy_id="t1",
    )
    tenancy = builders.tenancy(
        co, "t1", "u1", "sub", "2026-11-01", account_id="a1", opening_kwh="1000.000"
    )
    return assemble(
        CatalogueParts(
            gateway=builders.gateway(co, "gw", "pl-co_gw", property_id="p1"),
            premises=premises,
            company=builders.company(co, "Co", OPENED, low_credit_thresholds_minor=[50000, 10000]),
            meters=[builders.meter(co, "m1", "gw", 1, unit_id="u1")],
            units={"u1": unit},
            tenancies={"t1": tenancy},
        ),
        OPENED.date(),
    )


def stored_bus(bus: BusContext) -> BusContext:
    """The bus as a steady message builds it: from the steady record on the bus item."""
    meter_ctx = bus.meters["m1"]
    assert meter_ctx.unit is not None and meter_ctx.tenancy is not None
    parts = CatalogueParts(
        gateway=bus.gateway,
        premises=bus.premises,
        company=bus.company,
        meters=[meter_ctx.meter],
        units={"u1": meter_ctx.unit},
        tenancies={"t1": meter_ctx.tenancy},
    )
    day = OPENED.date()
    read = StoredParts(pack(parts, steady_record(assemble(parts, day), parts, day)))
    built = assemble_stored(read, day, read.whole)
    assert built is not None
    return built


def ingest(settler: Settler) -> Ingest:
    planner = Ingest.__new__(Ingest)  # _plan's collaborators only: no table is touched
    planner._settler = settler
    planner._controller = Controller(None, None, None)  # type: ignore[arg-type]
    planner._telemetry = None  # type: ignore[assignment]
    return planner


def row(at: datetime, kwh: Decimal | None, watts: int | None) -> MeterRow:
    return MeterRow("m1", at, kwh, None, None if watts is None else Decimal(watts), 1, None, 0)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tariff=st.sampled_from(sorted(TARIFFS)),
    prepaid=st.booleans(),
    balance=st.sampled_from([5_000_000, 50_001, 50_000, 10_200, 300, 0, -499, -600]),
    cursor_before_s=st.integers(min_value=-120, max_value=8 * 3600),
    cursor_ms=st.integers(min_value=0, max_value=999),  # a float round trip may move it
    used_wh=st.integers(min_value=-2_000, max_value=400_000),
    # each drawn mostly as a running bus has it, so the steady case is met often
    mark=st.sampled_from(["worked out"] * 5 + ["stale", "none", "inexact"]),
    desired=st.sampled_from([True] * 5 + [False]),
    reason=st.sampled_from(["credit_ok"] * 4 + ["friendly_hours", "credit_exhausted"]),
    manual=st.sampled_from([None] * 6 + ["on", "off"]),
    account=st.sampled_from(["a1"] * 5 + ["a-other", None]),
    flagged=st.sampled_from([False] * 4 + [True]),
    watts=st.sampled_from([None, 0, 120, 120, -5]),
    closed=st.sampled_from([False] * 5 + [True]),
)
def test_a_meter_told_steady_is_one_the_full_path_leaves_alone(
    tariff: str,
    prepaid: bool,
    balance: int,
    cursor_before_s: int,
    cursor_ms: int,
    used_wh: int,
    mark: str,
    desired: bool,
    reason: str,
    manual: str | None,
    account: str | None,
    flagged: bool,
    watts: int | None,
    closed: bool,
) -> None:
    bus = bus_with(TARIFFS[tariff], prepaid)
    meter_ctx = bus.meters["m1"]
    settler = Settler(NoLedger(), NoLedger(), 6)  # type: ignore[arg-type]
    cursor_at = NOW - timedelta(seconds=cursor_before_s, milliseconds=cursor_ms)
    state = MeterControlState(
        account_id=account,
        balance_minor=balance,
        settled_kwh=Decimal("1000.000"),
        settled_at=cursor_at if account else None,
        closed=closed,
        flags=frozenset({"rev"}) if flagged else frozenset(),
        manual=manual,  # type: ignore[arg-type]
        manual_until=NOW - timedelta(minutes=1) if manual == "on" else None,
    )
    if state.settled_at is not None and meter_ctx.tariff is not None and not closed:
        state = settler.with_due_mark(bus, meter_ctx, state)  # as the last message left it
        if mark == "stale" and state.due is not None:
            state = replace(state, due=replace(state.due, basis="x" + state.due.basis))
        elif mark == "none":
            state = replace(state, due=None)
        elif mark == "inexact" and state.due is not None and state.due.due_kwh is not None:
            state = replace(state, due=replace(state.due, exact=False))
    if desired:
        state = replace(state, power="on", reason=reason, command_id="c1")
    stored = encode_meter(state)
    reading = row(NOW, Decimal("1000.000") + Decimal(used_wh) / 1000, watts)
    planner = ingest(settler)

    steady = planner._steady(bus, meter_ctx, reading, stored, NOW)
    event(f"steady: {steady}")
    # the context a steady message builds from the bus item's record decides the same
    from_record = stored_bus(bus)
    assert planner._steady(from_record, from_record.meters["m1"], reading, stored, NOW) == steady

    if steady:
        read = BusControlState("co", "gw", 3, {"m1": decode_meter(stored)})
        planned = planner._plan(bus, Message(NOW, NOW), [reading], read)  # type: ignore[arg-type]
        assert planned.state == read
        assert planned.effects == () and planned.settlement_alerts == ()
        assert not planned.answer.settled and not planned.answer.commands


def test_the_running_fleets_meter_is_steady_and_decoded_by_nobody() -> None:
    # GIVEN a prepaid meter as a running bus leaves it: cursor a minute ago, its mark
    # worked out, its desired state written
    bus = bus_with(TARIFFS["flat"], prepaid=True)
    meter_ctx = bus.meters["m1"]
    settler = Settler(NoLedger(), NoLedger(), 6)  # type: ignore[arg-type]
    state = MeterControlState(
        account_id="a1",
        balance_minor=5_000_000,
        settled_kwh=Decimal("1000.000"),
        settled_at=NOW - timedelta(minutes=1),
    )
    state = settler.with_due_mark(bus, meter_ctx, state)
    state = replace(state, power="on", reason="credit_ok", command_id="c1")
    read = BusControlState("co", "gw", 3, stored_meters({"m1": encode_meter(state)}))
    # WHEN its next reading is planned
    planned = ingest(settler)._plan(
        bus,
        Message(NOW, NOW),  # type: ignore[arg-type]
        [row(NOW, Decimal("1000.021"), 120)],
        read,
    )
    # THEN the state read is the plan, and the meter's record was never decoded
    assert planned.state is read
    assert read.meters._decoded == {}  # type: ignore[attr-defined]
    # AND a reading at the mark is not steady: the full path settles it
    assert state.due is not None and state.due.due_kwh is not None
    at_mark = row(NOW, state.due.due_kwh, 120)
    assert not ingest(settler)._steady(bus, meter_ctx, at_mark, encode_meter(state), NOW)


@given(
    text=st.one_of(
        st.text(alphabet="-0123456789.", max_size=14),
        st.decimals(-(10**9), 10**9, places=3, allow_nan=False).map(str),
        st.integers(0, 10**10).map(lambda n: f"{n:04d}.{n % 1000:03d}"),
    )
)
def test_a_remembered_kwh_text_reads_as_the_patterns_and_the_parser_read_it(text: str) -> None:
    # GIVEN any stored kWh text, WHEN the steady check reads it (remembered per container)
    canonical, value = settler_module._kwh_text(text)
    # THEN it is canonical and has the value exactly when the patterns and Decimal say so,
    # the first time and when remembered
    assert canonical == bool(CANONICAL_KWH_TEXT.fullmatch(text))
    assert value == (Decimal(text) if KWH_TEXT.fullmatch(text) else None)
    assert settler_module._kwh_text(text) == (canonical, value)
