"""Ingest's steady-path writes through the lean client (data/wire) store exactly what the
PynamoDB models stored, and its reads give what the models read, in both directions.

The oracle is PynamoDB: each write is made once through the models (the code these
methods had before the client) and once through the client, on the same key, and the
two stored items are compared attribute by attribute, bytes included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.data import keys
from chalicelib.data.bus_item import BusItems, BusRead, bus_read, pack
from chalicelib.data.control_state import (
    BusControlState,
    MeterControlState,
    encode_meters,
    ms,
)
from chalicelib.data.deadlines import SILENCE_DEADLINE, set_deadline
from chalicelib.data.errors import StaleStateError
from chalicelib.data.models import GatewayCycle, GatewayState, PowerletItem
from chalicelib.data.rows import GatewayCycleRow
from chalicelib.data.telemetry_store import CYCLE_RETENTION, TelemetryStore
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

ROWS: list[list[Any]] = [
    ["m-1", 0, "100.500", None, 230, "on", None],
    ["m-2", 15, "7.125", "0.000", None, None, "timeout"],
]


def _raw(pk: str, sk: str) -> dict[str, Any]:
    """The stored item as DynamoDB holds it (botocore's parse: binary values as bytes)."""
    answer = PowerletItem._get_connection().get_item(pk, range_key=sk, consistent_read=True)
    return dict(answer["Item"])


def _delete(pk: str, sk: str) -> None:
    PowerletItem._get_connection().delete_item(pk, range_key=sk)


def _model_cycle(
    co: str, gw: str, spool_id: str, seq: int, at: datetime, received: datetime
) -> GatewayCycle:
    """A cycle as ``put_cycle`` stored it through the models (the oracle)."""
    return GatewayCycle(
        keys.gateway_data_pk(co, gw),
        keys.cycle_sk(at, spool_id, seq),
        gateway_id=gw,
        spool_id=spool_id,
        seq=seq,
        cycle_at_ms=ms(at),
        received_at_ms=ms(received),
        rows=ROWS,
        expires_at=int((at + CYCLE_RETENTION).timestamp()),
    )


def _put(pk: str, sk: str, item: dict[str, Any]) -> None:
    attributes = {k: v for k, v in item.items() if k not in {"pk", "sk"}}
    PowerletItem._get_connection().put_item(pk, range_key=sk, attributes=attributes)


def _both_ways(pk: str, sk: str, models: Callable[[], Any], wire: Callable[[], Any]) -> None:
    """The same write through the models and through the client stores the same item."""
    models()
    through_models = _raw(pk, sk)
    _delete(pk, sk)
    wire()
    assert _raw(pk, sk) == through_models


@pytest.fixture()
def bus(pipeline: Container) -> Bus:
    """A bus that took one message: its bus item holds a context and a control state."""
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD), MeterSpec("m-2", "u-2", FLAT_TWD)]
    )
    assert pipeline.ingest.handle(event(bus, 1, T0, {"m-1": "100.500"})).status == "stored"
    return bus


def test_a_cycle_is_stored_as_the_model_stored_it(pipeline: Container, bus: Bus) -> None:
    co, gw = bus.company_id, bus.gateway_id
    at, received = T0 + minutes(5), T0 + minutes(5) + timedelta(seconds=3)
    pk, sk = keys.gateway_data_pk(co, gw), keys.cycle_sk(at, "spool-a", 7)

    def models() -> None:
        _model_cycle(co, gw, "spool-a", 7, at, received).save(
            condition=GatewayCycle.pk.does_not_exist()
        )

    store = TelemetryStore(pipeline.wire)
    _both_ways(pk, sk, models, lambda: store.put_cycle(co, gw, "spool-a", 7, at, received, ROWS))

    # and it reads back through the model as written
    read = GatewayCycle.get(pk, sk)
    assert (read.seq, read.rows, read.cycle_at_ms, read.received_at_ms) == (
        7,
        ROWS,
        ms(at),
        ms(received),
    )
    assert read.kind is GatewayCycle
    # a replay of the same message id is refused by the condition, not stored twice
    assert store.put_cycle(co, gw, "spool-a", 7, at, received, ROWS) is False


