"""Ingest rolls a bus's 15-minute buckets up into local days (for the charts)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import botocore.client
import pytest

from chalicelib.data.usage_days import UsageDayStore
from chalicelib.data.wire import DynamoWire
from chalicelib.domain.usage_periods import local_midnight
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional


@contextmanager
def dynamodb_calls() -> Iterator[dict[str, int]]:
    """DynamoDB requests of this process, by operation: botocore's (PynamoDB's included)
    and the lean client's (ingest's steady path, chalicelib/data/wire)."""
    calls: dict[str, int] = {}
    original = botocore.client.BaseClient._make_api_call
    original_wire = DynamoWire.call

    def count(operation: str, params: Mapping[str, Any]) -> None:
        calls[operation] = calls.get(operation, 0) + 1
        sk = str(params.get("Item", {}).get("sk", {}).get("S", ""))
        if operation == "PutItem" and sk.startswith("UD#"):
            calls["day_put"] = calls.get("day_put", 0) + 1
        if operation == "Query" and params.get("ConsistentRead") and "U15#" in str(params):
            calls["day_query"] = calls.get("day_query", 0) + 1

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            count(operation, params)
        return original(client, operation, params)

    def counted_wire(wire: DynamoWire, operation: str, params: Mapping[str, Any]) -> Any:
        count(operation, params)
        return original_wire(wire, operation, params)

    botocore.client.BaseClient._make_api_call = counted
    DynamoWire.call = counted_wire  # type: ignore[method-assign,assignment]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original
        DynamoWire.call = original_wire  # type: ignore[method-assign]


# 23:30 in Taipei on Friday 20 November; local midnight is 16:00 UTC.
EVENING = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
DAY = date(2026, 11, 20)
ZONE = ZoneInfo("Asia/Taipei")


def _bucket_sums(co: str, gw: str, day: date) -> tuple[dict[str, Decimal], int]:
    start, end = local_midnight(day, ZONE), local_midnight(day + timedelta(days=1), ZONE)
    sums: dict[str, Decimal] = {}
    count = 0
    for bucket in UsageDayStore().buckets_between(co, gw, start, end, True):
        count += 1
        for meter, kwh in bucket.energy.items():
            sums[meter] = sums.get(meter, Decimal(0)) + Decimal(kwh)
    return sums, count


def test_a_day_is_rolled_up_when_it_ends_and_again_after_a_late_message(
    pipeline: Container,
) -> None:
    # GIVEN a bus in Taipei reporting every 5 minutes across local midnight
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    co, gw = bus.company_id, bus.gateway_id
    store = UsageDayStore()
    calls: dict[datetime, dict[str, int]] = {}
    for seq, minute in enumerate(range(0, 45, 5), start=1):
        at = EVENING + minutes(minute)
        with dynamodb_calls() as calls[at]:
            handlers.ingest_telemetry(event(bus, seq, at, {"m-a": f"{100 + minute * 0.010:.3f}"}))
        if at < local_midnight(DAY + timedelta(days=1), ZONE):
            # THEN nothing is rolled up while the day is still going
            assert list(store.days_between(co, gw, DAY, DAY)) == []
    # THEN the first message after midnight rolled the day up: the sum of its buckets
    [day] = list(store.days_between(co, gw, DAY, DAY))
    sums, count = _bucket_sums(co, gw, DAY)
    assert {m: Decimal(v) for m, v in day.energy.items()} == sums
    assert int(day.buckets) == count == 2  # 23:30 and 23:45 (23:30 had a reading before it)
    assert day.time_zone == "Asia/Taipei"
    # AND the roll-up cost the message after midnight one Query (the day's buckets) and
    # one PutItem (the day), and the other messages nothing
    for at, seen in calls.items():
        expected = 1 if at == EVENING + minutes(30) else 0
        assert (seen.get("day_query", 0), seen.get("day_put", 0)) == (expected, expected), at
    before = Decimal(day.energy["m-a"])
    # WHEN a late message lands at 23:58 (the interval 23:55-00:00 is split at it)
    handlers.ingest_telemetry(event(bus, 99, EVENING + minutes(28), {"m-a": "100.280"}))
    # THEN the finished day is rolled up again and still equals its buckets
    [day] = list(store.days_between(co, gw, DAY, DAY))
    sums, _ = _bucket_sums(co, gw, DAY)
    assert Decimal(day.energy["m-a"]) == sums["m-a"] == before + Decimal("0.030")
