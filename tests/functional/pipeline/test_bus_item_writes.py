"""What rides on the bus item: the context's version (bumped by a company-wide edit) and
the gateway's silence deadline (moved by the bus-item writes ingest makes anyway)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.application.settings_edit import CompanyThresholdsUpdate
from chalicelib.auth.errors import ForbiddenError
from chalicelib.auth.principal import Principal, Role
from chalicelib.data import keys
from chalicelib.data.bus_item import BusItems
from chalicelib.data.deadlines import SILENCE_DEADLINE, Deadlines
from chalicelib.data.models import GatewayState
from chalicelib.pipeline.ingest import SILENCE_HORIZON
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, MeterSpec, event, make_bus, minutes


def _admin(company_id: str, role: Role = Role.COMPANY_ADMIN) -> Principal:
    return Principal(company_id, "admin-sub", "admin@example.com", role)


def test_a_company_threshold_edit_makes_ingest_rebuild_every_bus_context(
    pipeline: Container,
) -> None:
    """The company's thresholds are in every bus's stored context: an edit must mark each
    stale at once (the version moves), and the bus's next message acts on the new ones,
    not on the old for up to the context's hour."""
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)], thresholds=[5000])
    items = BusItems()
    assert pipeline.ingest.handle(event(bus, 1, T0, {"m-1": "100.500"})).status == "stored"
    stored = items.read(bus.company_id, bus.gateway_id)
    assert stored.context_current
    assert stored.context is not None
    assert list(stored.context.company.low_credit_thresholds_minor or []) == [5000]

    saved = pipeline.settings_editor.save_company_thresholds(
        _admin(bus.company_id),
        CompanyThresholdsUpdate(version=0, low_credit_thresholds_minor=[9000, 2000]),
        T0 + minutes(1),
    )

    assert saved.gateways_marked == 1
    after_edit = items.read(bus.company_id, bus.gateway_id)
    assert after_edit.context_version > stored.context_version
    assert not after_edit.context_current
    at = T0 + minutes(2)
    assert pipeline.ingest.handle(event(bus, 2, at, {"m-1": "100.600"})).status == "stored"
    rebuilt = items.read(bus.company_id, bus.gateway_id)
    assert rebuilt.context_current
    assert rebuilt.context is not None
    assert list(rebuilt.context.company.low_credit_thresholds_minor or []) == [9000, 2000]


def test_only_a_company_admin_edits_the_company_thresholds(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)], thresholds=[5000])
    before = BusItems().read(bus.company_id, bus.gateway_id).context_version
    with pytest.raises(ForbiddenError):
        pipeline.settings_editor.save_company_thresholds(
            _admin(bus.company_id, Role.PROPERTY_MANAGER),
            CompanyThresholdsUpdate(version=0, low_credit_thresholds_minor=[1]),
            T0,
        )
    assert pipeline.catalogue.get_company(bus.company_id).low_credit_thresholds_minor == [5000]
    assert BusItems().read(bus.company_id, bus.gateway_id).context_version == before


def _silence_keys(bus: Any) -> tuple[str | None, str | None]:
    item = GatewayState.get(
        keys.gateway_data_pk(bus.company_id, bus.gateway_id), keys.GATEWAY_STATE_SK
    )
    return item.duepk, item.duesk


def test_ingest_moves_the_silence_deadline_in_the_bus_item_writes_it_makes(
    pipeline: Container,
) -> None:
    """A message that writes the bus item (here the first: context and control state)
    puts the gateway's silence deadline SILENCE_HORIZON after it was heard, in that same
    write; the offline sweep finds it only once the gateway has been silent that long."""
    bus = make_bus(pipeline.ledger, [MeterSpec("m-1", "u-1", FLAT_TWD)])
    first = event(bus, 1, T0, {"m-1": "100.500"})
    assert pipeline.ingest.handle(first).status == "stored"
    heard = T0 + timedelta(seconds=1)  # the rule's receive time (rig.raw_event)
    due_pk, due_sk = _silence_keys(bus)
    expected = heard + SILENCE_HORIZON
    assert due_sk == keys.due_sk(expected, bus.company_id, bus.gateway_id)
    assert due_pk is not None and due_pk.startswith(keys.DUE_PREFIX)

    def due_for_bus(at: Any) -> list[Any]:
        return [
            d
            for d in Deadlines().due(SILENCE_DEADLINE, at)
            if (d.company_id, d.gateway_id) == (bus.company_id, bus.gateway_id)
        ]

    assert due_for_bus(expected - timedelta(seconds=1)) == []
    (found,) = due_for_bus(expected + timedelta(seconds=1))
    assert found.sk == keys.GATEWAY_STATE_SK

    # A steady message writes no bus item, so it leaves the deadline where it is (no
    # request of its own); one that settles (the next hourly period) writes the state
    # and moves the deadline with it.
    assert pipeline.ingest.handle(event(bus, 2, T0 + minutes(1), {"m-1": "100.600"})).status == (
        "stored"
    )
    assert _silence_keys(bus)[1] == due_sk
    settles = T0 + minutes(61)
    result = pipeline.ingest.handle(event(bus, 3, settles, {"m-1": "100.900"}))
    assert result.settled == ["m-1"]
    moved = settles + timedelta(seconds=1) + SILENCE_HORIZON
    assert _silence_keys(bus)[1] == keys.due_sk(moved, bus.company_id, bus.gateway_id)
    assert due_for_bus(expected + timedelta(seconds=1)) == []