def _state_item(bus: Bus) -> GatewayState:
    return GatewayState(keys.gateway_data_pk(bus.company_id, bus.gateway_id), keys.GATEWAY_STATE_SK)


def _models_save_state(
    state: BusControlState, at: datetime, silence_by: datetime | None = None
) -> None:
    """``save_state`` as it was through the models (the oracle)."""
    item = GatewayState(
        keys.gateway_data_pk(state.company_id, state.gateway_id), keys.GATEWAY_STATE_SK
    )
    item.update(
        actions=[
            GatewayState.kind.set(GatewayState),
            GatewayState.company_id.set(state.company_id),
            GatewayState.gateway_id.set(state.gateway_id),
            GatewayState.version.set(state.version + 1),
            GatewayState.meters.set(encode_meters(state.meters)),
            GatewayState.flags.set(sorted(state.flags)),
            GatewayState.updated_at.set(at),
            *(
                set_deadline(SILENCE_DEADLINE, silence_by, state.company_id, state.gateway_id)
                if silence_by
                else []
            ),
        ],
        condition=(
            GatewayState.version.does_not_exist()
            if state.version == 0
            else GatewayState.version == state.version
        ),
    )


def test_the_control_state_is_written_as_the_model_wrote_it(pipeline: Container, bus: Bus) -> None:
    store = TelemetryStore(pipeline.wire)
    meters = {
        "m-1": MeterControlState(account_id="a-1", balance_minor=-25, flags=frozenset({"low"})),
        "m-2": MeterControlState(account_id="a-2", settled_kwh=Decimal("12.500"), settled_at=T0),
    }
    state = replace(
        store.get_state(bus.company_id, bus.gateway_id),
        meters=meters,
        flags=frozenset({"low_credit", "bus_fault"}),
    )
    at, silence_by = T0 + minutes(7), T0 + minutes(37)
    pk, sk = keys.gateway_data_pk(bus.company_id, bus.gateway_id), keys.GATEWAY_STATE_SK
    before = _raw(pk, sk)

    _models_save_state(state, at, silence_by)
    through_models = _raw(pk, sk)
    _put(pk, sk, before)
    saved = store.save_state(state, at, silence_by)

    assert _raw(pk, sk) == through_models
    assert through_models["ctx"] == before["ctx"]  # an update: the context beside it is kept
    assert saved.version == state.version + 1
    assert store.get_state(bus.company_id, bus.gateway_id) == saved
    # written again from the version read before: someone else wrote meanwhile
    with pytest.raises(StaleStateError, match=bus.gateway_id):
        store.save_state(state, at)


def test_the_first_state_of_a_bus_is_created_as_the_model_created_it(
    pipeline: Container,
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)])
    store = TelemetryStore(pipeline.wire)
    state = store.get_state(bus.company_id, bus.gateway_id)
    assert state.version == 0
    at = T0 + minutes(1)
    pk, sk = keys.gateway_data_pk(bus.company_id, bus.gateway_id), keys.GATEWAY_STATE_SK

    _both_ways(pk, sk, lambda: _models_save_state(state, at), lambda: store.save_state(state, at))


def test_a_context_is_stored_as_the_model_stored_it(pipeline: Container, bus: Bus) -> None:
    items = BusItems(pipeline.wire)
    read = items.read(bus.company_id, bus.gateway_id)
    assert read.context is not None
    pk, sk = keys.gateway_data_pk(bus.company_id, bus.gateway_id), keys.GATEWAY_STATE_SK
    at, silence_by = T0 + minutes(9), T0 + minutes(39)
    before = _raw(pk, sk)
    built = read.context_version

    def models() -> None:
        _state_item(bus).update(
            actions=[
                GatewayState.kind.set(GatewayState),
                GatewayState.context.set(pack(read.context)),  # type: ignore[arg-type]
                GatewayState.context_built.set(built),
                GatewayState.context_at_ms.set(ms(at)),
                *set_deadline(SILENCE_DEADLINE, silence_by, bus.company_id, bus.gateway_id),
            ],
            condition=(
                GatewayState.context_version.does_not_exist()
                if built == 0
                else GatewayState.context_version == built
            ),
        )

    models()
    through_models = _raw(pk, sk)
    _put(pk, sk, before)
    assert items.store_context(bus.company_id, bus.gateway_id, read.context, built, at, silence_by)
    assert _raw(pk, sk) == through_models

    # a catalogue edit bumps the version: a context built before it is not stored
    items.bump(bus.company_id, bus.gateway_id)
    assert not items.store_context(bus.company_id, bus.gateway_id, read.context, built, at)
    assert _raw(pk, sk)["ctxat"] == through_models["ctxat"]


