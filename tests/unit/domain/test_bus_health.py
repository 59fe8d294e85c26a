"""Bus health from the gateway's cumulative counters (domain/bus_health.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.bus_health import (
    COUNTERS,
    InvalidDiagnosticsError,
    Snapshot,
    slots,
    summarise,
)

T0 = datetime(2026, 11, 20, tzinfo=UTC)
QUARTER = timedelta(minutes=15)

counts = st.integers(min_value=0, max_value=10_000)
dg_lists = st.lists(
    st.tuples(counts, counts, counts, st.none() | counts, counts, counts, counts),
    min_size=2,
    max_size=120,
)


def _snapshots(rows: list[tuple[int | None, ...]]) -> list[Snapshot]:
    return [Snapshot.from_dg(T0 + QUARTER * i, list(row)) for i, row in enumerate(rows)]


def _cumulative(steps: list[tuple[int, ...]]) -> list[tuple[int | None, ...]]:
    """Counters that only grow: running sums of the steps (latency 50, none in a row)."""
    total = [0] * 5
    rows: list[tuple[int | None, ...]] = []
    for step in steps:
        total = [t + s for t, s in zip(total, step, strict=True)]
        rows.append((total[0], total[1], total[2], 50, 0, total[3], total[4]))
    return rows


@given(st.lists(st.tuples(counts, counts, counts, counts, counts), min_size=2, max_size=100))
def test_without_a_restart_the_slots_add_up_to_the_counters_advance(
    steps: list[tuple[int, ...]],
) -> None:
    # GIVEN counters that only grow, one snapshot per bucket
    snapshots = _snapshots(_cumulative(steps))
    found = slots(snapshots)
    # THEN one slot per pair, none restarted, and each counter's slots telescope
    assert len(found) == len(snapshots) - 1
    assert not any(s.restarted for s in found)
    first, last = snapshots[0], snapshots[-1]
    for name in COUNTERS:
        total = sum(getattr(s, name) for s in found)
        assert total == last.counter(name) - first.counter(name)  # type: ignore[operator]


@given(dg_lists)
def test_slots_are_never_negative_and_a_restart_is_a_counter_going_down(
    rows: list[tuple[int | None, ...]],
) -> None:
    snapshots = _snapshots(rows)
    for before, after, slot in zip(snapshots, snapshots[1:], slots(snapshots), strict=False):
        went_down = any(
            after.counter(n) < before.counter(n)  # type: ignore[operator]
            for n in COUNTERS
        )
        assert slot.restarted == went_down
        for name in COUNTERS:
            value = getattr(slot, name)
            assert value >= 0
            # a restart takes the new value whole: the gateway counted from zero
            expected = (
                after.counter(name)
                if went_down
                else (
                    after.counter(name) - before.counter(name)  # type: ignore[operator]
                )
            )
            assert value == expected


@given(dg_lists)
def test_the_hours_hold_every_failure_of_the_day(rows: list[tuple[int | None, ...]]) -> None:
    found = slots(_snapshots(rows))
    end = T0 + QUARTER * (len(rows) - 1)
    summary = summarise(found, end)
    inside = [s for s in found if end - timedelta(hours=24) < s.end <= end]
    assert len(summary.failures_per_hour) == 24
    assert sum(v or 0 for v in summary.failures_per_hour) == summary.failures
    assert summary.failures == sum(s.failures for s in inside)
    # an hour no slot ends in has no data, not zero failures
    assert summary.failures_per_hour.count(None) == 24 - len(
        {(s.end - summary.start - timedelta(microseconds=1)) // timedelta(hours=1) for s in inside}
    )


def test_a_restart_mid_day_and_the_figures_of_a_day() -> None:
    # GIVEN four snapshots an hour apart: 3 time-outs, then a restart (counters from zero)
    rows = [
        [10, 0, 1, 40, 0, 2, 0],
        [13, 0, 1, 45, 0, 2, 0],
        [1, 1, 0, 60, 0, 0, 1],
        [1, 1, 0, 30, 0, 0, 1],
    ]
    snapshots = [Snapshot.from_dg(T0 + timedelta(hours=i), r) for i, r in enumerate(rows)]
    summary = summarise(slots(snapshots), T0 + timedelta(hours=3))
    assert (summary.timeouts, summary.crc, summary.exceptions) == (4, 1, 0)
    assert (summary.connection_failures, summary.backwards, summary.restarts) == (0, 1, 1)
    assert (summary.latency_median_ms, summary.latency_max_ms) == (45, 60)
    assert summary.failures_per_hour[-3:] == (3, 2, 0)
    assert summary.failures_per_hour[:-3] == (None,) * 21
    assert summary.covered == timedelta(hours=3)


def test_an_older_gateways_five_counters_leave_the_new_ones_unknown() -> None:
    old = [
        Snapshot.from_dg(T0, [1, 0, 0, None, 0]),
        Snapshot.from_dg(T0 + QUARTER, [2, 0, 0, 9, 0]),
    ]
    [slot] = slots(old)
    assert (slot.timeouts, slot.connection_failures, slot.backwards) == (1, None, None)
    summary = summarise([slot], T0 + QUARTER)
    assert summary.connection_failures is None and summary.backwards is None


@pytest.mark.parametrize(
    "dg", [[0, 0, 0, 0], [0] * 8, [-1, 0, 0, 0, 0], [0, 0, 0, "5", 0], [0, True, 0, 0, 0]]
)
def test_counters_that_are_not_counters_are_refused(dg: list[object]) -> None:
    with pytest.raises(InvalidDiagnosticsError):
        Snapshot.from_dg(T0, dg)
