"""One Modbus link (serial port or TCP connection) and its failure classification.

Every transaction is a single attempt with a hard time limit; retries and back-off
are the poller's business, so that it can count them and stop retrying a dead meter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from meter_gateway.bus_settings import BusSettings
from meter_gateway.errors import (
    BusConnectError,
    ModbusExceptionResponseError,
    ModbusFrameError,
    ModbusTimeoutError,
)

# pymodbus closes a link after a few unanswered requests in a row; on a shared bus one
# unplugged meter would then cut every other meter off, so allow this many instead.
MAX_UNANSWERED_BEFORE_DISCONNECT = 1_000
# Extra allowance over the Modbus time-out before we abandon a transaction ourselves.
HARD_LIMIT_MARGIN_MS = 500

_log = logging.getLogger(__name__)


class ModbusLink:
    def __init__(self, settings: BusSettings) -> None:
        self._settings = settings
        self._client: AsyncModbusSerialClient | AsyncModbusTcpClient | None = None
        self._rx_bytes = 0

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self._rx_bytes += len(data)
        return data

    def _build_client(self) -> AsyncModbusSerialClient | AsyncModbusTcpClient:
        s = self._settings
        timeout_s = s.timeout_ms / 1000
        client: AsyncModbusSerialClient | AsyncModbusTcpClient
        if s.transport == "tcp":
            client = AsyncModbusTcpClient(
                s.host,
                port=s.tcp_port,
                timeout=timeout_s,
                retries=0,
                trace_packet=self._trace_packet,
            )
        else:
            client = AsyncModbusSerialClient(
                s.port,
                baudrate=s.baudrate,
                parity=s.parity,
                stopbits=s.stopbits,
                bytesize=s.bytesize,
                timeout=timeout_s,
                retries=0,
                trace_packet=self._trace_packet,
            )
        client.set_max_no_responses(MAX_UNANSWERED_BEFORE_DISCONNECT)
        return client

    async def connect(self) -> None:
        if self._client is None:
            self._client = self._build_client()
        if self._client.connected:
            return
        limit_s = (self._settings.timeout_ms + HARD_LIMIT_MARGIN_MS) / 1000 + 2
        try:
            connected = await asyncio.wait_for(self._client.connect(), timeout=limit_s)
        except (TimeoutError, OSError, ModbusException) as exc:
            raise BusConnectError(f"cannot open the Modbus link: {exc}") from exc
        if not connected:
            raise BusConnectError(f"cannot open the Modbus link ({self._describe()})")

    def _describe(self) -> str:
        s = self._settings
        return f"tcp {s.host}:{s.tcp_port}" if s.transport == "tcp" else f"rtu {s.port}"

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _execute(self, request: Callable[[], Awaitable[ModbusPDU]], what: str) -> ModbusPDU:
        await self.connect()
        rx_before = self._rx_bytes
        limit_s = (self._settings.timeout_ms + HARD_LIMIT_MARGIN_MS) / 1000
        try:
            response = await asyncio.wait_for(request(), timeout=limit_s)
        except (ModbusIOException, TimeoutError) as exc:
            if self._rx_bytes > rx_before:
                # Bytes arrived but never formed a valid answer: CRC, framing or a
                # reply from the wrong device, not silence.
                raise ModbusFrameError(f"{what}: invalid frame") from exc
            raise ModbusTimeoutError(f"{what}: no answer") from exc
        except ConnectionException as exc:
            await self.close()
            raise BusConnectError(f"{what}: link lost: {exc}") from exc
        except ModbusException as exc:
            raise ModbusFrameError(f"{what}: {exc}") from exc
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            raise ModbusExceptionResponseError(f"{what}: exception {code:02d}", code)
        return response

    async def read(self, function_code: int, device_id: int, address: int, count: int) -> list[int]:
        """Registers (FC03/FC04) or coils as 0/1 (FC01/FC02) from one read request."""
        client = self._require_client()
        what = f"device {device_id} FC{function_code:02d} 0x{address:04X}+{count}"
        readers = {
            1: client.read_coils,
            2: client.read_discrete_inputs,
            3: client.read_holding_registers,
            4: client.read_input_registers,
        }
        reader = readers[function_code]
        response = await self._execute(
            lambda: reader(address, count=count, device_id=device_id), what
        )
        if function_code in (1, 2):
            bits = list(response.bits)
            if len(bits) < count:
                raise ModbusFrameError(f"{what}: {len(bits)} coils in answer")
            return [int(bit) for bit in bits[:count]]
        registers = list(response.registers)
        if len(registers) != count:
            raise ModbusFrameError(f"{what}: {len(registers)} registers in answer")
        return registers

    async def write_registers(self, device_id: int, address: int, values: list[int]) -> None:
        """FC16, even for one register (some meters refuse FC06 on their relay)."""
        client = self._require_client()
        what = f"device {device_id} FC16 0x{address:04X}"
        await self._execute(
            lambda: client.write_registers(address, values, device_id=device_id), what
        )

    async def write_coil(self, device_id: int, address: int, value: bool) -> None:
        client = self._require_client()
        what = f"device {device_id} FC05 0x{address:04X}"
        await self._execute(lambda: client.write_coil(address, value, device_id=device_id), what)

    async def write(
        self, function_code: int, device_id: int, address: int, values: list[int]
    ) -> None:
        """One write request with the function code the profile names (05, 06, 15, 16)."""
        client = self._require_client()
        what = f"device {device_id} FC{function_code:02d} 0x{address:04X}+{len(values)}"
        if function_code == 5:
            request = lambda: client.write_coil(address, bool(values[0]), device_id=device_id)  # noqa: E731
        elif function_code == 6:
            request = lambda: client.write_register(address, values[0], device_id=device_id)  # noqa: E731
        elif function_code == 15:
            bits = [bool(v) for v in values]
            request = lambda: client.write_coils(address, bits, device_id=device_id)  # noqa: E731
        elif function_code == 16:
            request = lambda: client.write_registers(address, values, device_id=device_id)  # noqa: E731
        else:
            raise ValueError(f"FC{function_code:02d} is not a write")
        await self._execute(request, what)

    def _require_client(self) -> AsyncModbusSerialClient | AsyncModbusTcpClient:
        if self._client is None:
            self._client = self._build_client()
        return self._client
