"""A relay that reports failure: the relay_confirmation function records it and alerts
staff (the alert path is also what its role's e-mail and table reads are measured on)."""

from __future__ import annotations

import pytest

from chalicelib.pipeline.shadows import shadow_name
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, MeterSpec, desired, event, make_bus, minutes

pytestmark = pytest.mark.functional


def test_a_failed_relay_is_recorded_and_staff_are_alerted(pipeline: Container) -> None:
    # GIVEN a disconnection command waiting for the gateway (1 TWD of credit used up)
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD, credit_minor=100)])
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    off = desired(bus, "m-a")
    # WHEN the gateway reports that command failed (the relay did not switch)
    failed = {
        "thing_name": bus.thing_name,
        "shadow_name": shadow_name("m-a"),
        "received_at_ms": int((T0 + minutes(3)).timestamp() * 1000),
        "current": {
            "state": {
                "desired": off,
                "reported": {"power": "on", "cmd": off["cmd"], "error": "relay_stuck", "at": 1},
            }
        },
    }
    # THEN the function answers failed, the command is recorded failed, and staff have an
    # alert that was delivered
    assert handlers.relay_confirmation(failed)["status"] == "failed"
    command = pipeline.relay_log.history(bus.company_id, "m-a")[0]
    assert (command.command_id, command.outcome) == (off["cmd"], "failed")
    alerts = [
        n
        for n in pipeline.notifier.outbox(bus.company_id, limit=100)
        if n.topic == "relay_unconfirmed"
    ]
    assert len(alerts) == 1 and alerts[0].payload["error"] == "relay_stuck"
    assert "sent" in alerts[0].delivery.values()
