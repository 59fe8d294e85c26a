"""A bucket close's reads through the lean client give what the models read: the window's
cycles (projected to their time and rows, newest first, a page at a time) and a bucket's
bus counters (a late rewrite keeps them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.data import keys
from chalicelib.data.models import GatewayCycle, GatewayUsage
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.data.wire import DynamoWire
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, MeterSpec, make_bus, minutes


def _wire(pipeline: Container) -> DynamoWire:
    assert pipeline.wire is not None
    return pipeline.wire


def _rows(n: int) -> list[list[Any]]:
    return [
        ["m-1", n * 10, f"{100 + n}.500", None, "230", 1, None],
        ["m-2", 15, None, None, None, None, "timeout"],
    ]


def test_the_window_reads_newest_first_in_the_pages_asked_for(pipeline: Container) -> None:
    # GIVEN a bus with 7 cycles and a bucket item in its partition
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)])
    co, gw = bus.company_id, bus.gateway_id
    store = TelemetryStore(_wire(pipeline))
    for n in range(7):
        at = T0 + minutes(n)
        assert store.put_cycle(co, gw, "spool-a", n, at, at, _rows(n))
    store.put_usage(co, gw, T0, {"m-1": "1.000"}, messages=7)
    # WHEN its cycles from minute 1 up to minute 6 are read three at a time
    sizes = iter([3, 3, 3])
    sent = _wire(pipeline).requests
    read = list(
        store.cycle_rows_back(co, gw, T0 + minutes(1), T0 + minutes(6), lambda: next(sizes))
    )
    # THEN they are the models' cycles of that range, newest first, time and rows exact
    models = GatewayCycle.query(
        keys.gateway_data_pk(co, gw),
        GatewayCycle.sk.between(
            keys.cycle_bound_sk(T0 + minutes(1)), keys.cycle_bound_sk(T0 + minutes(6))
        ),
        scan_index_forward=False,
    )
    assert read == [(int(c.cycle_at_ms), c.rows) for c in models]
    assert [t for t, _ in read] == [
        int((T0 + minutes(n)).timestamp() * 1000) for n in (5, 4, 3, 2, 1)
    ]
    # AND two pages were asked for (3, then the 2 left)
    assert _wire(pipeline).requests - sent == 2


def test_a_reader_that_stops_reads_no_further_page(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)])
    co, gw = bus.company_id, bus.gateway_id
    store = TelemetryStore(_wire(pipeline))
    for n in range(5):
        store.put_cycle(co, gw, "spool-a", n, T0 + minutes(n), T0 + minutes(n), _rows(n))
    sent = _wire(pipeline).requests
    cycles = store.cycle_rows_back(co, gw, T0, T0 + minutes(9), lambda: 2)
    assert next(cycles)[0] == next(cycles)[0] + 60_000  # the first page's two
    assert _wire(pipeline).requests - sent == 1


def test_a_bucket_s_counters_read_as_the_model_reads_them(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)])
    co, gw = bus.company_id, bus.gateway_id
    store = TelemetryStore(_wire(pipeline))
    health = {"t": 1_700_000_000_000, "m": {"m-1": [1, 0, 0, 2, 0, 85, 100]}}
    store.put_usage(co, gw, T0, {"m-1": "1.000"}, messages=3, health=health)
    store.put_usage(co, gw, T0 + timedelta(minutes=15), {"m-1": "1.000"}, messages=3)
    # a bucket with counters: as written, as the model reads them
    model = GatewayUsage.get(keys.gateway_data_pk(co, gw), keys.gateway_usage_sk(T0))
    assert store.usage_health(co, gw, T0) == model.health == health
    # a bucket without them, and no bucket at all: None
    assert store.usage_health(co, gw, T0 + minutes(15)) is None
    assert store.usage_health(co, gw, T0 + minutes(30)) is None