def _models_read(co: str, gw: str) -> BusRead:
    """BusItems.read as it was through the models: the oracle of the client's read."""
    found = PowerletItem.query(
        keys.gateway_data_pk(co, gw),
        PowerletItem.sk.between(keys.CYCLE_PREFIX, keys.GATEWAY_STATE_SK),
        scan_index_forward=False,
        limit=2,
        consistent_read=True,
    )
    state_item: GatewayState | None = None
    latest: GatewayCycle | None = None
    for item in found:
        if isinstance(item, GatewayState):
            state_item = item
        elif isinstance(item, GatewayCycle):
            latest = item
            break
    return bus_read(co, gw, state_item, latest)


def _comparable(read: BusRead) -> dict[str, Any]:
    """A BusRead with its items as their values (models compare by identity): the
    client's newest cycle is a row (data/rows.py), the models' a ``GatewayCycle``
    holding the same values and its class under ``kind``."""
    context = read.context
    latest = read.latest_cycle
    return {
        "state": read.state,
        "versions": (read.context_version, read.context_built, read.context_at_ms),
        "open": read.open_conditions,
        "latest": None
        if latest is None
        else {k: v for k, v in latest.attribute_values.items() if k != "kind"},
        "latest_is_a_cycle": latest is None or isinstance(latest, GatewayCycle | GatewayCycleRow),
        "context": None
        if context is None
        else {
            "gateway": context.gateway.attribute_values,
            "property": context.premises.attribute_values,
            "company": context.company.attribute_values,
            "meters": [m.attribute_values for m in context.meters],
            "units": {k: u.attribute_values for k, u in context.units.items()},
            "tenancies": {k: t.attribute_values for k, t in context.tenancies.items()},
            "tariffs": context.tariff_digests,
        },
    }


def test_the_bus_item_reads_as_the_models_read_it(pipeline: Container, bus: Bus) -> None:
    co, gw = bus.company_id, bus.gateway_id
    items = BusItems(pipeline.wire)
    # written by the pipeline (the client) and by the models (an open condition, a bump)
    items.mark_open(co, gw, "silent")
    for n in (2, 3):
        at = T0 + minutes(n)
        assert pipeline.ingest.handle(event(bus, n, at, {"m-1": f"100.{n}00"})).status == "stored"

    read = items.read(co, gw)

    assert read.latest_cycle is not None and read.context is not None
    assert _comparable(read) == _comparable(_models_read(co, gw))
    assert read.latest_cycle.seq == 3
    assert read.state.version >= 1


def test_a_bus_never_heard_reads_empty_both_ways(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)])
    read = BusItems(pipeline.wire).read(bus.company_id, bus.gateway_id)
    assert _comparable(read) == _comparable(_models_read(bus.company_id, bus.gateway_id))
    assert read.context is None and read.latest_cycle is None and read.state.version == 0


def test_a_cycle_the_models_wrote_reads_through_the_client(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)])
    at: datetime = T0 + minutes(3)
    _model_cycle(bus.company_id, bus.gateway_id, "spool-b", 1, at, at).save()
    read = BusItems(pipeline.wire).read(bus.company_id, bus.gateway_id)
    assert read.latest_cycle is not None
    assert read.latest_cycle.rows == ROWS
    assert _comparable(read) == _comparable(_models_read(bus.company_id, bus.gateway_id))
