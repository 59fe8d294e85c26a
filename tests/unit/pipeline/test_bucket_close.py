"""A closing bucket's energy from ``BucketReads`` equals the old computation (the oracle
below: every window cycle decoded to rows and readings, then the base search), over
random cycles with gaps, late and duplicate cycles, held and failed readings, meters
missing, and reads whose time lies outside their cycle's bucket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.data.control_state import from_ms, ms
from chalicelib.data.models import GatewayCycle
from chalicelib.domain import Reading
from chalicelib.pipeline.bucket_close import (
    BASE_SEARCH_CYCLES,
    BASE_SEARCH_PAGE,
    BASE_SEARCH_SPAN,
    BucketReads,
    first_page,
)
from chalicelib.pipeline.buckets import BUCKET, bucket_energy, bucket_start, readings_by_meter
from chalicelib.pipeline.telemetry import rows_of

START = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
MINUTE_MS = 60_000
METERS = ("m1", "m2", "m3", "m4")
Cycle = tuple[int, list[list[Any]]]


def _gateway_cycle(cycle: Cycle) -> GatewayCycle:
    return cast(GatewayCycle, SimpleNamespace(cycle_at_ms=cycle[0], rows=cycle[1]))


def oracle(cycles: list[Cycle], start: datetime) -> tuple[dict[str, str], int]:
    """The computation ingest made before bucket_close.py (cycles oldest first)."""
    low, end = ms(start - BUCKET), ms(start + BUCKET)
    window = [_gateway_cycle(c) for c in cycles if low <= c[0] < end]
    readings = readings_by_meter(rows_of(c) for c in window)
    missing = {m for m, series in readings.items() if series[0].at >= start}
    if missing:
        older = [c for c in cycles if ms(start - BASE_SEARCH_SPAN) <= c[0] < low][::-1]
        for cycle in older[:BASE_SEARCH_CYCLES]:
            for meter_id, found in readings_by_meter([rows_of(_gateway_cycle(cycle))]).items():
                if meter_id in missing:
                    readings[meter_id].insert(0, found[-1])
                    missing.discard(meter_id)
            if not missing:
                break
    stored = sum(1 for c in window if bucket_start(from_ms(int(c.cycle_at_ms))) == start)
    return bucket_energy(readings, start), stored


def paged(cycles: list[Cycle], reads: BucketReads, pages: list[int]) -> Iterator[Cycle]:
    """``TelemetryStore.cycle_rows_back`` over a list: [start - span, end), newest first,
    a page at a time of ``reads.page_size()`` items, each page's size noted in ``pages``."""
    low, end = ms(reads.start - BASE_SEARCH_SPAN), ms(reads.start + BUCKET)
    found = [c for c in cycles if low <= c[0] < end][::-1]
    while True:
        size = reads.page_size()
        pages.append(size)
        page, found = found[:size], found[size:]
        yield from page
        if not found:
            return


def energy(cycles: list[Cycle], start: datetime, page: int) -> tuple[dict[str, str], int, int]:
    pages: list[int] = []
    reads = BucketReads(start, page)
    reads.read(paged(cycles, reads, pages))
    # the readings it kept give the same energy through the old function too
    assert bucket_energy(reads.readings(), start) == reads.energy()
    return reads.energy(), reads.stored, len(pages)


def _kwh(n: int) -> str:
    return f"{n / 1000:.3f}"


# Coarse times and few values, so that readings tie (two cycles at one instant, a read
# at the time of another cycle's), registers repeat and go back, and reads cross edges.
rows = st.lists(
    st.tuples(
        st.sampled_from(METERS),
        st.sampled_from([0, 0, 0, 30_000, 15 * MINUTE_MS, 40 * MINUTE_MS]),
        st.one_of(st.none(), st.integers(1_000, 1_006)),
        st.sampled_from([None, None, None, "", "timeout"]),
        st.sampled_from([None, None, None, "frozen"]),
        st.sampled_from([None, 7]),
    ),
    max_size=5,  # a meter twice in one cycle too: no stored cycle has it, the old code took it
)


def _compact(row: tuple[str, int, int | None, str | None, str | None, int | None]) -> list[Any]:
    meter, dt, imported, error, held, still = row
    compact: list[Any] = [meter, dt, None if imported is None else _kwh(imported), None, "12"]
    compact += [1, error]
    if still:
        return [*compact, held, still]
    return compact if held is None else [*compact, held]


cycle_times = st.one_of(
    st.integers(-90, 29).map(lambda n: n * 30_000),  # the window and just below it
    st.integers(-26 * 120, -90).map(lambda n: n * 30_000),  # the base search, and beyond
    st.sampled_from([-15 * MINUTE_MS - 1, 15 * MINUTE_MS - 1, -1]),  # a ms off the edges
)
history = st.lists(st.tuples(cycle_times, rows), max_size=40).map(
    lambda cs: sorted(
        # a stable sort on time alone keeps equal times (two spools) in the drawn order,
        # as their sort keys would
        [(ms(START) + t, [_compact(r) for r in rs]) for t, rs in cs],
        key=lambda c: c[0],
    )
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cycles=history, page=st.integers(1, 40))
def test_bucket_energy_and_count_equal_the_old_computation(cycles: list[Cycle], page: int) -> None:
    energies, stored, _ = energy(cycles, START, page)
    assert (energies, stored) == oracle(cycles, START)


