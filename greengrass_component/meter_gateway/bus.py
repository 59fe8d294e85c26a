"""The meter bus: one owner of the serial port (or TCP link) that polls and switches.

``open_bus(settings)`` returns a ``MeterBus``. ``poll`` reads every meter once with the
profile's read plan (see read_plan.py) and never raises for one meter's failure: a meter
that does not answer is reported ``ok=False``, and once it has failed
``offline_after_failures`` polls in a row it is probed with a single attempt, at most
every few cycles, so it cannot stretch the cycle of the meters that still answer.

``set_relay`` switches as the profile says (relay_control.py) and always reads the relay
back: the read-back is what is reported. A write the device refuses with an exception is
not sent again; the same write would get the same answer (issue 17).

A meter whose profile names a ``serial`` register has its serial number read when it is
due (``SerialSchedule``): at the gateway's start, at the first answer after the meter
failed to answer (a swap needs the meter disconnected), and hourly; not every cycle, for
bus time. The sample of that cycle carries it (``MeterSample.serial``), and telemetry
sends it as ``sn``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from meter_gateway.bus_settings import BusSettings
from meter_gateway.decode import compute_values, decode_block, raw_value, relay_state_in_block
from meter_gateway.errors import (
    BusConnectError,
    BusError,
    DecodeError,
    ExpressionError,
    ModbusExceptionResponseError,
    ModbusFrameError,
    ModbusTimeoutError,
    ProfileError,
    ReadPlanError,
)
from meter_gateway.modbus_link import ModbusLink
from meter_gateway.profile_model import MeterProfile
from meter_gateway.profiles import ProfileLibrary, shipped_library
from meter_gateway.read_plan import ReadBlock, ReadPlan, output_keys, plan_coil_read, plan_reads
from meter_gateway.relay_control import read_relay, write_relay

__all__ = [
    "BusSettings",
    "MeterBus",
    "MeterConfig",
    "MeterDiagnostics",
    "MeterSample",
    "ModbusMeterBus",
    "RelayLink",
    "RelayResult",
    "SerialSchedule",
    "open_bus",
]

# An offline device is probed at most every 2^k cycles, k growing to this cap.
MAX_PROBE_INTERVAL_CYCLES = 16
# However many meters are unplugged, at most this many probes (each may cost a
# time-out) are spent in one cycle.
MAX_PROBES_PER_CYCLE = 2
# A serial number is read again this often while the meter answers throughout (a swap
# quick enough to fall between two cycles is still seen within the hour).
SERIAL_REFRESH_MS = 3_600_000
# At most this many serial reads in one cycle (each ~55 ms of an RS-485 bus at 9600
# baud): a bus that comes back all at once spreads them over a few cycles, and a
# message carries at most this many `sn`.
MAX_SERIAL_READS_PER_CYCLE = 4


@dataclass(frozen=True)
class RelayLink:
    address: int
    profile: str
    channel: int = 0


@dataclass(frozen=True)
class MeterConfig:
    meter_id: str
    address: int
    profile: str
    relay: RelayLink | None


@dataclass(frozen=True)
class MeterSample:
    meter_id: str
    ok: bool
    values: Mapping[str, Decimal]
    relay_on: bool | None
    read_at_ms: int
    latency_ms: int
    error: str | None
    # The meter's serial number, only in a cycle that read it (see SerialSchedule).
    serial: str | None = None


@dataclass
class MeterDiagnostics:
    successes: int = 0
    timeouts: int = 0
    crc_errors: int = 0
    exception_codes: dict[int, int] = field(default_factory=dict)
    last_latency_ms: int | None = None
    consecutive_failures: int = 0
    online: bool = True
    # The link itself could not be opened (serial port gone, TCP gateway down).
    connect_failures: int = 0
    # Readings whose cumulative energy was below the meter's previous reading.
    backwards: int = 0


@dataclass(frozen=True)
class RelayResult:
    meter_id: str
    requested_on: bool
    actual_on: bool | None
    ok: bool
    attempts: int
    error: str | None
    # The meter answered the write with an exception: sending it again gets the same.
    refused: bool = False


class MeterBus(Protocol):
    async def connect(self) -> None: ...
    async def close(self) -> None: ...
    async def poll(self, meters: Sequence[MeterConfig]) -> list[MeterSample]: ...
    async def set_relay(self, meter: MeterConfig, on: bool) -> RelayResult: ...
    def diagnostics(self) -> Mapping[str, MeterDiagnostics]: ...
    def read_serial_again(self, meter_id: str) -> None: ...


def error_code(exc: Exception) -> str:
    """The short failure string carried in MeterSample.error and RelayResult.error."""
    if isinstance(exc, ModbusTimeoutError):
        return "timeout"
    if isinstance(exc, ModbusFrameError):
        return "crc"
    if isinstance(exc, ModbusExceptionResponseError):
        return f"exception:{exc.exception_code:02d}"
    if isinstance(exc, BusConnectError):
        return "connect"
    if isinstance(exc, DecodeError):
        return "decode"
    if isinstance(exc, (ProfileError, ReadPlanError)):
        return "profile"
    return "bus"


@dataclass
class _DeviceHealth:
    """Failure tracking of one bus address (a meter or a relay module)."""

    diagnostics: MeterDiagnostics = field(default_factory=MeterDiagnostics)
    skip_cycles: int = 0
    probe_interval: int = 1

    def record_attempt_failure(self, exc: BusError) -> None:
        d = self.diagnostics
        if isinstance(exc, ModbusTimeoutError):
            d.timeouts += 1
        elif isinstance(exc, ModbusFrameError):
            d.crc_errors += 1
        elif isinstance(exc, ModbusExceptionResponseError):
            d.exception_codes[exc.exception_code] = d.exception_codes.get(exc.exception_code, 0) + 1
        elif isinstance(exc, BusConnectError):
            d.connect_failures += 1

    def record_poll(self, ok: bool, latency_ms: int, offline_after: int) -> None:
        d = self.diagnostics
        if ok:
            d.successes += 1
            d.last_latency_ms = latency_ms
            d.consecutive_failures = 0
            d.online = True
            self.probe_interval = 1
            self.skip_cycles = 0
            return
        d.consecutive_failures += 1
        if d.consecutive_failures >= offline_after:
            if d.online:
                d.online = False
            else:
                self.probe_interval = min(self.probe_interval * 2, MAX_PROBE_INTERVAL_CYCLES)
            self.skip_cycles = self.probe_interval - 1


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class _SerialState:
    value: str | None = None
    read_at_ms: int | None = None
    # Read it at the next answer: never read, the meter failed to answer since, or the
    # cycle that carried it could not send it.
    stale: bool = True
    failed_since: bool = False


class SerialSchedule:
    """When each meter's serial number is read: at start, after a failure, hourly."""

    def __init__(self, refresh_ms: int = SERIAL_REFRESH_MS) -> None:
        self._refresh_ms = refresh_ms
        self._states: dict[str, _SerialState] = {}

    def _state(self, meter_id: str) -> _SerialState:
        return self._states.setdefault(meter_id, _SerialState())

    def due(self, meter_ids: Sequence[str], now_ms: int, limit: int) -> set[str]:
        """The meters to read this cycle, at most ``limit``: after a failure first (a
        swapped meter), then never read, then the oldest reads."""
        waiting: list[tuple[int, int, str]] = []
        for meter_id in meter_ids:
            state = self._state(meter_id)
            if state.stale or state.read_at_ms is None:
                rank = 0 if state.failed_since else 1
                waiting.append((rank, state.read_at_ms or 0, meter_id))
            elif now_ms - state.read_at_ms >= self._refresh_ms:
                waiting.append((2, state.read_at_ms, meter_id))
        return {meter_id for _, _, meter_id in sorted(waiting)[:limit]}

    def read(self, meter_id: str, value: str, now_ms: int) -> None:
        state = self._state(meter_id)
        state.value, state.read_at_ms, state.stale, state.failed_since = value, now_ms, False, False

    def failed(self, meter_id: str) -> None:
        state = self._state(meter_id)
        state.stale = state.failed_since = True

    def again(self, meter_id: str) -> None:
        self._state(meter_id).stale = True

    def known(self, meter_id: str) -> str | None:
        return self._state(meter_id).value


