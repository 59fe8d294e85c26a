"""The steady row told cheaply (``validation._plainly_good``) gets exactly what the full
path gives it: GIVEN any meter row and its previous cycle's row (missing, failed, held,
later, equal in time), any look-back, held run, vouched anchor, serial and proposal,
rating and receive time, WHEN ``ReadingValidator.check`` runs with the fast path and
again with it switched off, THEN both give the same rows, held items, alerts and
proposals, and every row the fast path passed is one the full path passes unchanged
(issue 19)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.data import builders, keys
from chalicelib.data.errors import NotFoundError
from chalicelib.data.models import GatewayCycle, HeldReading, Meter
from chalicelib.pipeline import validation
from chalicelib.pipeline.context import BusContext, MeterContext
from chalicelib.pipeline.serial_watch import SerialWatch
from chalicelib.pipeline.telemetry import MeterRow
from chalicelib.pipeline.validation import Checked, ReadingValidator

CYCLE = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
BASE = Decimal("1000.000")
PASSED = Counter[str]()  # rows the fast path passed, over the whole run


class Cycles:
    """The look-back: one older cycle with (or without) a usable row of the meter."""

    def __init__(self, older: list[GatewayCycle]) -> None:
        self.older = older

    def cycles_before(self, *args: Any, **kwargs: Any) -> list[GatewayCycle]:
        return self.older


class Held:
    def __init__(self, newest: HeldReading | None) -> None:
        self._newest = newest
        self.held: list[HeldReading] = []

    def newest(self, company_id: str, meter_id: str) -> HeldReading | None:
        return self._newest


class NoAccount:
    def get_account(self, company_id: str, account_id: str) -> Any:
        raise NotFoundError("no account")


class Serials:
    """The stored meter: the same values the container's copy has."""

    def __init__(self, stored: dict[str, Any]) -> None:
        self.stored = stored

    def fresh(self, company_id: str, meter_id: str) -> Meter:
        meter = builders.meter(company_id, meter_id, "gw", 1)
        meter.attribute_values.update(self.stored)
        return meter

    def first_seen(self, company_id: str, meter_id: str, serial: str) -> bool:
        return True


def cycle(at: datetime, rows: list[MeterRow]) -> GatewayCycle:
    return GatewayCycle(
        keys.company_pk("co"),
        "c",
        cycle_at_ms=int(at.timestamp() * 1000),
        rows=[r.compact(at) for r in rows],
    )


def row(
    at: datetime,
    wh: int | None,
    watts: int | None,
    error: str | None = None,
    quarantine: str | None = None,
    still_wh: int | None = None,
    serial: str | None = None,
) -> MeterRow:
    value = None if wh is None else BASE + Decimal(wh) / 1000
    power = None if watts is None else Decimal(watts)
    return MeterRow("m1", at, value, None, power, 1, error, 0, quarantine, still_wh, serial)


def bus(profile: str, override: str | None, meter_values: dict[str, Any]) -> BusContext:
    unit = builders.unit("co", "u1", "p1", name="u1", unit_type="flat", billing_mode="postpaid")
    if override is not None:
        unit.max_current_a = Decimal(override)
    meter = builders.meter("co", "m1", "gw", 1, unit_id="u1", profile=profile)
    meter.attribute_values.update(meter_values)
    return BusContext(
        gateway=builders.gateway("co", "gw", "pl-co_gw", property_id="p1"),
        premises=builders.taipei_property("co"),
        company=builders.company("co", "Co", CYCLE),
        meters={"m1": MeterContext(meter, unit, None, None)},
    )


class Message:
    def __init__(self, received_at: datetime) -> None:
        self.received_at = received_at
        self.cycle_at = CYCLE


def run(fast: bool, draw: dict[str, Any]) -> Checked:
    """One check, on its own bus and stores (a serial doubt changes the cached meter)."""
    context = bus(draw["profile"], draw["override"], dict(draw["meter"]))
    held = Held(draw["newest_hold"])
    validator = ReadingValidator(
        Cycles(draw["older"]),  # type: ignore[arg-type]
        held,  # type: ignore[arg-type]
        NoAccount(),  # type: ignore[arg-type]
        SerialWatch(Serials(dict(draw["stored_meter"]))),  # type: ignore[arg-type]
    )
    previous = [] if draw["prior"] is None else [cycle(draw["prior_cycle_at"], [draw["prior"]])]
    message = Message(draw["received_at"])
    if fast:
        real = validation._plainly_good

        def counted(*args: Any) -> bool:
            passed: bool = real(*args)
            PASSED[str(passed)] += 1
            return passed

        with mock.patch.object(validation, "_plainly_good", counted):
            return validator.check(context, message, [draw["row"]], previous)  # type: ignore[arg-type]
    with mock.patch.object(validation, "_plainly_good", lambda *args: False):
        return validator.check(context, message, [draw["row"]], previous)  # type: ignore[arg-type]


def comparable(checked: Checked) -> tuple[object, ...]:
    return (
        checked.rows,
        [h.attribute_values for h in checked.held],
        checked.alerts,
        [(p.known, p.document) for p in checked.proposals],
    )


WATTS = st.sampled_from([None, 0, 40, 60, 900, 2_000, 30_000])
SERIALS = st.sampled_from([None, None, None, "S1", "S2"])


