"""Bus health per meter: the gateway's counters ride on the 15-minute bucket the
message closes (no write of their own), and the unit page's query reads a day of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.data.usage_days import UsageDayStore
from chalicelib.pipeline.buckets import bucket_start
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, MeterSpec, event, make_bus, minutes
from .test_day_rollup import dynamodb_calls

pytestmark = pytest.mark.functional


def _writes(calls: dict[str, int]) -> tuple[int, int, int]:
    """PutItems, transactions and UpdateItems of a message."""
    return (
        calls.get("PutItem", 0),
        calls.get("TransactWriteItems", 0),
        calls.get("UpdateItem", 0),
    )


def test_counters_ride_on_the_bucket_and_make_a_days_health(pipeline: Container) -> None:
    # GIVEN a meter polled every 5 minutes for an hour, its time-outs growing by one per
    # cycle, and a CRC error at minute 30
    bus = make_bus(pipeline.ledger, [MeterSpec("m-h", "u-h", FLAT_TWD, tenant=False)])
    puts: dict[int, int] = {}
    for seq, minute in enumerate(range(0, 65, 5), start=1):
        dg: list[Any] = [seq, 1 if minute >= 30 else 0, 0, 40 + minute, 0, 0, 0]
        at = T0 + minutes(minute)
        with dynamodb_calls() as calls:
            handlers.ingest_telemetry(
                event(bus, seq, at, {"m-h": f"{100 + minute / 100:.3f}"}, dg={"m-h": dg})
            )
        puts[minute] = _writes(calls)
    # THEN the messages that closed a bucket wrote the cycle, the bucket and the month in
    # one transaction in place of the cycle's PutItem, and none wrote anything for the
    # counters themselves
    closing = {15, 30, 45, 60}
    assert {puts[m] for m in closing} == {(0, 1, 0)}
    assert all(puts[m] == puts[5] == (1, 0, 0) for m in puts if m not in closing and m != 0)
    # AND each closed bucket holds the closing message's counters and time
    buckets = list(
        UsageDayStore().buckets_between(
            bus.company_id, bus.gateway_id, T0, T0 + minutes(60), consistent=True
        )
    )
    assert [b.health["m"]["m-h"][0] for b in buckets] == [4, 7, 10, 13]
    assert buckets[0].health["t"] == int((T0 + minutes(15)).timestamp() * 1000)
    # WHEN staff look at the meter's last day
    meter = pipeline.catalogue.get_meter(bus.company_id, "m-h")
    health = pipeline.bus_health.of_meter(bus.company_id, meter, T0 + minutes(61))
    # THEN the time-outs and the CRC error between the first and last snapshot are counted
    assert health is not None
    assert (health.timeouts, health.crc, health.exceptions) == (9, 1, 0)
    assert (health.connection_failures, health.backwards, health.restarts) == (0, 0, 0)
    assert health.latency_max_ms == 100 and health.latency_median_ms == 85
    assert health.covered == minutes(45)


def test_a_message_without_counters_leaves_no_zeros_and_a_late_one_keeps_them(
    pipeline: Container,
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-q", "u-q", FLAT_TWD, tenant=False)])
    store = UsageDayStore()
    # GIVEN a bucket closed by a message without dg, and the next by one with it
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-q": "100.000"}))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(16), {"m-q": "100.100"}))
    handlers.ingest_telemetry(
        event(bus, 3, T0 + minutes(31), {"m-q": "100.200"}, dg={"m-q": [2, 0, 0, 50, 0]})
    )
    first, second = store.buckets_between(
        bus.company_id, bus.gateway_id, T0, T0 + minutes(30), consistent=True
    )
    assert first.health is None
    assert second.health["m"] == {"m-q": [2, 0, 0, 50, 0]}
    # WHEN a late message rewrites the second bucket (it lands in it)
    handlers.ingest_telemetry(event(bus, 99, T0 + minutes(20), {"m-q": "100.150"}))
    # THEN its energy is rewritten and the closing message's counters are kept
    [rewritten] = store.buckets_between(
        bus.company_id, bus.gateway_id, bucket_start(T0 + minutes(20)), T0 + minutes(30), True
    )
    assert rewritten.messages == 2
    assert rewritten.health["m"] == {"m-q": [2, 0, 0, 50, 0]}
    # AND one snapshot is no day of health: no slot, nothing counted
    meter = pipeline.catalogue.get_meter(bus.company_id, "m-q")
    health = pipeline.bus_health.of_meter(bus.company_id, meter, T0 + minutes(40))
    assert health is not None and health.failures == 0 and health.covered == timedelta(0)
    assert set(health.failures_per_hour) == {None}
