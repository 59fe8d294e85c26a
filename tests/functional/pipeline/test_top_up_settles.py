"""A top-up first settles what the meter used since the last settlement (regression: it was
weighed against the settled balance only, so paying the shown debt left the relay open)."""

from __future__ import annotations

import pytest

from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import T0, event, minutes
from .test_control import desired, small_credit_bus

pytestmark = pytest.mark.functional


def test_top_up_settles_unsettled_consumption_before_deciding(pipeline: Container) -> None:
    # GIVEN 1 TWD of credit at 5 TWD/kWh, run out at 100.300 kWh (settled: -0.50 TWD) ...
    bus = small_credit_bus(pipeline)
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    assert pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-a"]) == -50
    # ... and 0.200 kWh more used before the relay opened, not yet settled (1.00 TWD)
    handlers.ingest_telemetry(event(bus, 3, T0 + minutes(3), {"m-a": "100.500"}))
    assert pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-a"]) == -50
    # WHEN the landlord pays only the settled debt plus 0.50 TWD
    paid_at = T0 + minutes(4)
    result = pipeline.meter_control.top_up(
        bus.company_id, "u-a", 100, "req-settle-1", "landlord", now=paid_at
    )
    # THEN the unsettled energy is charged first, and power stays off: -0.50 - 1.00 + 1.00
    assert result.balance_minor == -50
    assert (result.power, desired(bus, "m-a")["power"]) == ("off", "off")
    # WHEN the landlord pays enough for 0.100 kWh more
    result = pipeline.meter_control.top_up(
        bus.company_id, "u-a", 100, "req-settle-2", "landlord", now=paid_at
    )
    # THEN power is restored with a cutoff ahead of the latest reading, not behind it
    now = desired(bus, "m-a")
    assert (result.balance_minor, now["power"], now["cutoff"]["kwh"]) == (50, "on", "100.600")