@st.composite
def draws(draw: st.DrawFn) -> dict[str, Any]:
    row_at = CYCLE + timedelta(milliseconds=draw(st.sampled_from([0, 30, 900])))
    # mostly a running meter's steps; sometimes back, a spike, nothing, a failure
    step_wh = draw(
        st.one_of(
            st.sampled_from([0, 0, 1, 8, 21, 100, 1_000]),
            st.sampled_from([0, 0, 1, 8, 21, 100, 1_000]),
            st.integers(min_value=-50, max_value=60_000),
        )
    )
    prior_wh = draw(st.integers(min_value=0, max_value=5_000))
    gap = timedelta(seconds=draw(st.sampled_from([60, 60, 60, 10, 900, 1_000, 0, -30, 4_000])))
    prior_cycle_at = row_at - gap
    prior_kind = draw(st.sampled_from(["good"] * 6 + ["none", "error", "held", "serial_held"]))
    prior = None
    if prior_kind != "none":
        prior = row(
            prior_cycle_at,
            None if prior_kind == "error" else prior_wh,
            draw(WATTS),
            error="timeout" if prior_kind == "error" else None,
            quarantine={"held": "spike", "serial_held": "serial_changed"}.get(prior_kind),
            still_wh=draw(st.sampled_from([None, None, None, 3, 40])),
        )
    failed = draw(st.sampled_from([False] * 9 + [True]))
    this = row(
        row_at,
        None if failed else prior_wh + step_wh,
        draw(WATTS),
        error="timeout" if failed else None,
        still_wh=draw(st.sampled_from([None] * 9 + [5])),
        serial=draw(SERIALS),
    )
    known = draw(st.sampled_from(["S1", "S1", None]))
    proposal = draw(st.sampled_from([None] * 5 + ["pending"]))
    meter: dict[str, Any] = {"serial": known}
    if proposal:
        meter["serial_proposal"] = {
            "old_serial": "S1",
            "new_serial": "S2",
            "last_good": None,
            "first_new": {"at": (CYCLE - timedelta(hours=1)).isoformat(), "kwh": "1.000"},
            "proposed_at": CYCLE.isoformat(),
        }
    if draw(st.sampled_from([False] * 5 + [True])):
        vouched_at = row_at - timedelta(seconds=draw(st.sampled_from([30, 120, -60])))
        meter["anchors"] = [{"at": vouched_at.isoformat(), "kwh": str(BASE)}]
    older: list[GatewayCycle] = []
    if draw(st.booleans()):
        older_at = prior_cycle_at - timedelta(minutes=5)
        older = [cycle(older_at, [row(older_at, draw(st.integers(0, 5_000)), 100)])]
    newest_hold = None
    if draw(st.sampled_from([False] * 3 + [True])):
        anchor_at = row_at - timedelta(minutes=draw(st.sampled_from([2, 30])))
        newest_hold = HeldReading(
            keys.meter_data_pk("co", "m1"),
            keys.held_reading_sk(anchor_at),
            anchor_at=anchor_at,
            anchor_kwh=str(BASE),
            run=draw(st.sampled_from([1, 2, 5])),
        )
    return {
        "row": this,
        "prior": prior,
        "prior_cycle_at": prior_cycle_at,
        "received_at": row_at
        + timedelta(seconds=draw(st.sampled_from([2, 2, 2, 2, 2, 2, -599, -601, -700]))),
        "profile": draw(st.sampled_from(["dds238", "sdm120", "unknown"])),
        "override": draw(st.sampled_from([None, None, "5"])),
        "meter": meter,
        # a container's copy may be behind the stored meter (serial_watch.py)
        "stored_meter": draw(st.sampled_from([meter, {**meter, "serial": "S2"}])),
        "older": older,
        "newest_hold": newest_hold,
    }


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draws())
def test_the_fast_path_gives_what_the_full_path_gives(draw: dict[str, Any]) -> None:
    before = PASSED["True"]
    fast = run(True, draw)
    full = run(False, draw)
    passed = PASSED["True"] > before
    event(f"fast path passed it: {passed}")
    assert comparable(fast) == comparable(full)
    if passed:
        # only a row the full path passes unchanged
        assert full.rows == [draw["row"]] and not full.held and not full.proposals


def test_the_fast_path_takes_the_steady_rows_and_leaves_the_rest() -> None:
    """Not vacuous: a running meter's row is passed cheaply, a spike is not."""
    steady = {
        "row": row(CYCLE, 1_021, 1_200),
        "prior": row(CYCLE - timedelta(minutes=1), 1_000, 1_200),
        "prior_cycle_at": CYCLE - timedelta(minutes=1),
        "received_at": CYCLE + timedelta(seconds=2),
        "profile": "dds238",
        "override": None,
        "meter": {"serial": "S1"},
        "stored_meter": {"serial": "S1"},
        "older": [],
        "newest_hold": None,
    }
    PASSED.clear()
    assert run(True, steady).rows == [steady["row"]]
    assert PASSED == {"True": 1}
    spike = {**steady, "row": row(CYCLE, 60_000, 1_200)}
    checked = run(True, spike)
    assert PASSED == {"True": 1, "False": 1}
    assert checked.rows[0].quarantine == "spike"
