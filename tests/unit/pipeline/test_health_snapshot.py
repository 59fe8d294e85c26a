"""The counters a closing message leaves on its bucket (pipeline/health.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.pipeline.health import health_snapshot
from chalicelib.pipeline.telemetry import MeterRow, Telemetry

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _row(meter_id: str, dg: tuple[int | None, ...] | None) -> MeterRow:
    return MeterRow(meter_id, AT, None, None, None, None, "timeout", 1, diagnostics=dg)


def test_only_the_bus_meters_that_sent_counters_are_kept() -> None:
    message = Telemetry(
        "thing", "0" * 16, 7, AT, AT,
        (_row("a", (1, 0, 0, None, 1)), _row("b", None), _row("foreign", (9, 9, 9, 9, 9))),
    )  # fmt: skip
    assert health_snapshot(message, {"a", "b"}) == {
        "t": int(AT.timestamp() * 1000),
        "m": {"a": [1, 0, 0, None, 1]},
    }
    # a message with no counters for the bus leaves nothing, not zeros
    assert health_snapshot(message, {"b"}) is None
