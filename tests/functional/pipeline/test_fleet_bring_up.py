"""The fleet bench's batch bring-up in a pool of processes stores what the serial path
stores (bench/support/fleet_bring_up.py), and its check catches a worker that does not."""

from __future__ import annotations

import pytest
from pynamodb.exceptions import UpdateError

from bench.support import fleet_bring_up
from bench.support.fleet_bring_up import BringUpMismatchError, bring_up
from bench.support.fleet_model import Bus
from chalicelib.data import keys
from chalicelib.data.conditions import conditional_check_failed
from chalicelib.data.models import GatewayState
from chalicelib.wiring.container import Container
from chalicelib.wiring.settings import Settings
from local_aws.stack import LocalStack


def test_the_pool_stores_what_the_serial_path_stores(
    standin: LocalStack, settings: Settings
) -> None:
    # GIVEN four buses of a fleet, none brought up
    services = Container(settings)
    buses = [Bus(i, 4) for i in range(4)]
    # WHEN two worker processes bring them up, two of them also through the serial path
    try:
        result = bring_up(services, standin.env(), buses, False, workers=2, compare=2)
    finally:
        _end_silence_deadlines(buses)
    # THEN every item of the compared buses is the same either way
    assert result["same_as_serial"]["identical"] is True
    assert result["same_as_serial"]["buses_compared"] == 2
    assert result["same_as_serial"]["items_compared"] >= 2 * 4  # state, cycle, gateway, accounts
    # AND each bus's state is stored, and this process's buses went on from the workers'
    # (their next message is the second)
    for bus in buses:
        state = GatewayState.get(
            keys.gateway_data_pk(bus.company, bus.gateway), keys.GATEWAY_STATE_SK
        )
        assert state.version == 1 and state.context is not None
        assert bus.seq == 1


def test_a_worker_that_plans_otherwise_stops_the_run(
    standin: LocalStack, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN workers that skip the due marks ingest works out
    start = fleet_bring_up._start_worker

    def forgetful(env: dict[str, str]) -> None:
        start(env)
        settler = fleet_bring_up._WORKER["services"].settler
        monkeypatch.setattr(settler, "with_due_mark", lambda bus, meter, state, at=None: state)

    monkeypatch.setattr(fleet_bring_up, "_start_worker", forgetful)
    buses = [Bus(i, 2) for i in range(2)]
    # WHEN they bring buses up THEN the comparison with the serial path names the state
    with pytest.raises(BringUpMismatchError, match="GatewayState"):
        try:
            bring_up(Container(settings), standin.env(), buses, False, workers=2, compare=1)
        finally:
            _end_silence_deadlines(buses)


def _end_silence_deadlines(buses: list[Bus]) -> None:
    """The fleet's clock is the pipeline rig's day (bench/support/fleet_model.py T0): left
    on the shared stand-in, these buses' silence deadlines would be found by the presence
    sweeps of other tests (test_schedules.py counts what a sweep finds)."""
    for bus in buses:
        # the bus and its copy of the serial comparison (fleet_bring_up._twins), if any
        for company in (bus.company, f"{bus.company}-serial"):
            item = GatewayState(keys.gateway_data_pk(company, bus.gateway), keys.GATEWAY_STATE_SK)
            try:
                item.update(
                    actions=[GatewayState.duepk.remove(), GatewayState.duesk.remove()],
                    condition=GatewayState.pk.exists(),
                )
            except UpdateError as exc:
                if not conditional_check_failed(exc):
                    raise
