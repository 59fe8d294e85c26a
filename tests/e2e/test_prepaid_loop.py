"""Consumption becomes money, credit runs out, the relay opens, a top-up closes it.

The simulator is the ground truth: its relay state and its energy, read
through its control socket; the cloud's view is the ledger and the shadows.
"""

from __future__ import annotations

from chalicelib.data.relay_log import RelayLog

from .conftest import SETTLEMENT_PERIOD_S, Running
from .portfolio import COMPANY, PRICE_MINOR_PER_KWH, register_kwh, unit
from .probes import wait_for

RUN_OUT_S = 60.0  # an hour of consumption per second: a few seconds, with margin
RELAY_S = 10.0  # top-up -> shadow -> gateway -> relay, at 1 s polling


def test_consumption_lowers_the_balance_exactly_as_the_tariff_says(running: Running) -> None:
    # GIVEN u-run, a flat 5.00 TWD/kWh tenancy opened at the simulator's starting reading
    probe, spec = running.probe, unit("u-run")
    opening_kwh = register_kwh(float(spec.opening_kwh))
    # WHEN it consumes until credit runs out and the relay opens (energy stops)
    wait_for("u-run's relay to open", lambda: not probe.relay_on(spec), RUN_OUT_S)
    final_kwh = register_kwh(probe.frozen_kwh(spec))
    # ... and the next settlement period settles up to the last reading
    wait_for(
        "settlement up to the frozen reading",
        lambda: probe.settled_kwh(spec) == final_kwh,
        3 * SETTLEMENT_PERIOD_S,
    )
    # THEN the ledger charged exactly the simulator's energy at the tariff, to the minor unit
    energy_kwh = final_kwh - opening_kwh
    assert energy_kwh > 0
    expected_minor = int(energy_kwh * PRICE_MINOR_PER_KWH)
    assert probe.consumption_minor(spec) == expected_minor
    # ... and the stored balance is the entries' sum
    assert int(probe.account(spec).balance_minor) == probe.credits_minor(spec) - expected_minor
    assert int(probe.account(spec).balance_minor) <= 0


def test_credit_runs_out_the_relay_opens_and_a_top_up_closes_it(running: Running) -> None:
    # GIVEN u-run has run out of credit outside friendly hours
    probe, spec = running.probe, unit("u-run")
    wait_for("u-run's relay to open", lambda: not probe.relay_on(spec), RUN_OUT_S)
    assert probe.desired(spec)["power"] == "off"
    assert probe.desired(spec)["reason"] == "credit_exhausted"
    balance = int(probe.account(spec).balance_minor)
    # WHEN a landlord tops it up through the API with enough for a few kWh
    answer = probe.top_up(spec, -balance + 5 * PRICE_MINOR_PER_KWH, "e2e-topup-u-run-1")
    assert answer["replayed"] is False
    # THEN the simulated meter's relay closes
    wait_for("u-run's relay to close", lambda: probe.relay_on(spec), RELAY_S)
    assert probe.desired(spec)["power"] == "on"


def test_never_disconnect_tenancy_keeps_power_without_credit(running: Running) -> None:
    # GIVEN u-never, with as little credit as u-run but a never-disconnect tenancy
    probe, spec = running.probe, unit("u-never")
    # WHEN its credit is gone (settled below zero)
    wait_for(
        "u-never's balance below zero",
        lambda: int(probe.account(spec).balance_minor) < 0,
        RUN_OUT_S,
    )
    wait_for("a shadow for u-never", lambda: probe.desired(spec), RELAY_S)
    # THEN the cloud keeps it on, and the relay never opened
    assert probe.desired(spec)["power"] == "on"
    assert probe.relay_on(spec)
    assert all(cmd["power"] == "on" for cmd in _commands(running, spec.meter_id))


def test_no_disconnection_inside_friendly_hours(running: Running) -> None:
    # GIVEN u-kind, on a property whose friendly hours are always in force
    probe, spec = running.probe, unit("u-kind")
    # WHEN its credit is gone
    wait_for(
        "u-kind's balance below zero",
        lambda: int(probe.account(spec).balance_minor) < 0,
        RUN_OUT_S,
    )
    # THEN the cloud holds power on for friendly hours and the relay stays closed
    wait_for(
        "u-kind held for friendly hours",
        lambda: probe.desired(spec).get("reason") == "friendly_hours",
        RELAY_S,
    )
    assert probe.desired(spec)["power"] == "on"
    assert probe.relay_on(spec)


def _commands(running: Running, meter_id: str) -> list[dict[str, str]]:
    history = RelayLog().history(COMPANY, meter_id, limit=200)
    return [{"power": str(c.power), "reason": str(c.reason)} for c in history]
