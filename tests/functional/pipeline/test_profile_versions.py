"""The cloud knows which profile version each meter is read with (telemetry ``pv``),
written on the Meter item only when it changes (docs/pipeline.md, write budget)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.auth.principal import Principal, Role
from chalicelib.data.audit import AuditLog
from chalicelib.pipeline.meter_profiles import AUDIT_ACTION
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, MeterSpec, event, make_bus, minutes
from .test_day_rollup import dynamodb_calls

pytestmark = pytest.mark.functional

V1 = {"dds238": "1.0a1b2c3d", "sdm120": "1.99887766"}
V2 = {"dds238": "2.ffeeddcc", "sdm120": "1.99887766"}


def _meter_updates(calls: dict[str, int]) -> int:
    return calls.get("UpdateItem", 0)


def test_profile_versions_are_written_when_they_change_and_only_then(
    pipeline: Container,
) -> None:
    # GIVEN a bus of two DDS238 meters (their relay is their own, same profile)
    bus = make_bus(
        pipeline.ledger,
        [MeterSpec("m-1", "u-1", FLAT_TWD, tenant=False), MeterSpec("m-2", "u-2", FLAT_TWD)],
    )
    readings = {"m-1": "100.000", "m-2": "200.000"}
    # WHEN the first message names the gateway's profiles
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), readings, pv=V1))
    # THEN each meter holds its own profile's version, since that cycle
    for meter_id in ("m-1", "m-2"):
        meter = pipeline.catalogue.get_meter(bus.company_id, meter_id)
        assert meter.profile_versions == {"dds238": "1.0a1b2c3d"}
        assert meter.profile_versions_at == T0 + minutes(1)
    # WHEN the next messages carry the same versions, or none at all
    for seq, pv in ((2, V1), (3, None), (4, V1)):
        with dynamodb_calls() as calls:
            handlers.ingest_telemetry(event(bus, seq, T0 + minutes(seq), readings, pv=pv))
        # THEN no meter is written (presence is steady too): no UpdateItem at all
        assert _meter_updates(calls) == 0, (seq, calls)
    assert AuditLog().trail(bus.company_id) == []
    # WHEN a new version of dds238 arrives in the deployment's configuration
    with dynamodb_calls() as calls:
        handlers.ingest_telemetry(event(bus, 5, T0 + minutes(5), readings, pv=V2))
    # THEN each meter is written once, and the change is in the audit trail
    # two Meter items, and the bus item's stored context once (so no later message writes again)
    assert _meter_updates(calls) == 3
    meter = pipeline.catalogue.get_meter(bus.company_id, "m-2")
    assert meter.profile_versions == {"dds238": "2.ffeeddcc"}
    assert meter.profile_versions_at == T0 + minutes(5)
    trail = [e for e in AuditLog().trail(bus.company_id) if e.action == AUDIT_ACTION]
    assert sorted(e.target for e in trail) == ["meter:m-1", "meter:m-2"]
    assert trail[0].detail == {
        "before": {"dds238": "1.0a1b2c3d"},
        "after": {"dds238": "2.ffeeddcc"},
    }
    # WHEN a late message (older than the recorded change) still says version 1
    handlers.ingest_telemetry(
        event(bus, 99, T0 + minutes(4) + timedelta(seconds=30), readings, pv=V1)
    )
    # THEN the newer record stands
    meter = pipeline.catalogue.get_meter(bus.company_id, "m-2")
    assert meter.profile_versions == {"dds238": "2.ffeeddcc"}


def test_the_unit_page_shows_the_profile_version(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-p", "u-p", FLAT_TWD)])
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-p": "100.000"}, pv=V1))
    staff = Principal(bus.company_id, "admin", "a@example.com", Role.COMPANY_ADMIN)
    detail = pipeline.views.unit_detail(staff, "u-p", T0 + minutes(2), with_usage=False)
    assert detail.meter is not None
    assert detail.meter.profile_versions == {"dds238": "1.0a1b2c3d"}
