"""Which marked conditions a message clears (pipeline/open_conditions.py), in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.pipeline.open_conditions import OpenCondition, cleared_conditions, parse_mark
from chalicelib.pipeline.telemetry import MeterRow

T = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def row(meter_id: str, at: datetime, error: str | None = None) -> MeterRow:
    return MeterRow(meter_id, at, None, None, None, None, error, 3 if error else 0)


def test_a_mark_round_trips_and_foreign_marks_are_ignored() -> None:
    condition = OpenCondition("meter_offline", "meter:m|1", T)
    assert parse_mark(condition.mark) == condition
    assert parse_mark("low_credit|unit:u|1") is None
    assert parse_mark("meter_offline|meter:m|soon") is None


def test_a_meter_is_cleared_by_its_own_answer_after_it_fell_silent_only() -> None:
    silent = OpenCondition("meter_offline", "meter:m-1", T)
    gateway = OpenCondition("gateway_offline", "gateway:gw", T)
    marks = [silent.mark, gateway.mark]
    later = T + timedelta(minutes=1)
    # nothing marked: nothing looked at
    assert cleared_conditions([], [row("m-1", later)], later) == []
    # another meter's answer, its own failure, or an answer from before: not cleared
    assert cleared_conditions([silent.mark], [row("m-2", later)], later) == []
    assert cleared_conditions([silent.mark], [row("m-1", later, "timeout")], later) == []
    assert cleared_conditions([silent.mark], [row("m-1", T - timedelta(minutes=1))], later) == []
    # its answer after it fell silent clears it; any message received clears the gateway
    assert cleared_conditions(marks, [row("m-1", later)], later) == [silent, gateway]
    assert cleared_conditions(marks, [], later) == [gateway]
