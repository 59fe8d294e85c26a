"""Every telemetry message leaves one JSON log line with its outcome under a correlation id
(gateway/spool/seq), and EMF counts of readings accepted, held and dead-lettered."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from chalicelib import observability
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from tests.log_lines import app_log_lines

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional


@pytest.fixture
def measured() -> Iterator[dict[str, float]]:
    """What the invocations measured, by metric name (cleared before and after)."""
    observability.metrics.clear_metrics()
    totals: dict[str, float] = {}
    yield totals
    observability.metrics.clear_metrics()


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """The app logger's JSON lines."""
    with app_log_lines() as buffer:
        yield buffer


def _totals() -> dict[str, float]:
    return {
        name: sum(entry["Value"]) if isinstance(entry["Value"], list) else entry["Value"]
        for name, entry in observability.metrics.metric_set.items()
    }


def _lines(out: str) -> list[dict[str, Any]]:
    found = []
    for line in out.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if str(record.get("message", "")).startswith("telemetry "):
                found.append(record)
    return found


def test_each_message_logs_its_outcome_and_counts_its_readings(
    pipeline: Container, measured: dict[str, float], logged: io.StringIO
) -> None:
    bus: Bus = make_bus(
        pipeline.ledger,
        [MeterSpec("m-o", "u-o", FLAT_TWD), MeterSpec("m-p", "u-p", FLAT_TWD)],
    )
    good = event(bus, 1, T0 + minutes(1), {"m-o": "100.100", "m-p": "200.100"})
    # GIVEN a good cycle, a cycle with one +50 kWh glitch, the good one again (QoS 1),
    # one from a thing nobody registered, and one naming a meter of no bus
    handlers.ingest_telemetry(good)
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-o": "150.100", "m-p": "200.110"}))
    handlers.ingest_telemetry(good)
    nobody = replace(bus, thing_name="pl-nobody")
    handlers.ingest_telemetry(event(nobody, 3, T0 + minutes(3), {"m-o": "1.000"}))
    stray = {"i": "m-stray", "dt": 100, "ie": "1.000", "xe": "0.000", "r": 1}
    handlers.ingest_telemetry(
        event(bus, 4, T0 + minutes(4), {"m-o": "100.120"}, extra_meters=[stray])
    )
    # THEN each message has one line, as JSON, with its outcome and its own correlation id
    lines = _lines(logged.getvalue())
    assert [(r["outcome"], r["accepted"], r["held"], r["dead_lettered"]) for r in lines] == [
        ("stored", 2, 0, 0),
        ("stored", 1, 1, 0),
        ("duplicate", 0, 0, 0),
        ("dead_letter", 0, 0, 1),
        ("stored", 1, 0, 1),
    ]
    ids = [r["correlation_id"] for r in lines]
    assert ids[0] == ids[2] == f"{bus.thing_name}/{bus.spool_id}/1"
    assert ids[3] == f"pl-nobody/{bus.spool_id}/3"
    assert lines[3]["reason"] == "no gateway registered for thing pl-nobody"
    assert all(r["level"] == "INFO" and r["service"] == "powerlet" for r in lines)
    # AND says, in a sentence a person reads in a local run's log, which bus and cycle
    first_at = (T0 + minutes(1)).isoformat()
    assert (lines[0]["gateway"], lines[0]["cycle_at"]) == (bus.gateway_id, first_at)
    assert lines[0]["message"].startswith(
        f"telemetry {bus.gateway_id} {first_at} stored: 2 readings"
    )
    assert "1 held for review" in lines[1]["message"]
    assert lines[3]["message"].endswith("reason: no gateway registered for thing pl-nobody")
    assert all(isinstance(r["charged_minor"], int) for r in lines)
    # AND the metrics count readings by outcome (flushed as EMF by the app's middleware)
    assert _totals() == {
        "ReadingsAccepted": 4,
        "ReadingsHeld": 1,
        "ReadingsDeadLettered": 2,
        "MessagesDuplicate": 1,
    }


def test_a_message_that_cannot_be_parsed_has_no_stale_correlation_id(
    pipeline: Container, measured: dict[str, float], logged: io.StringIO
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-q", "u-q", FLAT_TWD)])
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-q": "100.100"}))
    handlers.ingest_telemetry({"raw": "not base64!", "thing_name": bus.thing_name})
    first, broken = _lines(logged.getvalue())
    assert first["correlation_id"].endswith("/1")
    assert broken["outcome"] == "dead_letter"
    assert broken.get("correlation_id") is None


def test_the_line_says_how_much_money_the_message_moved(
    pipeline: Container, measured: dict[str, float], logged: io.StringIO
) -> None:
    # GIVEN a prepaid meter read an hour apart (a settlement block ends between)
    bus = make_bus(pipeline.ledger, [MeterSpec("m-r", "u-r", FLAT_TWD)])
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-r": "100.100"}))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(61), {"m-r": "101.100"}))
    # THEN some line charged the meter, in the bus's currency, and says so in words
    charged = [r for r in _lines(logged.getvalue()) if r["charged_minor"]]
    assert charged, _lines(logged.getvalue())
    assert all(r["currency"] == "TWD" and r["charged_minor"] > 0 for r in charged)
    assert sum(r["charged_minor"] for r in charged) == 550  # 1.1 kWh at NT$5.00
    said = re.compile(r"stored: 1 readings?, charged \d+\.\d\d TWD on 1 meter(,|$)")
    assert all(said.search(r["message"]) for r in charged), charged
