"""The poller against the simulator over Modbus TCP: readings, relay round trips."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from meter_gateway.bus import BusSettings, ModbusMeterBus, open_bus
from meter_gateway.simulator import ManualClock, MeterSimulator
from tests.gateway.modbus.bus_fixtures import SMALL_BUS, assert_matches_state, meter_configs


def run_with_simulator(
    port: int, scenario: Callable[[MeterSimulator, ModbusMeterBus, ManualClock], Awaitable[None]]
) -> None:
    async def main() -> None:
        clock = ManualClock()
        simulator = MeterSimulator(SMALL_BUS, clock=clock, seed=7)
        await simulator.start_tcp("127.0.0.1", port)
        bus = open_bus(
            BusSettings(transport="tcp", tcp_port=port, timeout_ms=200, retries=1, backoff_ms=10)
        )
        assert isinstance(bus, ModbusMeterBus)
        try:
            await bus.connect()
            await scenario(simulator, bus, clock)
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_readings_match_the_simulator_state(tcp_port: int) -> None:
    async def scenario(sim: MeterSimulator, bus: ModbusMeterBus, clock: ManualClock) -> None:
        # GIVEN four meters of two profiles at a frozen simulated instant (evening peak)
        clock.advance(19.5 * 3600)
        meters = meter_configs(SMALL_BUS)
        # WHEN the bus is polled once
        samples = await bus.poll(meters)
        # THEN every reading equals the simulator's state within the register resolution
        for meter, sample in zip(meters, samples, strict=True):
            assert_matches_state(sample, meter.profile, sim.meters[meter.address].state())
            assert sample.relay_on is True
            assert sample.error is None
        # AND the poller used its TCP plan: 1 read per SDM120 (the largest allowed block),
        # 1 per DDS238 (relay read-back included), 1 for the module; the gateway's first
        # cycle also reads each SDM120's serial number (the DDS238 has none)
        per_device = {a: len(sim.requests(a)) for a in (1, 2, 3, 4, 101)}
        assert per_device == {1: 1 + 1, 2: 1 + 1, 3: 1, 4: 1, 101: 1}
        assert [s.serial for s in samples] == [
            str(sim.meters[1].serial),
            str(sim.meters[2].serial),
            None,
            None,
        ]
        diagnostics = bus.diagnostics()
        assert all(d.successes == 1 and d.online for d in diagnostics.values())

    run_with_simulator(tcp_port, scenario)


def test_dds238_relay_round_trip_with_read_back_stops_consumption(tcp_port: int) -> None:
    async def scenario(sim: MeterSimulator, bus: ModbusMeterBus, clock: ManualClock) -> None:
        dds = next(m for m in meter_configs(SMALL_BUS) if m.address == 3)
        clock.advance(8 * 3600)
        # WHEN the relay is switched off
        result = await bus.set_relay(dds, False)
        # THEN it was written with FC16 and read back off, first attempt
        assert (result.ok, result.actual_on, result.attempts, result.error) == (
            True,
            False,
            1,
            None,
        )
        assert [r.function_code for r in sim.requests(3)] == [16, 3]
        # AND the meter stops consuming: an hour later its import is unchanged
        before = (await bus.poll([dds]))[0]
        clock.advance(3600)
        after = (await bus.poll([dds]))[0]
        assert before.relay_on is False and after.relay_on is False
        assert after.values["import_kwh"] == before.values["import_kwh"]
        assert after.values["w"] == 0
        # WHEN it is switched back on, THEN consumption resumes
        assert (await bus.set_relay(dds, True)).actual_on is True
        clock.advance(3600)
        resumed = (await bus.poll([dds]))[0]
        assert resumed.relay_on is True
        assert resumed.values["import_kwh"] > after.values["import_kwh"]

    run_with_simulator(tcp_port, scenario)


def test_sdm120_relay_module_round_trip_switches_only_its_channel(tcp_port: int) -> None:
    async def scenario(sim: MeterSimulator, bus: ModbusMeterBus, clock: ManualClock) -> None:
        meters = meter_configs(SMALL_BUS)
        first = meters[0]
        clock.advance(12 * 3600)
        # WHEN the first SDM120's relay-module channel is opened
        result = await bus.set_relay(first, False)
        # THEN the module's coil was written (FC05) and read back (FC01)
        assert result.ok and result.actual_on is False
        assert [r.function_code for r in sim.requests(101)] == [5, 1]
        assert sim.relay_modules[101].coils[:2] == [False, True]
        # AND a poll shows channel 0 open, channel 1 closed; only the first stops using energy
        start = await bus.poll(meters)
        clock.advance(1800)
        end = await bus.poll(meters)
        assert (start[0].relay_on, start[1].relay_on) == (False, True)
        assert end[0].values["import_kwh"] == start[0].values["import_kwh"]
        assert end[1].values["import_kwh"] > start[1].values["import_kwh"]
        assert (await bus.set_relay(first, True)).actual_on is True

    run_with_simulator(tcp_port, scenario)


def test_a_meter_without_relay_reports_no_relay(tcp_port: int) -> None:
    async def scenario(sim: MeterSimulator, bus: ModbusMeterBus, clock: ManualClock) -> None:
        bare = meter_configs(SMALL_BUS)[0]
        bare = type(bare)(bare.meter_id, bare.address, bare.profile, None)
        result = await bus.set_relay(bare, False)
        assert (result.ok, result.error, result.attempts) == (False, "no_relay", 0)
        (sample,) = await bus.poll([bare])
        assert sample.ok and sample.relay_on is None
        assert sim.requests(101) == []

    run_with_simulator(tcp_port, scenario)


def test_a_reading_lower_than_the_previous_one_is_counted_as_backwards(tcp_port: int) -> None:
    async def scenario(sim: MeterSimulator, bus: ModbusMeterBus, clock: ManualClock) -> None:
        meters = meter_configs(SMALL_BUS)
        await bus.poll(meters)
        # GIVEN a DDS238 whose register goes down (a misread, a reset, a swapped meter)
        sim.meters[3]._import_kwh -= 5.0
        # WHEN the bus is polled again
        samples = await bus.poll(meters)
        # THEN the reading is still reported (the cloud's validation decides) and counted
        assert samples[2].ok
        diagnostics = bus.diagnostics()
        assert diagnostics["m003"].backwards == 1
        assert diagnostics["m004"].backwards == 0

    run_with_simulator(tcp_port, scenario)
