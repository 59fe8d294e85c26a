"""The simulator: builds pymodbus SimDevices from profiles and serves them (TCP or RTU).

pymodbus 3.16 answers from ``SimDevice``/``SimData`` register blocks and calls the
device's ``action`` coroutine on every access; our action refreshes the block from the
simulated meter first, so every answer reflects the meter's state at that instant.
Requests are recorded from the server's PDU trace so that a benchmark can count what a
client really sent, including requests to a device that stays silent.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from meter_gateway.errors import ProfileError, SimulatorError
from meter_gateway.profile_model import MeterProfile
from meter_gateway.profiles import ProfileLibrary
from meter_gateway.simulator.clock import ScaledClock, SimClock
from meter_gateway.simulator.meters import SimulatedMeter, SimulatedRelayModule
from meter_gateway.simulator.spec import DeviceSpec

MAX_RECORDED_REQUESTS = 200_000
RTU_ENVELOPE_BYTES = 4  # address + function code + CRC16 around a PDU payload


@dataclass
class RequestRecord:
    device_id: int
    function_code: int
    address: int
    count: int
    request_bytes: int  # as an RTU frame
    response_bytes: int | None = None  # None: no answer (silent device)
    exception_code: int | None = None


@dataclass
class _Recorder:
    records: deque[RequestRecord] = field(
        default_factory=lambda: deque(maxlen=MAX_RECORDED_REQUESTS)
    )
    pending: dict[int, RequestRecord] = field(default_factory=dict)

    def trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        rtu_bytes = len(pdu.encode()) + RTU_ENVELOPE_BYTES
        if not sending:
            count = getattr(pdu, "count", 0)
            written = getattr(pdu, "registers", None) or getattr(pdu, "bits", None)
            if pdu.function_code in (5, 6, 15, 16) and written:
                count = len(written)
            record = RequestRecord(
                pdu.dev_id, pdu.function_code, getattr(pdu, "address", 0), count, rtu_bytes
            )
            self.records.append(record)
            self.pending[pdu.dev_id] = record
            return pdu
        record_or_none = self.pending.pop(pdu.dev_id, None)
        if record_or_none is not None:
            record_or_none.response_bytes = rtu_bytes
            if isinstance(pdu, ExceptionResponse):
                record_or_none.exception_code = pdu.exception_code
        return pdu


def _intervals(
    profile: MeterProfile, read_code: int, write_codes: tuple[int, ...]
) -> list[tuple[int, int]]:
    """The address range every table of the device covers: from the lowest to the highest
    address the profile names (spans and relay writes, any table). pymodbus answers 02 by
    itself outside it; inside, the device's action judges every request by the profile
    (01 for a function code it lacks, 02 outside its spans, 03 beyond its read limit)."""
    ranges = [(s.first, s.last) for s in profile.readable_spans]
    relay = profile.relay
    if relay is not None:
        for on in (True, False):
            for step in relay.steps(on):
                last = step.address + len(step.values) - 1
                last += (relay.channels - 1) * relay.channel_stride
                ranges.append((step.address, min(last, 0xFFFF)))
    return [(min(first for first, _ in ranges), max(last for _, last in ranges))]


def _register_blocks(profile: MeterProfile, function_code: int) -> list[SimData]:
    writes = (6, 16) if function_code == 3 else ()
    ranges = _intervals(profile, function_code, writes)
    if not ranges:
        return [SimData(address=0, count=1, datatype=DataType.INVALID)]
    return [
        SimData(address=first, count=last - first + 1, values=0, datatype=DataType.REGISTERS)
        for first, last in ranges
    ]


def _bit_blocks(profile: MeterProfile, function_code: int) -> list[SimData]:
    writes = (5, 15) if function_code == 1 else ()
    ranges = _intervals(profile, function_code, writes)
    first, last = (ranges[0][0], ranges[-1][1]) if ranges else (0, 15)
    return [SimData(address=first, values=[False] * (last - first + 1), datatype=DataType.BITS)]


def _sim_device(device_id: int, profile: MeterProfile, action: object) -> SimDevice:
    # Separate blocks per table: input and holding registers of a meter are different
    # registers, as on the real devices.
    return SimDevice(
        id=device_id,
        simdata=(
            _bit_blocks(profile, 1),
            _bit_blocks(profile, 2),
            _register_blocks(profile, 3),
            _register_blocks(profile, 4),
        ),
        action=action,  # type: ignore[arg-type]
    )


async def _no_such_device(*_args: object) -> None:
    # An address nobody answers on: a real bus stays quiet, so does the simulator.
    raise NoSuchIdException("no device at this address")


class MeterSimulator:
    """N simulated meters (and relay modules) on one bus, served over TCP or RTU."""

    def __init__(
        self,
        devices: Sequence[DeviceSpec],
        *,
        seed: int = 1,
        clock: SimClock | None = None,
        time_scale: float = 1.0,
        initial_import_kwh: Mapping[int, float] | None = None,
        profiles_dir: Path | None = None,
        profiles: ProfileLibrary | None = None,
    ) -> None:
        if not devices:
            raise SimulatorError("the simulator needs at least one device")
        self.clock: SimClock = clock or ScaledClock(time_scale)
        self.meters: dict[int, SimulatedMeter] = {}
        self.relay_modules: dict[int, SimulatedRelayModule] = {}
        self._recorder = _Recorder()
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._serve_task: asyncio.Task[None] | None = None
        for spec in devices:
            try:
                profile = (profiles or ProfileLibrary(profiles_dir=profiles_dir)).get(spec.profile)
            except ProfileError as exc:
                raise SimulatorError(f"device {spec.address}: {exc}") from exc
            if profile.relay is not None and profile.relay.is_coil and not profile.registers:
                self.relay_modules[spec.address] = SimulatedRelayModule(spec.address, profile)
            else:
                start = (initial_import_kwh or {}).get(spec.address)
                self.meters[spec.address] = SimulatedMeter(
                    spec.address, profile, self.clock, seed, initial_import_kwh=start
                )
        self._pair(devices)

    def _pair(self, devices: Sequence[DeviceSpec]) -> None:
        free = [
            (m.address, ch)
            for m in sorted(self.relay_modules.values(), key=lambda m: m.address)
            for ch in range(len(m.coils))
        ]
        for spec in devices:
            meter = self.meters.get(spec.address)
            if meter is None or meter.profile.relay is not None:
                continue
            if spec.relay_module is not None:
                module_address, channel = spec.relay_module, spec.channel or 0
            elif free:
                module_address, channel = free[0]
            else:
                continue  # a meter without any relay: readings only
            module = self.relay_modules.get(module_address)
            if module is None:
                raise SimulatorError(f"meter {spec.address}: no relay module at {module_address}")
            module.pair(channel, meter)
            if (module_address, channel) in free:
                free.remove((module_address, channel))

    # --- serving -----------------------------------------------------------------
    def _sim_devices(self) -> list[SimDevice]:
        sim_devices = [_sim_device(a, m.profile, m.action) for a, m in self.meters.items()]
        sim_devices += [_sim_device(a, m.profile, m.action) for a, m in self.relay_modules.items()]
        any_profile = next(iter(self.meters.values()), None) or next(
            iter(self.relay_modules.values())
        )
        sim_devices.append(_sim_device(0, any_profile.profile, _no_such_device))
        return sim_devices

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 5020) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SimulatorError("the simulator only listens on loopback")
        self._server = ModbusTcpServer(
            self._sim_devices(),
            address=(host, port),
            ignore_missing_devices=True,
            trace_pdu=self._recorder.trace_pdu,
        )
        await self._start()

    async def start_rtu(self, port: str, baudrate: int = 9600) -> None:
        self._server = ModbusSerialServer(
            self._sim_devices(),
            framer=FramerType.RTU,
            port=port,
            baudrate=baudrate,
            ignore_missing_devices=True,
            trace_pdu=self._recorder.trace_pdu,
        )
        await self._start()

    async def _start(self) -> None:
        assert self._server is not None
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        if self._server is not None:
            # pymodbus leaves shutdown() unannotated
            await cast(Any, self._server).shutdown()
            self._server = None

    # --- control -----------------------------------------------------------------
    def set_silent(self, address: int, silent: bool = True) -> None:
        """Unplug (``silent``) or plug back the device at ``address``."""
        device = self.meters.get(address) or self.relay_modules.get(address)
        if device is None:
            raise SimulatorError(f"no simulated device at {address}")
        device.silent = silent

    def exchange(self, address: int, serial: int, import_kwh: float) -> None:
        """Swap the meter at ``address`` for one with another serial and register."""
        meter = self.meters.get(address)
        if meter is None:
            raise SimulatorError(f"no simulated meter at {address}")
        meter.exchange(serial, import_kwh)

    def requests(self, device_id: int | None = None) -> list[RequestRecord]:
        records = list(self._recorder.records)
        return records if device_id is None else [r for r in records if r.device_id == device_id]

    def reset_requests(self) -> None:
        self._recorder.records.clear()
        self._recorder.pending.clear()

    def snapshot(self) -> dict[str, object]:
        """Every meter's state and every relay module's coils, JSON-ready."""
        meters = {}
        for address, meter in sorted(self.meters.items()):
            state = meter.state()
            meters[str(address)] = {
                "profile": meter.profile.name,
                "import_kwh": state.import_kwh,
                "w": state.w,
                "relay_on": state.relay_on,
                "silent": meter.silent,
                "serial": meter.serial,
            }
        modules = {
            str(a): {"coils": m.coils, "silent": m.silent} for a, m in self.relay_modules.items()
        }
        return {"now_s": self.clock.now_s(), "meters": meters, "relay_modules": modules}
