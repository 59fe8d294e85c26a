"""A meter unplugged: the others keep their cycle time, the missing one is reported offline."""

from __future__ import annotations

import asyncio
import time

from meter_gateway.bus import MAX_PROBE_INTERVAL_CYCLES, BusSettings, MeterSample, open_bus
from meter_gateway.simulator import ManualClock, MeterSimulator
from tests.gateway.modbus.bus_fixtures import SMALL_BUS, meter_configs

# Long enough that scheduling noise on a loaded CI machine is small against it: the bounds
# below are counted in time-outs and requests, the units the behaviour is about.
TIMEOUT_MS = 200
RETRIES = 3


def test_an_unplugged_meter_goes_offline_without_stalling_the_bus(tcp_port: int) -> None:
    async def main() -> None:
        simulator = MeterSimulator(SMALL_BUS, clock=ManualClock(), seed=3)
        await simulator.start_tcp("127.0.0.1", tcp_port)
        settings = BusSettings(
            transport="tcp",
            tcp_port=tcp_port,
            timeout_ms=TIMEOUT_MS,
            retries=RETRIES,
            backoff_ms=10,
            offline_after_failures=2,
        )
        bus = open_bus(settings)
        meters = meter_configs(SMALL_BUS)
        unplugged = meters[2]  # a DDS238

        async def timed_poll() -> tuple[float, list[MeterSample]]:
            started = time.monotonic()
            samples = await bus.poll(meters)
            return (time.monotonic() - started) * 1000, samples

        try:
            await bus.connect()
            # GIVEN a healthy bus and its cycle time
            baseline_ms = max([(await timed_poll())[0] for _ in range(3)])
            # WHEN one meter stops answering
            simulator.set_silent(unplugged.address)
            cycles, dead_requests = [], []
            for _ in range(12):
                before = len(simulator.requests(unplugged.address))
                cycles.append(await timed_poll())
                dead_requests.append(len(simulator.requests(unplugged.address)) - before)
            # THEN every other meter is read in every cycle
            for _, samples in cycles:
                others = [s for s in samples if s.meter_id != unplugged.meter_id]
                assert all(s.ok for s in others)
                missing = next(s for s in samples if s.meter_id == unplugged.meter_id)
                assert not missing.ok and missing.error in ("timeout", "offline")
                assert missing.values == {}
            # AND it is reported offline after offline_after_failures polls
            diagnostics = bus.diagnostics()[unplugged.meter_id]
            assert diagnostics.online is False
            assert diagnostics.consecutive_failures >= 2
            assert diagnostics.timeouts >= 2 * (settings.retries + 1)
            # AND once offline it costs at most one request (one probe time-out) per cycle,
            # never the RETRIES + 1 time-outs of a bus that waits for it: counted in requests,
            # which no load can change, and in wall time against that stalled budget (the
            # other meters keep their cycle time; scheduling noise is far below 3 time-outs)
            stalled_ms = (settings.retries + 1) * TIMEOUT_MS
            for (cycle_ms, _), requests in zip(cycles[2:], dead_requests[2:], strict=True):
                assert requests <= 1, dead_requests
                assert cycle_ms < baseline_ms + stalled_ms, (cycle_ms, baseline_ms)
            # AND it is probed less and less often (bounded requests to a dead address)
            probes_after_offline = len(simulator.requests(unplugged.address)) - 2 * (
                settings.retries + 1
            )
            assert 1 <= probes_after_offline < 10
            # WHEN it is plugged back in
            simulator.set_silent(unplugged.address, False)
            for _ in range(MAX_PROBE_INTERVAL_CYCLES + 1):
                _, samples = await timed_poll()
                if next(s for s in samples if s.meter_id == unplugged.meter_id).ok:
                    break
            # THEN it is back online within one probe interval
            assert bus.diagnostics()[unplugged.meter_id].online is True
            assert bus.diagnostics()[meters[0].meter_id].timeouts == 0
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=90))
