"""How the bus classifies failures: exception codes, garbage frames, a dead link."""

from __future__ import annotations

import asyncio

import pytest

from meter_gateway.bus import BusSettings, MeterConfig, open_bus
from meter_gateway.errors import BusConnectError
from meter_gateway.modbus_link import ModbusLink
from meter_gateway.simulator import ManualClock, MeterSimulator, parse_meter_spec


def test_an_exception_response_is_counted_by_code_and_not_retried(tcp_port: int) -> None:
    async def main() -> None:
        # GIVEN a DDS238 at address 5 but configured as an SDM120 (FC04 it does not serve)
        simulator = MeterSimulator(parse_meter_spec("dds238:5"), clock=ManualClock())
        await simulator.start_tcp("127.0.0.1", tcp_port)
        bus = open_bus(BusSettings(transport="tcp", tcp_port=tcp_port, timeout_ms=200, retries=2))
        wrong = MeterConfig("wrong", 5, "sdm120", None)
        try:
            await bus.connect()
            # WHEN it is polled
            (sample,) = await bus.poll([wrong])
            # THEN the sample carries the exception code and the meter was asked once
            assert (sample.ok, sample.error) == (False, "exception:02")
            assert len(simulator.requests(5)) == 1
            diagnostics = bus.diagnostics()["wrong"]
            assert diagnostics.exception_codes == {2: 1}
            assert diagnostics.timeouts == 0 and diagnostics.consecutive_failures == 1
        finally:
            await bus.close()
            await simulator.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_bytes_that_never_form_a_frame_are_a_crc_error_not_a_timeout(tcp_port: int) -> None:
    async def main() -> None:
        # GIVEN a "device" that answers every request with line noise
        async def noisy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await reader.read(256):
                writer.write(b"\xff\xfe\x00")
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(noisy, "127.0.0.1", tcp_port)
        bus = open_bus(
            BusSettings(transport="tcp", tcp_port=tcp_port, timeout_ms=100, retries=1, backoff_ms=1)
        )
        meter = MeterConfig("noisy", 1, "dds238", None)
        try:
            await bus.connect()
            # WHEN it is polled
            (sample,) = await bus.poll([meter])
            # THEN the failure is classified as a frame (CRC) error, per attempt
            assert (sample.ok, sample.error) == (False, "crc")
            diagnostics = bus.diagnostics()["noisy"]
            assert (diagnostics.crc_errors, diagnostics.timeouts) == (2, 0)
        finally:
            await bus.close()
            server.close()
            await server.wait_closed()

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_a_dead_link_is_reported_per_meter_and_counted(tcp_port: int) -> None:
    async def main() -> None:
        # GIVEN a bus whose link (a TCP gateway here, a serial port on a device) is down
        bus = open_bus(
            BusSettings(transport="tcp", tcp_port=tcp_port, timeout_ms=100, retries=1, backoff_ms=1)
        )
        await bus.connect()  # not fatal: the gateway keeps polling and saying so
        # WHEN a meter is polled
        (sample,) = await bus.poll([MeterConfig("m1", 1, "dds238", None)])
        # THEN the sample says "connect", and every attempt is counted as a connection failure
        assert (sample.ok, sample.error) == (False, "connect")
        diagnostics = bus.diagnostics()["m1"]
        assert diagnostics.connect_failures == 2
        assert (diagnostics.timeouts, diagnostics.crc_errors) == (0, 0)
        with pytest.raises(BusConnectError, match=f"127.0.0.1:{tcp_port}"):
            await ModbusLink(BusSettings(transport="tcp", tcp_port=tcp_port)).connect()
        await bus.close()

    asyncio.run(asyncio.wait_for(main(), timeout=30))
