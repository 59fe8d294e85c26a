"""A bucket-closing message stores its cycle, the bucket it closes and the month's message
count in one TransactWriteItems (docs/pipeline.md, "Closing a bucket"): three requests in
all, and the buckets, day roll-ups and month totals are those of the old path, which
wrote them one by one (and still does when the transaction is refused: a late message, a
duplicate, a bucket that exists already)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from chalicelib.data import builders, keys
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.data.usage_days import UsageDayStore
from chalicelib.data.usage_store import UsageCounters
from chalicelib.data.wire import ConnectionFailedError, DynamoWire
from chalicelib.domain.errors import InvalidReadingError
from chalicelib.pipeline.ingest import Ingest
from chalicelib.pipeline.senders import thing_name_for
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings

from .rig import FLAT_TWD, Bus, MeterSpec, event, make_bus, minutes
from .test_day_rollup import dynamodb_calls

pytestmark = pytest.mark.functional

# 22:00 in Taipei on Monday 30 November: the run crosses local midnight (16:00 UTC, a
# day rolled up) and the UTC month's end (00:00 UTC, when the usage month changes).
START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
METERS = ("m-a", "m-b")


@pytest.fixture()
def pipeline(settings: Settings, demo: dict[str, object]) -> Iterator[Container]:
    svc = Container(settings)
    with using(svc):
        yield svc


def _bus(pipeline: Container) -> Bus:
    return make_bus(
        pipeline.ledger, [MeterSpec(m, f"u-{m}", FLAT_TWD, tenant=False) for m in METERS]
    )


def _reading(minute: int, meter: str) -> str | None:
    """m-a climbs steadily and once reads back; m-b times out now and then and is silent
    for 45 minutes while its bus speaks (its base is found further back)."""
    if meter == "m-b" and (minute % 28 == 8 or 300 <= minute < 345):
        return None
    if meter == "m-a" and minute == 100:
        return f"{100 + 99 * 0.021:.3f}"  # below the reading before: backwards, charges nothing
    step = 0.021 if meter == "m-a" else 0.013
    return f"{100 + minute * step:.3f}"


def _order() -> list[int]:
    """Minutes after START of the messages, in arrival order: every 4 minutes for 11
    hours, a 64-minute outage, cycles held back (one across the month's end), QoS 1
    duplicates of bucket-opening messages and a replay."""
    sent = [m for m in range(0, 660, 4) if not 180 <= m < 244]
    late = {48: 60, 116: 124, 596: 608}  # held back until after the given minute
    order: list[int] = []
    for minute in sent:
        if minute in late:
            continue
        order.append(minute)
        order += [held for held, after in late.items() if after == minute]
        if minute in (60, 244, 600):  # each opens a bucket: its duplicate follows it
            order.append(minute)
    order += [0, 4, 600]  # a replay of what is stored already
    return order


def _run(bus: Bus) -> list[str]:
    statuses = []
    for minute in _order():
        readings = {m: _reading(minute, m) for m in METERS}
        at = START + minutes(minute)
        answer = handlers.ingest_telemetry(event(bus, minute + 1, at, readings))
        statuses.append(str(answer["status"]))
    return statuses


def _stored(bus: Bus) -> dict[str, Any]:
    """The bus's buckets, day roll-ups and the company's month totals, without its ids."""
    store = UsageDayStore()
    end = START + minutes(700)
    buckets = [
        (b.sk, dict(b.energy or {}), b.messages, b.health)
        for b in store.buckets_between(bus.company_id, bus.gateway_id, START, end, True)
    ]
    days = [
        (d.sk, dict(d.energy or {}), d.buckets)
        for d in store.days_between(
            bus.company_id, bus.gateway_id, date(2026, 11, 29), date(2026, 12, 2)
        )
    ]
    counters = UsageCounters()
    months = {m: counters.report(bus.company_id, m).messages for m in ("2026-11", "2026-12")}
    return {"buckets": buckets, "days": days, "months": months}


def test_a_day_with_late_duplicate_and_replayed_messages_stores_what_the_old_path_did(
    pipeline: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the same eleven hours sent to three buses: one through the transaction, one
    # on the old path (no close before the cycle is stored: each close reads, computes
    # and writes after it, one by one), one with every transaction refused (the close
    # computed before, written one by one after)
    new_bus, old_bus, refused_bus = _bus(pipeline), _bus(pipeline), _bus(pipeline)
    new_statuses = _run(new_bus)
    with monkeypatch.context() as patch:
        patch.setattr(Ingest, "_closing", lambda *_, **__: None)
        old_statuses = _run(old_bus)
    with monkeypatch.context() as patch:
        patch.setattr(TelemetryStore, "put_cycle_closing", lambda *_, **__: False)
        refused_statuses = _run(refused_bus)
    # THEN all three answered alike and stored the same buckets, days and month totals
    assert new_statuses == old_statuses == refused_statuses
    assert new_statuses.count("duplicate") == 6
    new, old = _stored(new_bus), _stored(old_bus)
    assert new == old == _stored(refused_bus)
    assert any(b[3] is not None for b in new["buckets"])  # bus counters ride on some
    # AND the run did what it meant to: 44 buckets less the outage's four and the one
    # still open, a finished local day, and each stored message counted once in its
    # bucket's month
    assert len(new["buckets"]) == 39
    assert [d[0] for d in new["days"]] == [keys.gateway_usage_day_sk(date(2026, 11, 30))]
    stored = new_statuses.count("stored")
    open_bucket = 3  # minutes 648, 652 and 656: not closed yet
    assert sum(new["months"].values()) == stored - open_bucket
    assert new["months"]["2026-11"] == sum(1 for m in set(_order()) if m < 600)


def test_a_closing_message_makes_three_requests_and_a_steady_one_two(
    pipeline: Container,
) -> None:
    bus = _bus(pipeline)
    calls = []
    for minute in range(0, 31, 5):
        with dynamodb_calls() as made:
            handlers.ingest_telemetry(
                event(bus, minute + 1, START + minutes(minute), {m: "100.000" for m in METERS})
            )
        calls.append({k: v for k, v in made.items() if v})
    # minute 5 and 10 are steady; 15 and 30 close a bucket (20 and 25 steady)
    steady, closing = calls[1], calls[3]
    assert steady == {"Query": 1, "PutItem": 1}
    assert closing == {"Query": 2, "TransactWriteItems": 1}
    assert calls[6] == closing


def test_a_close_that_failed_midway_counts_the_month_once_on_the_retry(
    pipeline: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bus with a bucket of three messages, and a connection that drops on the
    # first write that touches the usage month
    bus = _bus(pipeline)
    for seq, minute in enumerate((1, 6, 11), start=1):
        handlers.ingest_telemetry(
            event(bus, seq, START + minutes(minute), {m: "100.000" for m in METERS})
        )
    usage = keys.usage_pk(bus.company_id)
    original = DynamoWire.call
    failed: list[str] = []

    def dropping(wire: DynamoWire, operation: str, params: Mapping[str, Any]) -> Any:
        if not failed and usage in str(params) and operation != "Query":
            failed.append(operation)
            raise ConnectionFailedError("no answer", operation=operation)
        return original(wire, operation, params)

    monkeypatch.setattr(DynamoWire, "call", dropping)
    closing = event(bus, 4, START + minutes(16), {m: "100.100" for m in METERS})
    # WHEN the closing message fails there and Lambda delivers it again
    with pytest.raises(ConnectionFailedError):
        handlers.ingest_telemetry(closing)
    retried = handlers.ingest_telemetry(closing)
    # THEN the retry stored it (nothing of the failed attempt was kept) and the month
    # counts the closed bucket's three messages once
    assert failed and retried["status"] == "stored"
    assert UsageCounters().report(bus.company_id, "2026-11").messages == 3
    # AND a third delivery is a duplicate that changes nothing
    assert handlers.ingest_telemetry(closing)["status"] == "duplicate"
    assert UsageCounters().report(bus.company_id, "2026-11").messages == 3


def _second_gateway(first: Bus) -> Bus:
    """Another gateway of ``first``'s company and property, with one meter, m-c."""
    gw = f"{first.gateway_id}-2"
    thing = thing_name_for(first.company_id, gw)
    co, prop = first.company_id, first.property_id
    Catalogue.save_all(
        [
            builders.gateway(co, gw, thing, property_id=prop),
            builders.meter(co, "m-c", gw, 1, unit_id="u-c", profile="dds238"),
            builders.unit(
                co,
                "u-c",
                prop,
                name="u-c",
                unit_type="flat",
                billing_mode="prepaid",
                tariff=FLAT_TWD,
                meter_id="m-c",
            ),
        ]
    )
    boto3.client("iot").create_thing(thingName=thing)
    return Bus(co, prop, gw, thing, [MeterSpec("m-c", "u-c", FLAT_TWD, tenant=False)])


def test_each_gateway_counts_its_own_messages_and_the_report_adds_them_up(
    pipeline: Container,
) -> None:
    # GIVEN a company whose month already counted 5 messages on its own item (as ingest
    # did before the gateways' counters), and two of its gateways
    first = _bus(pipeline)
    second = _second_gateway(first)
    counters = UsageCounters()
    counters._add(first.company_id, START, messages=5)
    # WHEN each closes a bucket of two messages, the writes recorded
    written: list[str] = []
    original = DynamoWire.call

    def recording(wire: DynamoWire, operation: str, params: Mapping[str, Any]) -> Any:
        if operation == "TransactWriteItems":
            written.extend(
                next(iter(item.values()))["Key"]["sk"]["S"]
                for item in params["TransactItems"]
                if "Update" in item
            )
        return original(wire, operation, params)

    DynamoWire.call = recording  # type: ignore[method-assign,assignment]
    try:
        for bus, meters in ((first, METERS), (second, ("m-c",))):
            for seq, minute in enumerate((1, 6, 16), start=1):
                handlers.ingest_telemetry(
                    event(bus, seq, START + minutes(minute), {m: "100.000" for m in meters})
                )
    finally:
        DynamoWire.call = original  # type: ignore[method-assign]
    # THEN each close added to its own gateway's counter, never the company's item
    assert written == [
        keys.usage_gateway_month_sk("2026-11", first.gateway_id),
        keys.usage_gateway_month_sk("2026-11", second.gateway_id),
    ]
    # AND the report is the sum of all: 5 + 2 + 2
    assert counters.report(first.company_id, "2026-11").messages == 9
    assert counters.report(first.company_id, "2026-12").messages == 0


def test_a_stored_reading_the_chain_refuses_fails_the_close_after_its_cycle_is_stored(
    pipeline: Container,
) -> None:
    # GIVEN a bucket holding a stored reading below zero (validation never stores one;
    # a hand-made or old row), then a good cycle
    bus = _bus(pipeline)
    handlers.ingest_telemetry(event(bus, 1, START + minutes(1), {m: "100.000" for m in METERS}))
    store = TelemetryStore()
    for seq, (minute, kwh) in enumerate(((5, "-1.000"), (10, "100.050")), start=1):
        at = START + minutes(minute)
        row = ["m-a", 100, kwh, "0.000", None, 1, None]
        store.put_cycle(bus.company_id, bus.gateway_id, "sp-x", seq, at, at, [row])
    closing = event(bus, 2, START + minutes(16), {m: "100.100" for m in METERS})
    # WHEN the next bucket's first message comes, THEN its close fails as it did (the
    # chain refuses the reading)
    with pytest.raises(InvalidReadingError):
        handlers.ingest_telemetry(closing)
    # AND its cycle was stored first, as before: the retry is a duplicate, not the same
    # failure again until the message is dropped
    assert handlers.ingest_telemetry(closing)["status"] == "duplicate"
