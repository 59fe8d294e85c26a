"""Serial numbers: read at start, after a failure and hourly, never every cycle; the
simulator serves them where the profile names a serial register (docs/gateway-modbus.md)."""

from __future__ import annotations

import asyncio

from meter_gateway.bus import (
    MAX_SERIAL_READS_PER_CYCLE,
    SERIAL_REFRESH_MS,
    BusSettings,
    MeterConfig,
    ModbusMeterBus,
    SerialSchedule,
)
from meter_gateway.profiles import available_profiles, load_profile
from meter_gateway.simulator import ManualClock, MeterSimulator, parse_meter_spec

SERIAL_READ = (3, 0xFC00, 2)  # an Eastron meter's FC03 serial register


def _serial_reads(simulator: MeterSimulator, address: int) -> int:
    return sum(
        1
        for r in simulator.requests(address)
        if (r.function_code, r.address, r.count) == SERIAL_READ
    )


def test_the_serial_is_read_at_start_after_a_failure_and_hourly_only(tcp_port: int) -> None:
    async def main() -> None:
        # GIVEN an SDM120 (serial at FC03 0xFC00) and a DDS238 (no serial register)
        simulator = MeterSimulator(parse_meter_spec("sdm120:1,dds238:2"), clock=ManualClock())
        await simulator.start_tcp("127.0.0.1", tcp_port)
        now = [1_800_000_000_000]
        bus = ModbusMeterBus(
            BusSettings(transport="tcp", tcp_port=tcp_port, timeout_ms=100, retries=0),
            now_ms=lambda: now[0],
        )
        meters = [MeterConfig("sdm", 1, "sdm120", None), MeterConfig("dds", 2, "dds238", None)]
        expected = str(simulator.meters[1].serial)
        try:
            await bus.connect()
            # WHEN the bus starts: the first cycle reads and reports the serial
            first = await bus.poll(meters)
            assert [s.serial for s in first] == [expected, None]
            # AND the next cycles, a minute apart, do not (bus time)
            for _ in range(3):
                now[0] += 60_000
                assert [s.serial for s in await bus.poll(meters)] == [None, None]
            assert _serial_reads(simulator, 1) == 1
            # WHEN the meter is swapped: silent while the electrician works, then another
            simulator.set_silent(1)
            now[0] += 60_000
            (silent, _) = await bus.poll(meters)
            assert not silent.ok
            simulator.exchange(1, 87654321, 0.5)
            simulator.set_silent(1, False)
            now[0] += 60_000
            # THEN its first answer carries the new serial with the new register
            (back, _) = await bus.poll(meters)
            assert (back.ok, back.serial, str(back.values["import_kwh"])) == (
                True,
                "87654321",
                "0.500",
            )
            # AND an hour after the last read it is read once more, unasked
            now[0] += SERIAL_REFRESH_MS - 60_000
            assert (await bus.poll(meters))[0].serial is None
            now[0] += 60_000
            assert (await bus.poll(meters))[0].serial == "87654321"
            assert _serial_reads(simulator, 1) == 3
            # AND the DDS238 was never asked for one
            assert all(r.function_code == 3 and r.address < 0x20 for r in simulator.requests(2))
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_a_bus_that_comes_back_at_once_spreads_its_serial_reads() -> None:
    # GIVEN 10 meters never read and 2 whose reads failed since (swapped, perhaps)
    schedule = SerialSchedule()
    ids = [f"m{i}" for i in range(12)]
    for meter_id in ids:
        schedule.read(meter_id, "1", 0)
    for meter_id in ids[:10]:
        schedule.again(meter_id)
    schedule.failed("m10")
    schedule.failed("m11")
    # WHEN a cycle asks which to read
    due = schedule.due(ids, 60_000, MAX_SERIAL_READS_PER_CYCLE)
    # THEN at most the cap, the failed ones first
    assert len(due) == MAX_SERIAL_READS_PER_CYCLE
    assert {"m10", "m11"} <= due
    # AND one read an hour ago is due again; one read a minute ago is not
    fresh = SerialSchedule()
    fresh.read("a", "1", 0)
    fresh.read("b", "1", SERIAL_REFRESH_MS - 60_000)
    assert fresh.due(["a", "b"], SERIAL_REFRESH_MS, 4) == {"a"}


def test_profiles_name_a_serial_register_only_where_the_datasheet_gives_one() -> None:
    named = {n for n in available_profiles() if load_profile(n).serial is not None}
    assert named == {"sdm120", "sdm230", "sdm630", "fineco_em115", "fineco_em737"}
    for name in named:
        spec = load_profile(name).serial_spec()
        assert spec is not None and spec.data_type == "u32"
