"""The steady record on the bus item (pipeline/context.py, docs/pipeline.md "The steady
record"): a steady message builds its bus context from it; a record not valid today, or a
context whose separately packed part does not read, falls back to every part (the latter
read from the catalogue and stored again), and ingest decides as before either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.data import keys
from chalicelib.data.bus_item import BusItems
from chalicelib.data.models import GatewayState
from chalicelib.pipeline.context import BusDirectory, BusOfMessage, StoredBusContext
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, MeterSpec, event, make_bus, minutes


def _read(pipeline: Container, thing: str, at: datetime) -> BusOfMessage:
    """A message's bus as a container that never saw the bus reads it."""
    return BusDirectory(pipeline.catalogue, 0, BusItems(pipeline.wire)).for_message(thing, at)


def _rewrite_pack(company_id: str, gateway_id: str, **changes: object) -> None:
    """The stored pack with some of its values changed, version and stamp kept."""
    item = GatewayState.get(
        keys.gateway_data_pk(company_id, gateway_id), keys.GATEWAY_STATE_SK, consistent_read=True
    )
    packed = dict(item.context or {})
    packed.update(changes)
    item.update(actions=[GatewayState.context.set(packed)])


def test_a_steady_message_builds_its_context_from_the_record_and_falls_back_when_stale(
    pipeline: Container,
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)], thresholds=[5000])
    assert pipeline.ingest.handle(event(bus, 1, T0, {"m-1": "100.500"})).status == "stored"
    thing = bus.thing_name
    # GIVEN the context stored by the first message, with its record of today
    found = _read(pipeline, thing, T0 + minutes(1))
    assert isinstance(found.bus, StoredBusContext)
    record = found.read.stored.steady if found.read.stored else None
    assert record is not None and record["day"] == datetime.now(UTC).date().isoformat()
    assert record["meters"]["m-1"][:3] == [found.bus.meters["m-1"].account_id, True, True]

    # WHEN the record's validity ended today (a tenancy's end, a tariff version's start)
    today = datetime.now(UTC).date()
    _rewrite_pack(bus.company_id, bus.gateway_id, steady={**record, "until": today.isoformat()})
    stale = _read(pipeline, thing, T0 + minutes(2))
    # THEN the context is assembled from every part, and ingest goes on as before
    assert not isinstance(stale.bus, StoredBusContext)
    assert stale.bus.meters["m-1"].account_id == found.bus.meters["m-1"].account_id
    assert pipeline.ingest.handle(event(bus, 2, T0 + minutes(2), {"m-1": "100.600"})).status == (
        "stored"
    )
    # AND a record of a later day (another container's clock ahead) is not used either
    later = (today + timedelta(days=1)).isoformat()
    _rewrite_pack(bus.company_id, bus.gateway_id, steady={**record, "day": later})
    assert not isinstance(_read(pipeline, thing, T0 + minutes(3)).bus, StoredBusContext)


def test_a_context_whose_company_and_tenancies_do_not_read_is_rebuilt_and_stored(
    pipeline: Container,
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)], thresholds=[5000])
    assert pipeline.ingest.handle(event(bus, 1, T0, {"m-1": "100.500"})).status == "stored"
    # GIVEN a stored context whose separately packed part is damaged
    _rewrite_pack(bus.company_id, bus.gateway_id, cold="not base64 of zlib JSON")
    found = _read(pipeline, bus.thing_name, T0 + minutes(1))
    assert isinstance(found.bus, StoredBusContext)  # the steady path does not read it
    # WHEN something asks for the tenancy (a meter off the steady path)
    tenancy = found.bus.meters["m-1"].tenancy
    # THEN it comes from the catalogue, and the context is stored again, readable
    assert tenancy is not None and tenancy.account_id == found.bus.meters["m-1"].account_id
    again = BusItems().read(bus.company_id, bus.gateway_id)
    assert again.context is not None and again.context.company.company_id == bus.company_id
    assert list(again.context.tenancies) == [tenancy.tenancy_id]
