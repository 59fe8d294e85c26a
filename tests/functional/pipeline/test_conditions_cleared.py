"""The sweep's alerts that telemetry clears (pipeline/open_conditions.py): a meter that
stopped answering and a connected gateway that stayed silent are resolved by the real
ingest when the meter answers again or the gateway speaks, and a steady bus pays no
request for it (issue 19's budget of 2 per message)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.data.bus_item import BusItems
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes
from .test_day_rollup import dynamodb_calls

pytestmark = pytest.mark.functional

STEADY_REQUESTS = 2  # the bus item with the newest cycle (Query), the cycle (PutItem)


def presence(bus: Bus, kind: str, at: datetime) -> dict[str, Any]:
    return {"clientId": bus.thing_name, "eventType": kind, "timestamp": int(at.timestamp() * 1000)}


def open_topics(pipeline: Container, bus: Bus) -> list[tuple[str, str]]:
    return sorted(
        (a.topic, a.subject_ref) for a in pipeline.notification_store.open_alerts(bus.company_id)
    )


def marks(bus: Bus) -> frozenset[str]:
    return BusItems().read(bus.company_id, bus.gateway_id).open_conditions


def ingest(bus: Bus, seq: int, at: datetime, readings: dict[str, str | None]) -> dict[str, int]:
    with dynamodb_calls() as calls:
        assert handlers.ingest_telemetry(event(bus, seq, at, readings))["status"] == "stored"
    return calls


def requests(calls: dict[str, int]) -> int:
    return sum(n for op, n in calls.items() if op[0].isupper())


def test_a_silent_meter_is_resolved_when_it_answers_again(pipeline: Container) -> None:
    # GIVEN a bus whose meter m-b answers, then times out three cycles in a row
    bus = make_bus(
        pipeline.ledger,
        [MeterSpec("m-a", "u-a", FLAT_TWD), MeterSpec("m-b", "u-b", FLAT_TWD, tenant=False)],
    )
    ingest(bus, 1, T0 + minutes(1), {"m-a": "100.010", "m-b": "50.000"})
    for seq in (2, 3, 4):
        failed = {"i": "m-b", "dt": 100, "er": "timeout", "dg": [seq - 1, 0, 0, None, seq - 1]}
        handlers.ingest_telemetry(
            event(
                bus,
                seq,
                T0 + minutes(seq),
                {"m-a": f"{100 + seq / 100:.3f}"},
                extra_meters=[failed],
            )
        )
    # AND the sweep tells staff
    assert pipeline.presence.sweep(now=T0 + minutes(5))["meters_silent"] == 1
    assert open_topics(pipeline, bus) == [("meter_offline", "meter:m-b")]
    assert len(marks(bus)) == 1
    # WHEN m-b still fails THEN its alert stays open, and the message costs what a steady
    # one does (the mark is read with the bus item, matched in memory)
    failed = {"i": "m-b", "dt": 100, "er": "timeout", "dg": [4, 0, 0, None, 4]}
    with dynamodb_calls() as calls:
        handlers.ingest_telemetry(
            event(bus, 5, T0 + minutes(6), {"m-a": "100.060"}, extra_meters=[failed])
        )
    assert requests(calls) == STEADY_REQUESTS, calls
    assert open_topics(pipeline, bus) == [("meter_offline", "meter:m-b")]
    # WHEN a late message from before it fell silent arrives (a spooled cycle) THEN
    # that is no sign of it answering now
    handlers.ingest_telemetry(
        event(
            bus,
            1,
            T0 + minutes(1) + timedelta(seconds=30),
            {"m-a": "100.015", "m-b": "50.000"},
            spool_id="spool-late",
        )
    )
    assert open_topics(pipeline, bus) == [("meter_offline", "meter:m-b")]
    # WHEN m-b answers again
    ingest(bus, 6, T0 + minutes(7), {"m-a": "100.070", "m-b": "50.010"})
    # THEN its alert is resolved, by the condition clearing, and the mark is gone
    assert open_topics(pipeline, bus) == []
    item = next(n for n in pipeline.notifier.outbox(bus.company_id) if n.topic == "meter_offline")
    assert (item.status, item.resolved_by) == ("resolved", "condition cleared")
    assert marks(bus) == frozenset()
    # AND the bus is back on the steady path: 2 requests a message
    calls = ingest(bus, 7, T0 + minutes(8), {"m-a": "100.080", "m-b": "50.020"})
    assert requests(calls) == STEADY_REQUESTS, calls


def test_a_connected_but_silent_gateway_is_resolved_by_its_telemetry(pipeline: Container) -> None:
    # GIVEN a gateway that connects and sends nothing past its deadline
    bus = make_bus(pipeline.ledger, [MeterSpec("m-c", "u-c", FLAT_TWD)])
    assert handlers.gateway_presence(presence(bus, "connected", T0))["status"] == "online"
    assert pipeline.presence.sweep(now=T0 + minutes(11))["gateways_silent"] == 1
    assert open_topics(pipeline, bus) == [("gateway_offline", f"gateway:{bus.gateway_id}")]
    # WHEN its first telemetry arrives, still connected (no presence event clears it)
    cleared = ingest(bus, 1, T0 + minutes(12), {"m-c": "100.000"})
    # THEN the alert is resolved and the mark gone: the resolve's requests are paid once
    assert open_topics(pipeline, bus) == []
    item = next(n for n in pipeline.notifier.outbox(bus.company_id) if n.topic == "gateway_offline")
    assert (item.status, item.resolved_by) == ("resolved", "condition cleared")
    assert marks(bus) == frozenset()
    assert cleared.get("GetItem", 0) >= 1
    # AND the next message costs 2 requests, like any steady one
    calls = ingest(bus, 2, T0 + minutes(13), {"m-c": "100.010"})
    assert requests(calls) == STEADY_REQUESTS, calls
