"""The building loses its uplink and credit runs out: the gateway cuts at the cutoff on its
own, and when the link returns the ledger is complete."""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

from meter_gateway.simulator.load_profile import LoadCurve

from .conftest import SETTLEMENT_PERIOD_S, Running
from .portfolio import PRICE_MINOR_PER_KWH, TIME_SCALE, register_kwh, unit
from .probes import wait_for

RUN_OUT_S = 60.0
RELAY_S = 10.0
OFFLINE_CREDIT_WALL_S = 6.0  # how long the credit given before the cut should last
SIMULATOR_SEED = 1  # LocalSystem starts every simulator with its default seed


def test_cut_off_gateway_cuts_at_the_cutoff_and_the_ledger_is_complete_after(
    running: Running,
) -> None:
    probe, link, spec = running.probe, running.link, unit("u-cut")
    # GIVEN u-cut ran out online, and every reading so far is settled (energy frozen)
    wait_for("u-cut's relay to open", lambda: not probe.relay_on(spec), RUN_OUT_S)
    frozen_kwh = register_kwh(probe.frozen_kwh(spec))
    wait_for(
        "settlement at the frozen reading",
        lambda: probe.settled_kwh(spec) == frozen_kwh,
        3 * SETTLEMENT_PERIOD_S,
    )
    # ... and a top-up worth a few seconds of its simulated household's demand
    balance = int(probe.account(spec).balance_minor)
    amount = -balance + _minor_for_next(spec.address, probe.meter(spec)["now_s"], "gw-cut")
    probe.top_up(spec, amount, "e2e-topup-u-cut-1")
    wait_for("u-cut's relay to close", lambda: probe.relay_on(spec), RELAY_S)
    desired = wait_for(
        "the gateway to confirm the restore and hold the cutoff",
        lambda: _confirmed_with_cutoff(probe.desired(spec), probe.reported(spec)),
        RELAY_S,
    )
    cutoff_kwh = Decimal(desired["cutoff"]["kwh"])
    cycles_before = len(probe.cycles("gw-cut"))

    # WHEN the gateway's link to the broker is cut and the credit runs out meanwhile
    link.cut()
    try:
        wait_for("the gateway to cut on its own", lambda: not probe.relay_on(spec), RUN_OUT_S)
        cut_at_kwh = register_kwh(probe.frozen_kwh(spec))
        # THEN it cut at the cutoff (within one poll) while the cloud still said "on"
        assert cut_at_kwh >= cutoff_kwh
        assert cut_at_kwh - cutoff_kwh <= _kwh_in_one_poll(spec.address, probe, "gw-cut")
        assert probe.desired(spec)["power"] == "on"
        seen_by_cloud = probe.latest_reading(spec)
        assert seen_by_cloud is not None
        assert seen_by_cloud < cutoff_kwh  # the cloud saw nothing of it
    finally:
        # WHEN the link returns
        link.restore()

    restored_ms = int(time.time() * 1000)

    # THEN every cycle the spool held arrives: one gap-free sequence, up to the cut reading.
    # The rules' workers (like Lambda's concurrent invocations) may store the replayed
    # cycles out of order, so the newest can land before an older one: a run is whole only
    # once it is gap-free up to a cycle read after the link returned (the spool's last
    # cycle is older than that one); a cycle lost for good leaves its gap, and the wait fails.
    def replayed() -> list[Any] | None:
        cycles = probe.cycles("gw-cut")
        whole = cycles and int(cycles[-1].cycle_at_ms) > restored_ms and not _gaps(cycles)
        return cycles if whole else None

    cycles = wait_for(
        "the spool's cycles and a live one to arrive", replayed, 3 * SETTLEMENT_PERIOD_S
    )
    assert len(cycles) > cycles_before
    assert probe.latest_reading(spec) == cut_at_kwh
    # ... and once settled, the balance is exactly what the tariff gives for the energy
    wait_for(
        "settlement at the cut reading",
        lambda: probe.settled_kwh(spec) == cut_at_kwh,
        3 * SETTLEMENT_PERIOD_S,
    )
    energy_kwh = cut_at_kwh - register_kwh(float(spec.opening_kwh))
    expected_minor = int(energy_kwh * PRICE_MINOR_PER_KWH)
    assert probe.consumption_minor(spec) == expected_minor
    assert int(probe.account(spec).balance_minor) == probe.credits_minor(spec) - expected_minor
    # ... and the cloud agrees the relay is off
    wait_for("the cloud to say off", lambda: probe.desired(spec).get("power") == "off", RELAY_S)


def _gaps(cycles: list[Any]) -> list[int]:
    """The sequence numbers missing inside each spool's stored run."""
    by_spool: dict[str, list[int]] = {}
    for cycle in cycles:
        by_spool.setdefault(str(cycle.spool_id), []).append(int(cycle.seq))
    return [n for seqs in by_spool.values() for n in range(min(seqs), max(seqs)) if n not in seqs]


def _confirmed_with_cutoff(
    desired: dict[str, Any], reported: dict[str, Any]
) -> dict[str, Any] | None:
    if desired.get("power") != "on" or not desired.get("cutoff"):
        return None
    return desired if reported.get("cmd") == desired.get("cmd") else None


def _minor_for_next(address: int, sim_now_s: float, gateway_id: str) -> int:
    """Credit for the household's demand over the next few wall seconds, by its load curve."""
    curve = LoadCurve(SIMULATOR_SEED, address)
    span_s = OFFLINE_CREDIT_WALL_S * TIME_SCALE[gateway_id]
    steps = 60
    energy_kwh = (
        sum(
            curve.power_w(sim_now_s + (i + 0.5) * span_s / steps) * span_s / steps
            for i in range(steps)
        )
        / 3_600_000
    )
    return max(50, math.ceil(energy_kwh * PRICE_MINOR_PER_KWH))


def _kwh_in_one_poll(address: int, probe: object, gateway_id: str) -> Decimal:
    # Peak demand with noise is 1.2 x 1.2 x the curve's peak; one poll is 1 s of wall time.
    peak_w = LoadCurve(SIMULATOR_SEED, address).peak_w * 1.44
    kwh = peak_w * TIME_SCALE[gateway_id] / 3_600_000 * 1.5  # 1.5 polls: the cut takes a poll
    return Decimal(str(round(kwh, 3))) + Decimal("0.01")
