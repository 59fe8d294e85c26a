"""Simulated devices: a meter whose registers follow its profile, and a relay module.

State is physical, registers are derived: energy integrates the load curve over
simulated time while the relay is closed, and every read encodes the current state into
the register map of the profile (the same YAML file the gateway decodes with).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException

from meter_gateway.profile_model import MeterProfile, RegisterSpec
from meter_gateway.simulator.clock import SimClock
from meter_gateway.simulator.load_profile import LoadCurve, _unit_noise

# Integrate in steps no longer than this so the daily curve is followed when simulated
# time jumps (time-scaled soaks, a test advancing a clock by hours).
MAX_INTEGRATION_STEP_S = 60.0
MAX_INTEGRATION_STEPS = 20_000
ENERGY_UNITS = frozenset({"kWh", "kVArh"})
REGISTER_READ_CODES = frozenset({3, 4})


@dataclass(frozen=True)
class MeterState:
    """What the meter measures right now, in SI units and kWh."""

    v: float
    a: float
    w: float
    pf: float
    hz: float
    va: float
    var: float
    phase_angle: float
    import_kwh: float
    export_kwh: float
    import_kvarh: float
    export_kvarh: float
    relay_on: bool

    @property
    def total_kwh(self) -> float:
        return self.import_kwh + self.export_kwh

    @property
    def total_kvarh(self) -> float:
        return self.import_kvarh + self.export_kvarh

    def value(self, key: str) -> float:
        return float(getattr(self, key))


def encode_value(spec: RegisterSpec, value: float, word_order: str = "big") -> list[int]:
    """Registers a real meter of this profile would hold for ``value``."""
    if spec.data_type == "float32":
        packed = struct.pack(">f", value)
    else:
        raw = value / float(spec.scale)
        # A meter's energy counter shows completed units; instantaneous values round.
        integer = math.floor(raw + 1e-9) if spec.unit in ENERGY_UNITS else round(raw)
        bits = 16 if spec.data_type in ("u16", "s16") else 32
        signed = spec.data_type.startswith("s")
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        integer = max(low, min(high, integer))
        fmt = {"u16": ">H", "s16": ">h", "u32": ">I", "s32": ">i"}[spec.data_type]
        packed = struct.pack(fmt, integer)
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, len(packed), 2)]
    return words if word_order == "big" else list(reversed(words))


class SimulatedDevice:
    """One slave on the simulated bus. pymodbus calls ``action`` on every request
    before the datastore answers; an unplugged device (``silent``) answers nothing."""

    address: int
    silent: bool

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if self.silent:
            raise NoSuchIdException(f"device {self.address} unplugged")  # server stays quiet
        return self._answer(function_code, start_address, address, count, registers, set_values)

    def _answer(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        raise NotImplementedError


class SimulatedMeter(SimulatedDevice):
    """One meter on the bus; its relay is its own (DDS238) or a relay module channel."""

    def __init__(
        self,
        address: int,
        profile: MeterProfile,
        clock: SimClock,
        seed: int,
        initial_import_kwh: float | None = None,
    ) -> None:
        self.address = address
        self.profile = profile
        self._clock = clock
        self._seed = seed
        self._curve = LoadCurve(seed, address)
        self._last_s = clock.now_s()
        start = 100.0 + 5000.0 * _unit_noise(seed, address, -2)
        self._import_kwh = start if initial_import_kwh is None else initial_import_kwh
        self._export_kwh = 0.0
        self._import_kvarh = self._import_kwh * 0.2
        self._own_relay_on = True
        # Set when the relay lives in a relay module: returns that channel's coil.
        self.relay_source: Callable[[], bool] | None = None
        self.silent = False

    # --- physics -----------------------------------------------------------------
    @property
    def relay_on(self) -> bool:
        return self.relay_source() if self.relay_source is not None else self._own_relay_on

    def _pf(self, unix_s: float) -> float:
        return 0.9 + 0.09 * _unit_noise(self._seed, self.address, int(unix_s // 60) + 7)

    def load_w(self, unix_s: float) -> float:
        """Power drawn at ``unix_s`` (zero while the relay is open)."""
        return self._curve.power_w(unix_s) if self.relay_on else 0.0

    def refresh(self) -> None:
        """Integrate energy up to now; call before anything that changes the relay."""
        now_s = self._clock.now_s()
        elapsed_s = now_s - self._last_s
        if elapsed_s <= 0:
            return
        steps = min(MAX_INTEGRATION_STEPS, max(1, math.ceil(elapsed_s / MAX_INTEGRATION_STEP_S)))
        step_s = elapsed_s / steps
        energy_wh = 0.0
        reactive_varh = 0.0
        if self.relay_on:
            for i in range(steps):
                t_s = self._last_s + (i + 0.5) * step_s  # midpoint rule
                power_w = self._curve.power_w(t_s)
                pf = self._pf(t_s)
                energy_wh += power_w * step_s / 3600
                reactive_varh += power_w * math.tan(math.acos(pf)) * step_s / 3600
        self._import_kwh += energy_wh / 1000
        self._import_kvarh += reactive_varh / 1000
        self._last_s = now_s

    def set_own_relay(self, on: bool) -> None:
        self.refresh()
        self._own_relay_on = on

    def state(self) -> MeterState:
        self.refresh()
        now_s = self._last_s
        power_w = self.load_w(now_s)
        volts = 229.0 + 4.0 * _unit_noise(self._seed, self.address, int(now_s // 60) + 3)
        pf = self._pf(now_s) if power_w > 0 else 1.0
        hz = 49.95 + 0.1 * _unit_noise(self._seed, self.address, int(now_s // 10) + 5)
        va = power_w / pf
        return MeterState(
            v=volts,
            a=va / volts,
            w=power_w,
            pf=pf,
            hz=hz,
            va=va,
            var=power_w * math.tan(math.acos(pf)),
            phase_angle=math.degrees(math.acos(pf)),
            import_kwh=self._import_kwh,
            export_kwh=self._export_kwh,
            import_kvarh=self._import_kvarh,
            export_kvarh=0.0,
            relay_on=self.relay_on,
        )

    # --- registers ---------------------------------------------------------------
    def register_image(self, function_code: int) -> dict[int, int]:
        """Address -> register value of every mapped register served on this function code."""
        state = self.state()
        image: dict[int, int] = {}
        specs = self.profile.all_registers()
        for key, spec in specs.items():
            if spec.function_code != function_code:
                continue
            words = encode_value(spec, state.value(key), self.profile.word_order)
            for offset, word in enumerate(words):
                image[spec.address + offset] = word
        relay = self.profile.relay
        if relay is not None and relay.kind == "holding_fc16" and function_code == 3:
            image[relay.address] = relay.on_value if state.relay_on else relay.off_value
        return image

    def _answer(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if set_values is not None:
            return self._write(function_code, address, list(set_values))
        if function_code not in REGISTER_READ_CODES:
            return ExcCodes.ILLEGAL_FUNCTION
        if count > self.profile.max_read_registers:
            return ExcCodes.ILLEGAL_VALUE
        block_read_code = 3 if function_code == 3 else 4
        for reg_address, word in self.register_image(block_read_code).items():
            offset = reg_address - start_address
            if 0 <= offset < len(registers):
                registers[offset] = word
        return None

    def _write(self, function_code: int, address: int, values: list[int]) -> ExcCodes | None:
        relay = self.profile.relay
        if relay is None or relay.kind != "holding_fc16":
            return ExcCodes.ILLEGAL_ADDRESS
        if not address <= relay.address < address + len(values):
            return ExcCodes.ILLEGAL_ADDRESS
        if function_code != 16:
            # The DDS238 relay register only accepts FC16, as on the real meter.
            return ExcCodes.ILLEGAL_FUNCTION
        value = int(values[relay.address - address])
        if value not in (relay.on_value, relay.off_value):
            return ExcCodes.ILLEGAL_VALUE
        self.set_own_relay(value == relay.on_value)
        return None


class SimulatedRelayModule(SimulatedDevice):
    """A multi-channel coil relay module; each channel may switch one paired meter."""

    def __init__(self, address: int, profile: MeterProfile) -> None:
        relay = profile.relay
        if relay is None or relay.kind != "coil":
            raise ValueError(f"profile {profile.name} has no coil relay")
        self.address = address
        self.profile = profile
        self.first_coil = relay.address
        self.coils = [True] * relay.channels  # modules ship with loads connected here
        self.paired: dict[int, SimulatedMeter] = {}
        self.silent = False

    def pair(self, channel: int, meter: SimulatedMeter) -> None:
        if not 0 <= channel < len(self.coils):
            raise ValueError(f"relay module {self.address}: no channel {channel}")
        if channel in self.paired:
            raise ValueError(f"relay module {self.address}: channel {channel} already paired")
        self.paired[channel] = meter
        meter.relay_source = lambda: self.coils[channel]

    def _answer(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if function_code not in (1, 5, 15):
            return ExcCodes.ILLEGAL_FUNCTION
        first = address - self.first_coil
        if set_values is not None:
            if first < 0 or first + len(set_values) > len(self.coils):
                return ExcCodes.ILLEGAL_ADDRESS
            for meter in self.paired.values():
                meter.refresh()  # energy up to the switching instant counts at the old state
            for i, value in enumerate(set_values):
                self.coils[first + i] = bool(value)
            return None
        # Registers hold 16 coils each, bit 0 first (pymodbus bit-block layout).
        for index, word_index in enumerate(range(len(registers))):
            word = 0
            for bit in range(16):
                coil = (start_address + index) * 16 + bit - self.first_coil
                if 0 <= coil < len(self.coils) and self.coils[coil]:
                    word |= 1 << bit
            registers[word_index] = word
        return None