class ModbusMeterBus:
    """MeterBus over pymodbus (RTU or TCP); see the module docstring for the policy."""

    def __init__(
        self,
        settings: BusSettings,
        *,
        link: ModbusLink | None = None,
        now_ms: Callable[[], int] = _now_ms,
        profiles: ProfileLibrary | None = None,
    ) -> None:
        self._settings = settings
        self._link = link or ModbusLink(settings)
        self._profiles = profiles or shipped_library()
        # Energy of each meter's last good reading: a lower one is counted as backwards.
        self._last_energy: dict[str, Decimal] = {}
        self._now_ms = now_ms
        self._lock = asyncio.Lock()
        self._health: dict[int, _DeviceHealth] = {}
        self._meter_ids: dict[str, int] = {}
        self._plans: dict[str, ReadPlan] = {}
        self._last_address: int | None = None
        self.serials = SerialSchedule()

    # --- lifecycle ----------------------------------------------------------------
    async def connect(self) -> None:
        try:
            await self._link.connect()
        except BusConnectError:
            # Not fatal at start: every poll retries the link and counts the failure.
            return

    async def close(self) -> None:
        await self._link.close()

    def read_serial_again(self, meter_id: str) -> None:
        """The cycle that carried the serial could not send it: read it at the next one."""
        self.serials.again(meter_id)

    def diagnostics(self) -> Mapping[str, MeterDiagnostics]:
        # Copies: a caller serialising them must not see counters move underneath it.
        snapshot: dict[str, MeterDiagnostics] = {}
        for meter_id, address in self._meter_ids.items():
            live = self._health_of(address).diagnostics
            snapshot[meter_id] = dataclasses.replace(
                live, exception_codes=dict(live.exception_codes)
            )
        return snapshot

    # --- transactions ---------------------------------------------------------------
    def _health_of(self, address: int) -> _DeviceHealth:
        return self._health.setdefault(address, _DeviceHealth())

    def _plan(self, profile: MeterProfile) -> ReadPlan:
        plan = self._plans.get(profile.name)
        if plan is None:
            plan = self._plans[profile.name] = plan_reads(
                profile, link=self._settings.resolved_read_cost()
            )
        return plan

    async def _pause_between_slaves(self, address: int) -> None:
        if self._last_address not in (None, address) and self._settings.inter_frame_delay_ms:
            await asyncio.sleep(self._settings.inter_frame_delay_ms / 1000)
        self._last_address = address

    async def _read(self, address: int, block: ReadBlock, attempts: int) -> list[int]:
        """One block read with up to ``attempts`` tries and exponential back-off."""
        health = self._health_of(address)
        for attempt in range(attempts):
            await self._pause_between_slaves(address)
            try:
                return await self._link.read(
                    block.function_code, address, block.address, block.count
                )
            except ModbusExceptionResponseError as exc:
                health.record_attempt_failure(exc)
                raise  # the meter answered: asking again gets the same answer
            except BusError as exc:
                health.record_attempt_failure(exc)
                if attempt + 1 >= attempts:
                    raise
                await asyncio.sleep(self._settings.backoff_ms * (2**attempt) / 1000)
        raise AssertionError("unreachable: attempts >= 1")

    def _attempts_for(self, address: int) -> int:
        online = self._health_of(address).diagnostics.online
        return self._settings.retries + 1 if online else 1

    def _due(self, address: int, probes_left: list[int]) -> bool:
        """Whether to talk to ``address`` this cycle (offline devices only sometimes)."""
        health = self._health_of(address)
        if health.diagnostics.online:
            return True
        if health.skip_cycles > 0:
            health.skip_cycles -= 1
            return False
        if probes_left[0] <= 0:
            return False
        probes_left[0] -= 1
        return True

    # --- poll -----------------------------------------------------------------------
    async def poll(self, meters: Sequence[MeterConfig]) -> list[MeterSample]:
        async with self._lock:
            probes_left = [MAX_PROBES_PER_CYCLE]
            with_serial = [m.meter_id for m in meters if self._has_serial(m)]
            due = self.serials.due(with_serial, self._now_ms(), MAX_SERIAL_READS_PER_CYCLE)
            samples = [
                await self._poll_meter(meter, probes_left, meter.meter_id in due)
                for meter in meters
            ]
            module_states = await self._poll_relay_modules(meters, samples, probes_left)
        merged: list[MeterSample] = []
        for meter, sample in zip(meters, samples, strict=True):
            if _uses_module(meter) and meter.relay is not None:
                # Known even when the meter itself is silent: the module answered.
                state = module_states.get(_module_key(meter), {}).get(meter.relay.channel)
                sample = dataclasses.replace(sample, relay_on=state)
            merged.append(sample)
        return merged

    def _has_serial(self, meter: MeterConfig) -> bool:
        try:
            return self._profiles.get(meter.profile).serial is not None
        except ProfileError:
            return False

    async def _read_serial(self, meter: MeterConfig, profile: MeterProfile) -> str | None:
        """One read of the serial register (a single attempt: it is read again next cycle
        if this one fails, and the cycle's values are already in)."""
        spec = profile.serial_spec()
        if spec is None or spec.address is None or spec.function_code is None:
            return None
        block = ReadBlock(spec.function_code, spec.address, spec.register_count)
        try:
            words = await self._read(meter.address, block, 1)
            word_order, byte_order = profile.orders(spec)
            value = raw_value("serial", spec, words, word_order, byte_order)
        except (BusError, DecodeError):
            return None
        serial = str(int(value))
        self.serials.read(meter.meter_id, serial, self._now_ms())
        return serial

    async def _poll_meter(
        self, meter: MeterConfig, probes_left: list[int], read_serial: bool = False
    ) -> MeterSample:
        self._meter_ids[meter.meter_id] = meter.address
        health = self._health_of(meter.address)
        started = time.monotonic()

        def failed(error: str) -> MeterSample:
            latency_ms = int((time.monotonic() - started) * 1000)
            if error != "profile":
                self.serials.failed(meter.meter_id)  # whoever answers next, ask who it is
            return MeterSample(meter.meter_id, False, {}, None, self._now_ms(), latency_ms, error)

        try:
            profile = self._profiles.get(meter.profile)
            plan = self._plan(profile)
        except (ProfileError, ReadPlanError):
            return failed("profile")
        if not self._due(meter.address, probes_left):
            return failed("offline")
        attempts = self._attempts_for(meter.address)
        read: dict[str, Decimal] = {}
        relay_on: bool | None = None
        try:
            for block in plan.blocks:
                registers = await self._read(meter.address, block, attempts)
                read.update(decode_block(block, registers, profile.word_order, profile.byte_order))
                readback = profile.relay.readback if profile.relay else None
                if block.relay_address is not None and readback is not None:
                    relay_on = relay_state_in_block(block, registers, readback)
            keys = output_keys(profile)
            read.update(compute_values(profile, read, keys))
            values = {key: read[key] for key in keys if key in read}
        except (BusError, DecodeError) as exc:
            latency_ms = int((time.monotonic() - started) * 1000)
            health.record_poll(False, latency_ms, self._settings.offline_after_failures)
            return failed(error_code(exc))
        latency_ms = int((time.monotonic() - started) * 1000)
        health.record_poll(True, latency_ms, self._settings.offline_after_failures)
        self._check_backwards(meter.meter_id, values, health)
        if meter.relay is None:
            relay_on = None
        read_at_ms = self._now_ms()
        # After the values: the cycle's reading is in even if the serial read fails.
        serial = await self._read_serial(meter, profile) if read_serial else None
        return MeterSample(
            meter.meter_id, True, values, relay_on, read_at_ms, latency_ms, None, serial
        )

    def _check_backwards(
        self, meter_id: str, values: Mapping[str, Decimal], health: _DeviceHealth
    ) -> None:
        """Count a cumulative register that went down (a misread, a reset, a swapped meter).
        The reading is still published: the cloud decides (VEE); the count tells it the
        gateway saw it too, even in a cycle whose `dg` was left out."""
        energy = values.get("import_kwh", values.get("total_kwh"))
        if energy is None:
            return
        previous = self._last_energy.get(meter_id)
        if previous is not None and energy < previous:
            health.diagnostics.backwards += 1
        self._last_energy[meter_id] = energy

    async def _poll_relay_modules(
        self, meters: Sequence[MeterConfig], samples: Sequence[MeterSample], probes_left: list[int]
    ) -> dict[tuple[int, str], dict[int, bool]]:
        """One FC01 read per relay module for all its channels in use; {module: {ch: on}}."""
        channels: dict[tuple[int, str], set[int]] = {}
        for meter in meters:
            if _uses_module(meter):
                channels.setdefault(_module_key(meter), set()).add(meter.relay.channel)  # type: ignore[union-attr]
        states: dict[tuple[int, str], dict[int, bool]] = {}
        for (address, profile_name), used in channels.items():
            try:
                profile = self._profiles.get(profile_name)
                block = plan_coil_read(profile, sorted(used))
            except (ProfileError, ReadPlanError):
                continue
            if not self._due(address, probes_left):
                continue
            started = time.monotonic()
            try:
                bits = await self._read(address, block, self._attempts_for(address))
            except BusError:
                self._health_of(address).record_poll(
                    False, 0, self._settings.offline_after_failures
                )
                continue
            latency_ms = int((time.monotonic() - started) * 1000)
            self._health_of(address).record_poll(
                True, latency_ms, self._settings.offline_after_failures
            )
            readback = profile.relay.readback if profile.relay else None
            first = block.address - (readback.address if readback else 0)
            states[(address, profile_name)] = {
                first + i: bool(bit) for i, bit in enumerate(bits) if first + i in used
            }
        return states

    async def set_relay(self, meter: MeterConfig, on: bool) -> RelayResult:
        """Write the relay as its profile says, read it back, retry a bounded number of
        times; a write the device refuses (exception response) is not sent again."""
        link = meter.relay
        if link is None:
            return RelayResult(meter.meter_id, on, None, False, 0, "no_relay")
        try:
            profile = self._profiles.get(link.profile)
        except ProfileError:
            return RelayResult(meter.meter_id, on, None, False, 0, "profile")
        relay = profile.relay
        if relay is None or not 0 <= link.channel < relay.channels:
            return RelayResult(meter.meter_id, on, None, False, 0, "no_relay")
        async with self._lock:
            return await self._switch(meter.meter_id, link, profile, on)

    async def _switch(
        self, meter_id: str, link: RelayLink, profile: MeterProfile, on: bool
    ) -> RelayResult:
        health = self._health_of(link.address)
        actual: bool | None = None
        error: str | None = None
        attempts = 0
        for attempt in range(self._settings.retries + 1):
            attempts = attempt + 1
            await self._pause_between_slaves(link.address)
            refused = False
            wrote = False
            try:
                await write_relay(self._link, link.address, profile, link.channel, on)
                wrote = True
            except ModbusExceptionResponseError as exc:
                health.record_attempt_failure(exc)
                refused, error = True, f"refused:{error_code(exc)}"
            except BusError as exc:
                health.record_attempt_failure(exc)
                error = error_code(exc)
            except (DecodeError, ExpressionError):
                refused, error = True, "profile"
            actual = await self._read_back(link, profile, health)
            if actual is None and wrote and profile.relay and profile.relay.readback is None:
                actual = on  # no read-back in this model: the accepted write is all we know
            if actual == on:
                return RelayResult(meter_id, on, actual, True, attempts, None, refused)
            if refused:
                break  # the device said no; the same write gets the same answer
            if wrote:
                error = "readback_mismatch"
            if attempt < self._settings.retries:
                await asyncio.sleep(self._settings.backoff_ms * (2**attempt) / 1000)
        return RelayResult(meter_id, on, actual, False, attempts, error, refused)

    async def _read_back(
        self, link: RelayLink, profile: MeterProfile, health: _DeviceHealth
    ) -> bool | None:
        try:
            return await read_relay(self._link, link.address, profile, link.channel)
        except BusError as exc:
            health.record_attempt_failure(exc)
            return None


def _uses_module(meter: MeterConfig) -> bool:
    """Whether the meter's relay lives in another device (a relay module)."""
    return meter.relay is not None and (
        meter.relay.address != meter.address or meter.relay.profile != meter.profile
    )


def _module_key(meter: MeterConfig) -> tuple[int, str]:
    assert meter.relay is not None
    return (meter.relay.address, meter.relay.profile)


def open_bus(settings: BusSettings, profiles: ProfileLibrary | None = None) -> MeterBus:
    return ModbusMeterBus(settings, profiles=profiles)
