"""The poller against the simulator over Modbus RTU through a socat pty pair."""

from __future__ import annotations

import asyncio

from meter_gateway.bus import BusSettings, open_bus
from meter_gateway.simulator import ManualClock, MeterSimulator
from tests.gateway.modbus.bus_fixtures import SMALL_BUS, assert_matches_state, meter_configs


def test_rtu_readings_and_relay_round_trips(pty_pair: tuple[str, str]) -> None:
    gateway_end, meter_end = pty_pair

    async def main() -> None:
        # GIVEN the simulated bus on one end of a serial line and the gateway on the other
        clock = ManualClock()
        clock.advance(7.5 * 3600)
        simulator = MeterSimulator(SMALL_BUS, clock=clock, seed=11)
        await simulator.start_rtu(meter_end, baudrate=9600)
        bus = open_bus(
            BusSettings(
                transport="rtu",
                port=gateway_end,
                baudrate=9600,
                timeout_ms=500,
                retries=1,
                backoff_ms=20,
            )
        )
        meters = meter_configs(SMALL_BUS)
        try:
            await bus.connect()
            # WHEN the bus is polled
            samples = await bus.poll(meters)
            # THEN the readings match the simulator's state
            for meter, sample in zip(meters, samples, strict=True):
                assert_matches_state(sample, meter.profile, simulator.meters[meter.address].state())
                assert sample.relay_on is True
            # AND relays switch off and on with read-back, on both relay kinds
            for meter in (meters[0], meters[2]):
                off = await bus.set_relay(meter, False)
                assert off.ok and off.actual_on is False, off
            after_off = await bus.poll(meters)
            assert [s.relay_on for s in after_off] == [False, True, False, True]
            for meter in (meters[0], meters[2]):
                on = await bus.set_relay(meter, True)
                assert on.ok and on.actual_on is True, on
            assert [s.relay_on for s in await bus.poll(meters)] == [True] * 4
            # AND no transaction needed a retry on a clean line
            diagnostics = bus.diagnostics()
            assert all(d.timeouts == 0 and d.crc_errors == 0 for d in diagnostics.values())
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=60))