def _steady(poll_s: int, meters: tuple[str, ...], start_min: int, end_min: int) -> list[Cycle]:
    return [
        (ms(START) + t, [_compact((m, 300, 100_000 + t // 6000, None, None, None)) for m in meters])
        for t in range(start_min * MINUTE_MS, end_min * MINUTE_MS, poll_s * 1000)
    ]


def test_a_steady_bucket_is_read_in_one_page_at_the_bus_s_pace() -> None:
    # GIVEN a bus polling every 60 s for the last hour
    cycles = _steady(60, METERS, -60, 15)
    # WHEN its bucket closes with the first page sized from that pace
    energies, stored, pages = energy(cycles, START, first_page(timedelta(seconds=60)))
    # THEN one page held the window, and the figures are the old ones
    assert pages == 1
    assert (energies, stored) == oracle(cycles, START)
    assert stored == 15 and energies["m1"] == "0.150"


def test_a_bus_whose_bucket_before_is_empty_finds_its_bases_in_the_same_page() -> None:
    # GIVEN a bus silent for the bucket before this one (and readings from long before)
    cycles = _steady(60, METERS, -300, -45) + _steady(60, METERS, 0, 15)
    # WHEN the bucket closes
    energies, stored, pages = energy(cycles, START, first_page(timedelta(seconds=60)))
    # THEN the gap's energy is in the bucket, from the reading before the gap
    assert (energies, stored) == oracle(cycles, START)
    assert energies["m1"] == _kwh((14 + 46) * 10)
    # AND the bases came with the window's page: no second Query
    assert pages == 1


def test_a_new_bus_s_first_bucket_is_one_page() -> None:
    # GIVEN a bus whose first cycles are in this bucket (nothing before them at all)
    cycles = _steady(60, METERS, 3, 5)
    energies, stored, pages = energy(cycles, START, first_page(timedelta(seconds=60)))
    # THEN the bucket holds the one interval between them, and one page said so
    assert (energies, stored) == oracle(cycles, START) == ({m: "0.010" for m in METERS}, 2)
    assert pages == 1


def test_a_meter_silent_for_long_pages_back_at_most_the_search_s_cap() -> None:
    # GIVEN a meter read in this bucket but not in the last 3 hours of its bus's cycles
    cycles = _steady(60, ("m1",), -300, -180) + _steady(60, ("m2",), -180, 0)
    cycles += _steady(60, ("m1", "m2"), 0, 15)
    energies, _, pages = energy(cycles, START, first_page(timedelta(seconds=60)))
    # THEN it gets no base (the search stops at BASE_SEARCH_CYCLES), as before
    assert energies == oracle(cycles, START)[0]
    assert energies["m1"] == _kwh(14 * 10)
    assert pages <= 2 + BASE_SEARCH_CYCLES // BASE_SEARCH_PAGE


def test_the_base_search_stops_after_its_cap_of_older_cycles() -> None:
    for between, found in ((BASE_SEARCH_CYCLES - 1, True), (BASE_SEARCH_CYCLES, False)):
        # GIVEN a meter whose last reading is in the Nth cycle below the window
        below = ms(START - BUCKET) - (between + 1) * MINUTE_MS
        cycles = [(below, [_compact(("m1", 0, 99_000, None, None, None))])]
        cycles += _steady(60, ("m2",), -15 - between, -15) + _steady(60, ("m1", "m2"), 0, 15)
        energies = energy(cycles, START, first_page(timedelta(seconds=60)))[0]
        # THEN its base is found in the 120th, and not in the 121st, as before
        assert energies == oracle(cycles, START)[0]
        assert (energies["m1"] != _kwh(14 * 10)) is found


def test_the_first_page_follows_the_poll_and_is_bounded() -> None:
    assert first_page(timedelta(seconds=60)) == 32
    assert first_page(timedelta(seconds=10)) == 182
    assert first_page(None) == 182  # the recipe's default
    assert first_page(timedelta(milliseconds=3)) == first_page(timedelta(seconds=5)) == 362
    assert first_page(timedelta(hours=2)) == 3


def test_readings_keep_the_old_reading_values() -> None:
    # a held reading or a failed read is no base; the register's text is read exactly
    cycles = [
        (ms(START) - MINUTE_MS, [["m1", 0, "1000.001", None, None, None, None]]),
        (ms(START) - 1, [["m1", 0, "999.000", None, None, None, None, "frozen"]]),
        (ms(START), [["m1", 0, "1000.0014", None, None, None, None]]),
    ]
    reads = BucketReads(START, 8).read(iter(cycles[::-1]))
    assert reads.readings()["m1"] == [
        Reading(START - timedelta(minutes=1), Decimal("1000.001")),
        Reading(START, Decimal("1000.0014")),
    ]
    assert reads.energy() == oracle(cycles, START)[0] == {"m1": "0.000"}
