"""Simulated devices: a meter whose registers follow its profile, and a relay module.

State is physical, registers are derived: energy integrates the load curve over
simulated time while the relay is closed, and every read encodes the current state into
the register map of the profile (the same YAML file the gateway decodes with).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException

from meter_gateway.profile_model import PHASES, MeterProfile, RegisterSpec
from meter_gateway.simulator.clock import SimClock
from meter_gateway.simulator.load_profile import LoadCurve, _unit_noise
from meter_gateway.simulator.relay_logic import RelaySequencer

# Integrate in steps no longer than this so the daily curve is followed when simulated
# time jumps (time-scaled soaks, a test advancing a clock by hours).
MAX_INTEGRATION_STEP_S = 60.0
MAX_INTEGRATION_STEPS = 20_000
ENERGY_UNITS = frozenset({"kWh", "kVArh"})
REGISTER_READ_CODES = frozenset({3, 4})
WRITE_CODES = frozenset({5, 6, 15, 16})
# How a three-phase load splits over L1..L3 (an unbalanced shop, not a textbook).
PHASE_SHARES = (0.42, 0.33, 0.25)
_STRUCT = {"u16": ">H", "s16": ">h", "u32": ">I", "s32": ">i", "u64": ">Q", "s64": ">q"}


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
    # Per-phase values of a three-phase meter (v_l1, a_l2, import_kwh_l3, ...).
    phases: Mapping[str, float] = field(default_factory=dict)

    @property
    def total_kwh(self) -> float:
        return self.import_kwh + self.export_kwh

    @property
    def total_kvarh(self) -> float:
        return self.import_kvarh + self.export_kvarh

    def value(self, key: str) -> float:
        if key in self.phases:
            return float(self.phases[key])
        return float(getattr(self, key))


def _to_bcd(number: int) -> int:
    raw, shift = 0, 0
    for digit in reversed(str(max(0, number))):
        raw |= int(digit) << shift
        shift += 4
    return raw


def encode_value(
    spec: RegisterSpec, value: float, word_order: str = "big", byte_order: str = "big"
) -> list[int]:
    """Registers a real meter of this profile would hold for ``value``."""
    data_type = spec.data_type or "u16"
    word_order = spec.word_order or word_order
    byte_order = spec.byte_order or byte_order
    if data_type in ("float32", "float64"):
        packed = struct.pack(">f" if data_type == "float32" else ">d", value / float(spec.scale))
    else:
        raw = value / float(spec.scale)
        # A meter's energy counter shows completed units; instantaneous values round.
        integer = math.floor(raw + 1e-9) if spec.unit in ENERGY_UNITS else round(raw)
        words = spec.register_count
        if data_type.startswith("bcd"):
            integer = _to_bcd(min(max(integer, 0), 10 ** (4 * words) - 1))
            packed = integer.to_bytes(2 * words, "big")
        else:
            bits = 16 * words
            signed = data_type.startswith("s")
            low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
            packed = struct.pack(_STRUCT[data_type], max(low, min(high, integer)))
    ordered = [packed[i : i + 2] for i in range(0, len(packed), 2)]
    if word_order != "big":
        ordered.reverse()
    return [int.from_bytes(pair, byte_order) for pair in ordered]  # type: ignore[arg-type]


class SimulatedDevice:
    """One slave on the simulated bus. pymodbus calls ``action`` on every request
    before the datastore answers; an unplugged device (``silent``) answers nothing.

    Requests are judged by the profile alone: a function code it does not allow, a read
    longer than ``max_read_registers`` or outside ``readable_spans``, and a write that is
    not the next step of a relay sequence get the exception codes the profile names."""

    address: int
    silent: bool
    profile: MeterProfile
    sequencer: RelaySequencer

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
        code = self._judge(function_code, address, count, set_values)
        if code is not None:
            return ExcCodes(code)
        if set_values is not None:
            return None
        self._fill(1 if function_code in (5, 15) else function_code, start_address, registers)
        return None

    def _judge(
        self,
        function_code: int,
        address: int,
        count: int,
        set_values: list[int] | list[bool] | None,
    ) -> int | None:
        profile = self.profile
        refusal = profile.exceptions
        if function_code not in profile.allowed_function_codes:
            return refusal.illegal_function
        if set_values is not None:
            values = [int(v) for v in set_values]
            verdict = self.sequencer.judge(function_code, address, values, self.key_inputs())
            if verdict.switched is not None:
                self.switch(*verdict.switched)
            return verdict.exception
        if function_code in WRITE_CODES:
            return None  # pymodbus looking at the block around a write, not a request
        limit = 2000 if function_code in (1, 2) else profile.max_read_registers
        if count > limit:
            return refusal.too_many_registers
        if profile.span_for(function_code, address, address + count - 1) is None:
            return refusal.illegal_address
        return None

    def key_inputs(self) -> dict[str, Decimal]:
        """What the device itself computes relay keys from (its read_before_write values)."""
        return {}

    def switch(self, channel: int, on: bool) -> None:
        raise NotImplementedError

    def _fill(self, function_code: int, start_address: int, registers: list[int]) -> None:
        raise NotImplementedError


class SimulatedMeter(SimulatedDevice):
    """One meter on the bus; its relay is its own (DDS238, Fineco) or a relay module channel."""

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
        self.sequencer = RelaySequencer(profile)
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
        # Registers that describe the device rather than the supply (serial number, CT
        # ratio): fixed per meter, so a key derived from them is stable.
        self.constants: dict[str, float] = {
            "serial_number": float(10_000_000 + int(90_000_000 * _unit_noise(seed, address, -3))),
            "ir_at": 1.0,
            "ur_at": 1.0,
            "unit_id": float(address),
        }
        if profile.serial is not None:  # served under whatever name the profile gives it
            self.constants[profile.serial] = self.constants["serial_number"]

    @property
    def serial(self) -> int | None:
        name = self.profile.serial
        return None if name is None else int(self.constants[name])

    def exchange(self, serial: int, import_kwh: float) -> None:
        """An electrician swapped the meter: another serial number and another register
        (the load, the address and the relay stay)."""
        self.refresh()
        for name in {"serial_number", self.profile.serial or "serial_number"}:
            self.constants[name] = float(serial)
        self._import_kwh = import_kwh

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

    def switch(self, channel: int, on: bool) -> None:
        self.set_own_relay(on)

    def _phases(self, volts: float, power_w: float, pf: float) -> dict[str, float]:
        if self.profile.phases != 3:
            return {}
        phases: dict[str, float] = {}
        for index, (phase, share) in enumerate(zip(PHASES, PHASE_SHARES, strict=True)):
            phase_v = volts + (index - 1) * 1.5
            phase_w = power_w * share
            phases[f"v_{phase}"] = phase_v
            phases[f"w_{phase}"] = phase_w
            phases[f"pf_{phase}"] = pf
            phases[f"a_{phase}"] = phase_w / pf / phase_v
            phases[f"import_kwh_{phase}"] = self._import_kwh * share
            phases[f"export_kwh_{phase}"] = self._export_kwh * share
        return phases

    def state(self) -> MeterState:
        self.refresh()
        now_s = self._last_s
        power_w = self.load_w(now_s)
        volts = 229.0 + 4.0 * _unit_noise(self._seed, self.address, int(now_s // 60) + 3)
        pf = self._pf(now_s) if power_w > 0 else 1.0
        hz = 49.95 + 0.1 * _unit_noise(self._seed, self.address, int(now_s // 10) + 5)
        va = power_w / pf
        phases = self._phases(volts, power_w, pf)
        if phases:
            # What a three-phase meter reports as "the" voltage and current: the mean phase
            # voltage and the sum of the phase currents.
            volts = sum(phases[f"v_{p}"] for p in PHASES) / 3
            amps = sum(phases[f"a_{p}"] for p in PHASES)
        else:
            amps = va / volts
        return MeterState(
            v=volts,
            a=amps,
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
            phases=phases,
        )

    def _value(self, state: MeterState, key: str) -> float:
        if key in self.constants:
            return self.constants[key]
        try:
            return state.value(key)
        except AttributeError:
            return 0.0  # a register the simulation has no quantity for reads as 0

    # --- registers ---------------------------------------------------------------
    def register_image(self, function_code: int) -> dict[int, int]:
        """Address -> register value of every mapped register served on this function code."""
        state = self.state()
        image: dict[int, int] = {}
        for key, spec in self.profile.all_registers().items():
            if spec.computed or spec.function_code != function_code:
                continue
            word_order, byte_order = self.profile.orders(spec)
            words = encode_value(spec, self._value(state, key), word_order, byte_order)
            for offset, word in enumerate(words):
                image[(spec.address or 0) + offset] = word
        relay = self.profile.relay
        readback = relay.readback if relay else None
        if readback is not None and not relay.is_coil and readback.function_code == function_code:  # type: ignore[union-attr]
            image[readback.address] = readback.on_value if state.relay_on else readback.off_value
        return image

    def key_inputs(self) -> dict[str, Decimal]:
        relay = self.profile.relay
        if relay is None:
            return {}
        state = self.state()
        return {name: Decimal(self._value(state, name)) for name in relay.read_before_write}

    def _fill(self, function_code: int, start_address: int, registers: list[int]) -> None:
        for reg_address, word in self.register_image(function_code).items():
            offset = reg_address - start_address
            if 0 <= offset < len(registers):
                registers[offset] = word


class SimulatedRelayModule(SimulatedDevice):
    """A multi-channel coil relay module; each channel may switch one paired meter."""

    def __init__(self, address: int, profile: MeterProfile) -> None:
        relay = profile.relay
        if relay is None or not relay.is_coil or relay.readback is None:
            raise ValueError(f"profile {profile.name} has no coil relay")
        self.address = address
        self.profile = profile
        self.sequencer = RelaySequencer(profile)
        self.first_coil = relay.readback.address
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

    def switch(self, channel: int, on: bool) -> None:
        for meter in self.paired.values():
            meter.refresh()  # energy up to the switching instant counts at the old state
        self.coils[channel] = on

    def _fill(self, function_code: int, start_address: int, registers: list[int]) -> None:
        # Registers hold 16 coils each, bit 0 first (pymodbus bit-block layout).
        for index in range(len(registers)):
            word = 0
            for bit in range(16):
                coil = (start_address + index) * 16 + bit - self.first_coil
                if 0 <= coil < len(self.coils) and self.coils[coil]:
                    word |= 1 << bit
            registers[index] = word
