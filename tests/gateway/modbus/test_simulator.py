"""The meter simulator: physics, determinism, protocol fidelity, spec and process control."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.client import AsyncModbusTcpClient

from meter_gateway.bus import BusSettings, open_bus
from meter_gateway.errors import SimulatorError
from meter_gateway.profiles import load_profile
from meter_gateway.simulator import (
    DeviceSpec,
    ManualClock,
    MeterSimulator,
    ScaledClock,
    SimulatedMeter,
    mixed_bus_spec,
    parse_meter_spec,
)
from meter_gateway.simulator.control import send_command
from tests.gateway.modbus.bus_fixtures import meter_configs


def _meter(seed: int = 1, address: int = 5, clock: ManualClock | None = None) -> SimulatedMeter:
    return SimulatedMeter(address, load_profile("dds238"), clock or ManualClock(), seed)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=6 * 3600), st.booleans()),
        min_size=1,
        max_size=20,
    )
)
def test_energy_only_grows_and_stands_still_while_the_relay_is_open(
    steps: list[tuple[float, bool]],
) -> None:
    # GIVEN a meter and any sequence of (time passes, relay set) steps
    clock = ManualClock()
    meter = _meter(clock=clock)
    previous = meter.state()
    for seconds, relay_on in steps:
        was_on = previous.relay_on
        # WHEN time passes
        clock.advance(seconds)
        now = meter.state()
        # THEN energy never decreases, and grows exactly when the relay was closed
        assert now.import_kwh >= previous.import_kwh
        if not was_on:
            assert now.import_kwh == previous.import_kwh
            assert now.w == 0
        elif seconds >= 60:
            assert now.import_kwh > previous.import_kwh
        meter.set_own_relay(relay_on)
        previous = meter.state()


def test_import_integrates_power_over_simulated_time() -> None:
    # GIVEN a meter at 02:00, a minute of constant load
    clock = ManualClock()
    clock.advance(2 * 3600)
    meter = _meter(clock=clock)
    start = meter.state()
    # WHEN 10 s pass (inside one noise minute, so power is constant)
    clock.advance(10)
    # THEN import grew by P x t
    grown_kwh = meter.state().import_kwh - start.import_kwh
    assert grown_kwh == pytest.approx(start.w * 10 / 3600 / 1000, rel=1e-9)


def test_the_load_varies_through_the_day_and_is_deterministic_given_the_seed() -> None:
    def day_curve(seed: int) -> list[float]:
        clock = ManualClock()
        meter = _meter(seed=seed, clock=clock)
        curve = []
        for _hour in range(24):
            curve.append(meter.state().w)
            clock.advance(3600)
        return curve

    curve = day_curve(seed=42)
    # THEN evening is busier than the small hours, and the same seed gives the same day
    assert max(curve[18:22]) > 2.5 * min(curve[1:5])
    assert day_curve(seed=42) == curve
    assert day_curve(seed=43) != curve


def test_time_scale_speeds_simulated_time() -> None:
    clock = ScaledClock(time_scale=3600, start_s=0)
    time.sleep(0.05)
    assert clock.now_s() >= 0.05 * 3600 * 0.9


def test_spec_parsing_and_the_mixed_bus() -> None:
    devices = parse_meter_spec("sdm120:1-2, dds238:3, sdm120:4@101/5, relay_module:101")
    assert devices == [
        DeviceSpec(1, "sdm120"),
        DeviceSpec(2, "sdm120"),
        DeviceSpec(3, "dds238"),
        DeviceSpec(4, "sdm120", 101, 5),
        DeviceSpec(101, "relay_module"),
    ]
    simulator = MeterSimulator(devices, clock=ManualClock())
    # explicit pairing first, then auto-pairing in channel order
    assert simulator.relay_modules[101].paired[5].address == 4
    assert {ch: m.address for ch, m in simulator.relay_modules[101].paired.items()} == {
        0: 1,
        1: 2,
        5: 4,
    }
    mixed = mixed_bus_spec(32)
    assert sum(d.profile == "sdm120" for d in mixed) == 16
    assert sum(d.profile == "dds238" for d in mixed) == 16
    assert [d.address for d in mixed if d.profile == "relay_module"] == [101, 102]
    for bad in ("sdm120", "sdm120:0", "sdm120:3-1", "sdm120:1,dds238:1", "sdm120:1-2@101/0"):
        with pytest.raises(SimulatorError):
            parse_meter_spec(bad)
    with pytest.raises(SimulatorError, match="no_such_meter"):
        MeterSimulator(parse_meter_spec("no_such_meter:1"))


def test_dds238_relay_refuses_fc06_and_sdm120_refuses_oversized_reads(tcp_port: int) -> None:
    async def main() -> None:
        simulator = MeterSimulator(parse_meter_spec("sdm120:1,dds238:2"), clock=ManualClock())
        await simulator.start_tcp("127.0.0.1", tcp_port)
        client = AsyncModbusTcpClient("127.0.0.1", port=tcp_port, timeout=1, retries=0)
        try:
            await client.connect()
            # FC06 on the relay register: illegal function, relay unchanged
            answer = await client.write_register(0x001A, 0, device_id=2)
            assert answer.isError() and answer.exception_code == 1
            assert simulator.meters[2].relay_on is True
            # more than 40 parameters (80 registers) in one SDM120 read: illegal value
            too_many = await client.read_input_registers(0, count=81, device_id=1)
            assert too_many.isError() and too_many.exception_code == 3
            ok = await client.read_input_registers(0, count=80, device_id=1)
            assert not ok.isError()
        finally:
            client.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_the_simulator_process_serves_the_bus_and_obeys_its_control_socket(
    tcp_port: int,
) -> None:
    from tests.gateway.modbus.conftest import free_tcp_port

    control_port = free_tcp_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["greengrass_component", "."])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meter_gateway.simulator",
            "--tcp",
            f"127.0.0.1:{tcp_port}",
            "--meters",
            "sdm120:1-2,dds238:3,relay_module:101",
            "--time-scale",
            "600",
            "--control",
            f"127.0.0.1:{control_port}",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )

    async def main() -> None:
        deadline = time.monotonic() + 15
        while True:  # wait for the control socket
            try:
                await send_command("127.0.0.1", control_port, {"cmd": "snapshot"})
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
        devices = parse_meter_spec("sdm120:1-2,dds238:3,relay_module:101")
        meters = meter_configs(
            [DeviceSpec(1, "sdm120", 101, 0), DeviceSpec(2, "sdm120", 101, 1), devices[2]]
        )
        bus = open_bus(
            BusSettings(
                transport="tcp",
                tcp_port=tcp_port,
                timeout_ms=100,
                retries=0,
                offline_after_failures=1,
            )
        )
        try:
            await bus.connect()
            first = await bus.poll(meters)
            assert all(s.ok for s in first)
            # time-scaled: simulated energy keeps growing between polls
            await asyncio.sleep(0.3)
            second = await bus.poll(meters)
            assert second[2].values["import_kwh"] > first[2].values["import_kwh"]
            # unplug meter 2 through the control socket
            assert (
                await send_command("127.0.0.1", control_port, {"cmd": "silence", "address": 2})
            )["ok"] is True
            third = await bus.poll(meters)
            assert [s.ok for s in third] == [True, False, True]
            assert third[1].error == "timeout"
            snapshot = await send_command("127.0.0.1", control_port, {"cmd": "snapshot"})
            assert snapshot["snapshot"]["meters"]["2"]["silent"] is True  # type: ignore[index]
            requests = await send_command("127.0.0.1", control_port, {"cmd": "requests"})
            # over TCP: one read per SDM120 and per DDS238 each poll, plus the module read
            assert len(requests["requests"]) >= 2 * 3  # type: ignore[arg-type]
            bad = await send_command("127.0.0.1", control_port, {"cmd": "silence", "address": 99})
            assert bad["ok"] is False
        finally:
            await bus.close()

    try:
        asyncio.run(asyncio.wait_for(main(), timeout=60))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
