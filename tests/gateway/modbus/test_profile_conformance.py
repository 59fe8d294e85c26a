"""Every shipped profile against its simulated meter, the relay included; a profile written
only from a datasheet (no code) polls and switches a keyed relay; the simulator refuses
what the datasheet refuses, with the meter's exception codes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient

from meter_gateway.bus import BusSettings, MeterConfig, ModbusMeterBus, RelayLink
from meter_gateway.decode import VALUE_QUANTUM
from meter_gateway.profiles import ProfileLibrary, available_profiles, load_profile
from meter_gateway.read_plan import output_keys
from meter_gateway.simulator import DeviceSpec, ManualClock, MeterSimulator
from tests.datasheet_profiles import ACME_DATASHEET

METERS = [name for name in available_profiles() if load_profile(name).registers]
MODULE = 101


def _devices(profile: str) -> list[DeviceSpec]:
    if load_profile(profile).relay is None:
        return [DeviceSpec(1, profile, MODULE, 2), DeviceSpec(MODULE, "relay_module")]
    return [DeviceSpec(1, profile)]


def _config(profile: str) -> MeterConfig:
    if load_profile(profile).relay is None:
        return MeterConfig("m1", 1, profile, RelayLink(MODULE, "relay_module", 2))
    return MeterConfig("m1", 1, profile, RelayLink(1, profile))


def _run(
    devices: list[DeviceSpec],
    port: int,
    scenario: Callable[[MeterSimulator, ModbusMeterBus, ManualClock], Awaitable[None]],
    library: ProfileLibrary | None = None,
    read_cost: str = "rtu",
) -> None:
    async def main() -> None:
        clock = ManualClock()
        simulator = MeterSimulator(devices, clock=clock, seed=11, profiles=library)
        await simulator.start_tcp("127.0.0.1", port)
        bus = ModbusMeterBus(
            BusSettings(
                transport="tcp",
                tcp_port=port,
                timeout_ms=300,
                retries=2,
                backoff_ms=5,
                read_cost=read_cost,  # type: ignore[arg-type]
            ),
            profiles=library,
        )
        try:
            await bus.connect()
            await scenario(simulator, bus, clock)
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def _tolerance(profile_name: str, key: str, expected: float) -> Decimal:
    profile = load_profile(profile_name)
    spec = profile.registers[key]  # type: ignore[index]
    step = max(VALUE_QUANTUM.get(key, Decimal("0.001")), Decimal("0.001"))
    inputs = [profile.all_registers()[n] for n in spec.dependencies()] if spec.computed else [spec]
    for source in inputs:
        if source.data_type and not source.data_type.startswith("float"):
            step = max(step, source.scale)
    # computed values add up to three quantised inputs
    return 3 * step + Decimal(abs(expected)) * Decimal("0.0005")


@pytest.mark.parametrize("read_cost", ["rtu", "tcp"])
@pytest.mark.parametrize("profile", METERS)
def test_every_profile_reads_and_switches_its_simulated_meter(
    profile: str, read_cost: str, tcp_port: int
) -> None:
    async def scenario(sim: MeterSimulator, bus: ModbusMeterBus, clock: ManualClock) -> None:
        clock.advance(19.5 * 3600)  # evening peak: every value is non-trivial
        meter = _config(profile)
        # WHEN the meter is polled with its profile's plan
        (sample,) = await bus.poll([meter])
        # THEN every value telemetry uses is there and matches the simulated meter
        assert sample.ok, sample
        assert set(sample.values) == set(output_keys(load_profile(profile)))
        state = sim.meters[1].state()
        for key, value in sample.values.items():
            expected = state.value(key) if key != "total_kwh" else state.total_kwh
            assert abs(value - Decimal(expected)) <= _tolerance(profile, key, expected), (
                key,
                value,
                expected,
            )
        assert sample.relay_on is True
        # AND the relay opens, reads back open, and consumption stops
        result = await bus.set_relay(meter, False)
        assert (result.ok, result.actual_on, result.refused) == (True, False, False), result
        assert sim.meters[1].relay_on is False
        before = sim.meters[1].state().import_kwh
        clock.advance(600)
        assert sim.meters[1].state().import_kwh == before
        (sample,) = await bus.poll([meter])
        assert sample.relay_on is False
        # AND closes again
        assert (await bus.set_relay(meter, True)).ok
        assert sim.meters[1].relay_on is True
        # AND the meter never had to refuse a request
        assert not [r for r in sim.requests() if r.exception_code is not None]

    _run(_devices(profile), tcp_port, scenario, read_cost=read_cost)


def _acme(key: str = "lo16(serial_number) ^ 0xA55A") -> dict[str, Any]:
    relay = dict(ACME_DATASHEET["relay"])
    for sequence in ("turn_on", "turn_off"):
        first, second = relay[sequence]
        relay[sequence] = [{**first, "values": [key]}, second]
    return {**ACME_DATASHEET, "relay": relay}


def test_a_profile_from_a_datasheet_alone_polls_and_switches_a_keyed_relay(tcp_port: int) -> None:
    # GIVEN the datasheet's meter, arriving as configuration (no code, no shipped file)
    library = ProfileLibrary.from_config({"acme_km1": ACME_DATASHEET})
    meter = MeterConfig("acme", 1, "acme_km1", RelayLink(1, "acme_km1"))

    async def scenario(sim: MeterSimulator, bus: ModbusMeterBus, clock: ManualClock) -> None:
        clock.advance(19 * 3600)
        # WHEN it is polled THEN BCD energy, scaled voltage and a little-endian s32 decode
        (sample,) = await bus.poll([meter])
        state = sim.meters[1].state()
        assert sample.ok and sample.relay_on is True
        assert abs(sample.values["import_kwh"] - Decimal(state.import_kwh)) <= Decimal("0.01")
        assert abs(sample.values["v"] - Decimal(state.v)) <= Decimal("0.1")
        assert abs(sample.values["w"] - Decimal(state.w)) <= Decimal("1")
        # WHEN the relay is opened THEN the serial is read, the key written, then the command
        sim.reset_requests()
        result = await bus.set_relay(meter, False)
        assert result.ok and result.actual_on is False
        assert [(r.function_code, r.address) for r in sim.requests()] == [
            (3, 0x0100),
            (16, 0x0102),
            (6, 0x0103),
            (3, 0x0103),
        ]
        assert sim.meters[1].relay_on is False

    _run([DeviceSpec(1, "acme_km1")], tcp_port, scenario, library=library)


def test_a_wrong_key_is_refused_once_and_the_read_back_is_reported(tcp_port: int) -> None:
    # GIVEN the simulator runs the datasheet's meter, but the gateway's profile has the
    # key formula wrong (the field report of issue 17)
    meter_library = ProfileLibrary.from_config({"acme_km1": ACME_DATASHEET})
    wrong = ProfileLibrary.from_config({"acme_km1": _acme("lo16(serial_number) ^ 0x5AA5")})
    meter = MeterConfig("acme", 1, "acme_km1", RelayLink(1, "acme_km1"))

    async def main() -> None:
        simulator = MeterSimulator(
            [DeviceSpec(1, "acme_km1")], clock=ManualClock(), profiles=meter_library
        )
        await simulator.start_tcp("127.0.0.1", tcp_port)
        bus = ModbusMeterBus(
            BusSettings(transport="tcp", tcp_port=tcp_port, timeout_ms=300, retries=2),
            profiles=wrong,
        )
        try:
            await bus.connect()
            # WHEN the gateway opens the relay
            result = await bus.set_relay(meter, False)
            # THEN the meter refuses with 03, the gateway does not send it again, and the
            # result carries the state read back (on), not "unknown"
            assert (result.ok, result.refused, result.actual_on) == (False, True, True)
            assert result.error == "refused:exception:03" and result.attempts == 1
            writes = [r for r in simulator.requests() if r.function_code == 16]
            assert [w.exception_code for w in writes] == [3]
            assert simulator.meters[1].relay_on is True
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_the_simulator_refuses_what_the_datasheet_refuses(tcp_port: int) -> None:
    async def main() -> None:
        devices = [DeviceSpec(1, "fineco_em115"), DeviceSpec(2, "ddsu666")]
        simulator = MeterSimulator(devices, clock=ManualClock())
        await simulator.start_tcp("127.0.0.1", tcp_port)
        client = AsyncModbusTcpClient("127.0.0.1", port=tcp_port, timeout=1, retries=0)
        await client.connect()
        meter = simulator.meters[1]
        key = ((int(meter.constants["serial_number"]) >> 24) + (int(meter.constants["serial_number"]) >> 8)) & 0x1234  # fmt: skip
        try:
            # a function code the meter does not have (EM115: FC04 and FC16 only) -> 01
            answer = await client.read_holding_registers(0x0002, count=2, device_id=1)
            assert answer.isError() and answer.exception_code == 1
            # the relay command with one register instead of [key, state] -> 03
            answer = await client.write_registers(0x0566, [0xAAAA], device_id=1)
            assert answer.isError() and answer.exception_code == 3
            # the wrong key -> 03, relay unchanged
            answer = await client.write_registers(0x0566, [key ^ 1, 0xAAAA], device_id=1)
            assert answer.isError() and answer.exception_code == 3
            assert meter.relay_on is True
            # the right key -> accepted, relay open
            answer = await client.write_registers(0x0566, [key, 0xAAAA], device_id=1)
            assert not answer.isError() and meter.relay_on is False
            # a read longer than the documented maximum -> 03; outside the map -> 02
            answer = await client.read_input_registers(0x2000, count=33, device_id=2)
            assert answer.isError() and answer.exception_code == 3
            answer = await client.read_input_registers(0x3000, count=2, device_id=2)
            assert answer.isError() and answer.exception_code == 2
        finally:
            client.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=30))
