"""Typed model of a meter profile file (one YAML file per meter model).

A profile is data: the register map (address, function code, data type, byte and word
order, scale), values computed from other registers (``expressions.py``), the spans the
meter answers, its request size limit, its allowed function codes and the exception
codes it answers with, and its relay: the writes that close and open it (any number of
registers, values computed from registers read just before) and how it is read back.
Adding a meter model means adding a file (shipped under ``profiles/`` or sent in the
Greengrass configuration); nothing here branches on a model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from meter_gateway.errors import ExpressionError
from meter_gateway.expressions import parse_expression

PHASES = ("l1", "l2", "l3")
# The canonical keys of MeterSample.values. The first eight are what telemetry carries
# (docs/iot-contracts.md); the per-phase ones describe three-phase meters fully, for the
# simulator, conformance and future use, and are not polled while telemetry has no slot.
TELEMETRY_KEYS = ("import_kwh", "export_kwh", "total_kwh", "v", "a", "w", "pf", "hz")
PHASE_KEYS = tuple(
    f"{base}_{phase}"
    for base in ("v", "a", "w", "pf", "import_kwh", "export_kwh")
    for phase in PHASES
)
MeterValueKey = Literal[
    "import_kwh", "export_kwh", "total_kwh", "v", "a", "w", "pf", "hz",
    "v_l1", "v_l2", "v_l3", "a_l1", "a_l2", "a_l3", "w_l1", "w_l2", "w_l3",
    "pf_l1", "pf_l2", "pf_l3", "import_kwh_l1", "import_kwh_l2", "import_kwh_l3",
    "export_kwh_l1", "export_kwh_l2", "export_kwh_l3",
]  # fmt: skip
DataType = Literal[
    "u16", "s16", "u32", "s32", "u64", "s64", "float32", "float64", "bcd16", "bcd32"
]  # fmt: skip
Order = Literal["big", "little"]
RegisterFunctionCode = Literal[3, 4]
ReadFunctionCode = Literal[1, 2, 3, 4]
WriteFunctionCode = Literal[5, 6, 15, 16]
# The exception codes Modbus defines (application protocol v1.1b3, section 7).
ExceptionCode = Literal[1, 2, 3, 4, 5, 6, 8, 10, 11]

REGISTERS_PER_TYPE: dict[str, int] = {
    "u16": 1, "s16": 1, "bcd16": 1, "u32": 2, "s32": 2, "float32": 2, "bcd32": 2,
    "u64": 4, "s64": 4, "float64": 4,
}  # fmt: skip
# Modbus limits one FC03/FC04 read to 125 registers, one FC16 write to 123.
MODBUS_MAX_READ_REGISTERS = 125
MODBUS_MAX_WRITE_REGISTERS = 123
MODBUS_MAX_READ_COILS = 2000
MAX_ADDRESS = 0xFFFF
RESERVED_NAMES = frozenset({"channel"})
# A float energy register whose datasheet gives no step: the display's 0.01 kWh, the
# coarsest of the product's registers (a coarser guess only makes the check slower).
DEFAULT_FLOAT_STEP_KWH = Decimal("0.01")
# Data types a serial number may be read as: whole numbers, shown in decimal.
SERIAL_TYPES = frozenset({"u16", "u32", "u64", "bcd16", "bcd32"})


def _checked_expression(text: str) -> str:
    try:
        parse_expression(text)
    except ExpressionError as exc:
        raise ValueError(f"expression {text!r}: {exc}") from exc
    return text


ExpressionText = Annotated[str, AfterValidator(_checked_expression)]
RegisterName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisterSpec(_Strict):
    """A value read from registers, or (``expr``) computed from other registers."""

    address: int | None = Field(default=None, ge=0, le=MAX_ADDRESS)
    function_code: RegisterFunctionCode | None = None
    data_type: DataType | None = None
    scale: Decimal = Field(default=Decimal(1), gt=0)
    unit: str = Field(default="", max_length=16)
    # None: the profile's own order. Some meters mix orders between register groups.
    word_order: Order | None = None
    byte_order: Order | None = None
    expr: ExpressionText | None = None

    @model_validator(mode="after")
    def _read_or_computed(self) -> RegisterSpec:
        located = (self.address, self.function_code, self.data_type)
        if self.expr is not None:
            if any(part is not None for part in located):
                raise ValueError("a computed value (expr) has no address/function_code/data_type")
        elif any(part is None for part in located):
            raise ValueError("needs address, function_code and data_type (or expr)")
        return self

    @property
    def computed(self) -> bool:
        return self.expr is not None

    @property
    def register_count(self) -> int:
        return REGISTERS_PER_TYPE[self.data_type] if self.data_type else 0

    @property
    def last_address(self) -> int:
        return (self.address or 0) + self.register_count - 1

    def dependencies(self) -> frozenset[str]:
        return parse_expression(self.expr).names if self.expr else frozenset()


class ReadableSpan(_Strict):
    function_code: ReadFunctionCode
    first: int = Field(ge=0, le=MAX_ADDRESS)
    last: int = Field(ge=0, le=MAX_ADDRESS)

    @model_validator(mode="after")
    def _ordered(self) -> ReadableSpan:
        if self.last < self.first:
            raise ValueError(f"last (0x{self.last:04X}) is below first (0x{self.first:04X})")
        return self

    def covers(self, function_code: int, first: int, last: int) -> bool:
        return self.function_code == function_code and self.first <= first and last <= self.last


class WriteStep(_Strict):
    """One write request. ``values`` are expressions over the registers named in
    ``read_before_write`` and ``channel``; one per register (or coil)."""

    function_code: WriteFunctionCode
    address: int = Field(ge=0, le=MAX_ADDRESS)
    values: tuple[ExpressionText, ...] = Field(min_length=1, max_length=MODBUS_MAX_WRITE_REGISTERS)

    @model_validator(mode="after")
    def _single_for_single_writes(self) -> WriteStep:
        if self.function_code in (5, 6) and len(self.values) != 1:
            raise ValueError(f"FC{self.function_code:02d} writes exactly one value")
        return self

    def names(self) -> frozenset[str]:
        found: set[str] = set()
        for value in self.values:
            found |= parse_expression(value).names
        return frozenset(found)


class RelayReadback(_Strict):
    """Where the relay state is read, and which (masked) value means closed or open."""

    function_code: ReadFunctionCode
    address: int = Field(ge=0, le=MAX_ADDRESS)
    on_value: int = Field(default=1, ge=0, le=0xFFFF)
    off_value: int = Field(default=0, ge=0, le=0xFFFF)
    mask: int = Field(default=0xFFFF, ge=1, le=0xFFFF)

    @model_validator(mode="after")
    def _distinct(self) -> RelayReadback:
        if self.on_value & self.mask == self.off_value & self.mask:
            raise ValueError("on_value and off_value must differ (after mask)")
        return self

    def state_of(self, raw: int) -> bool | None:
        value = raw & self.mask
        if value == self.on_value & self.mask:
            return True
        if value == self.off_value & self.mask:
            return False
        return None


class RelaySpec(_Strict):
    # Addresses of channel n are the step/readback addresses + n * channel_stride.
    channels: int = Field(default=1, ge=1, le=64)
    channel_stride: int = Field(default=1, ge=0, le=256)
    # Registers (from registers/extra_registers) read just before switching: their values
    # feed the write expressions, e.g. a key derived from the serial number.
    read_before_write: tuple[RegisterName, ...] = Field(default=(), max_length=8)
    # (Not `on`/`off`: YAML 1.1 reads those keys as booleans.)
    turn_on: tuple[WriteStep, ...] = Field(min_length=1, max_length=8)
    turn_off: tuple[WriteStep, ...] = Field(min_length=1, max_length=8)
    readback: RelayReadback | None = None
    # What the meter answers to a write it refuses (wrong key, wrong register count, a
    # step out of order). The simulator answers it; the gateway never retries it blindly.
    refused_exception: ExceptionCode = 3

    @property
    def is_coil(self) -> bool:
        return self.readback is not None and self.readback.function_code in (1, 2)

    def write_codes(self) -> set[int]:
        return {step.function_code for step in (*self.turn_on, *self.turn_off)}

    def steps(self, on: bool) -> tuple[WriteStep, ...]:
        return self.turn_on if on else self.turn_off


class Rating(_Strict):
    """What the meter can physically pass, from its datasheet (Imax, Un): the cloud's
    reading validation holds more energy than this as a spike (docs/metering-data.md)."""

    max_current_a: Decimal = Field(gt=0, le=1000)
    nominal_voltage_v: Decimal = Field(gt=0, le=1000)
    phases: Literal[1, 3] = 1
    # The energy register's smallest step, for a float register whose datasheet gives it
    # (an integer register's step is its scale). None: DEFAULT_FLOAT_STEP_KWH. The cloud
    # holds a reading whose register stood still while the power said it should have
    # moved by several steps (docs/metering-data.md, "frozen").
    register_step_kwh: Decimal | None = Field(default=None, gt=0, le=1)


class ExceptionCodes(_Strict):
    """The exception codes the meter answers with (Modbus defaults; datasheets may differ)."""

    illegal_function: ExceptionCode = 1
    illegal_address: ExceptionCode = 2
    too_many_registers: ExceptionCode = 3


class MeterProfile(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    model: str = Field(min_length=1, max_length=80)
    # Bumped by whoever edits the file; travels in telemetry (`pv`) with a content hash.
    version: int = Field(default=1, ge=1, le=999_999)
    source: str = Field(default="", max_length=1200)
    # None: the codes the profile itself uses.
    function_codes: frozenset[Literal[1, 2, 3, 4, 5, 6, 15, 16]] | None = None
    max_read_registers: int = Field(ge=1, le=MODBUS_MAX_READ_REGISTERS)
    turnaround_ms: int = Field(ge=0, le=1000)
    word_order: Order = "big"
    byte_order: Order = "big"
    readable_spans: tuple[ReadableSpan, ...] = Field(min_length=1, max_length=32)
    registers: dict[MeterValueKey, RegisterSpec] = Field(max_length=40)
    extra_registers: dict[RegisterName, RegisterSpec] = Field(default_factory=dict, max_length=64)
    relay: RelaySpec | None = None
    rating: Rating | None = None  # None: not a meter (a relay module)
    exceptions: ExceptionCodes = ExceptionCodes()
    # The register (in registers or extra_registers) holding the meter's serial number,
    # where the datasheet gives one: read at start, after a failure and hourly, sent as
    # `sn`; the cloud proposes a meter exchange when it changes. None: the model has none.
    serial: RegisterName | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MeterProfile:
        merged = self.all_registers()
        for key, spec in merged.items():
            group = "registers" if key in self.registers else "extra_registers"
            if spec.computed:
                for name in spec.dependencies():
                    target = merged.get(name)
                    if target is None or target.computed:
                        raise ValueError(
                            f"{group}.{key}.expr: {name!r} is not a register read from the meter"
                        )
            elif not self.span_for(spec.function_code or 0, spec.address or 0, spec.last_address):
                raise ValueError(
                    f"{group}.{key}: 0x{spec.address:04X} (FC{spec.function_code:02d}) "
                    "lies outside every readable_spans entry"
                )
        self._check_relay(merged)
        self._check_serial(merged)
        self._check_function_codes()
        if not self.registers and self.relay is None:
            raise ValueError("registers: a profile needs registers, a relay, or both")
        return self

    def _check_relay(self, merged: dict[str, RegisterSpec]) -> None:
        relay = self.relay
        if relay is None:
            return
        for name in relay.read_before_write:
            if name not in merged or merged[name].computed:
                raise ValueError(f"relay.read_before_write: {name!r} is not a register")
        known = set(relay.read_before_write) | RESERVED_NAMES
        for label, steps in (("turn_on", relay.turn_on), ("turn_off", relay.turn_off)):
            for index, step in enumerate(steps):
                unknown = step.names() - known
                if unknown:
                    raise ValueError(
                        f"relay.{label}.{index}.values: {sorted(unknown)} are neither "
                        "read_before_write registers nor 'channel'"
                    )
        readback = relay.readback
        if readback is not None:
            last = readback.address + (relay.channels - 1) * relay.channel_stride
            if not self.span_for(readback.function_code, readback.address, last):
                raise ValueError(
                    f"relay.readback: 0x{readback.address:04X} lies outside every "
                    "readable_spans entry"
                )

    def _check_serial(self, merged: dict[str, RegisterSpec]) -> None:
        if self.serial is None:
            return
        spec = merged.get(self.serial)
        if spec is None or spec.computed:
            raise ValueError(f"serial: {self.serial!r} is not a register read from the meter")
        if spec.data_type not in SERIAL_TYPES or spec.scale != 1:
            raise ValueError(
                f"serial: {self.serial!r} must be a whole number register "
                f"({', '.join(sorted(SERIAL_TYPES))}) with scale 1"
            )

    def serial_spec(self) -> RegisterSpec | None:
        return None if self.serial is None else self.all_registers()[self.serial]

    def energy_register(self) -> RegisterSpec | None:
        """The register billed on: import, else total (what telemetry sends as ie / te)."""
        return self.registers.get("import_kwh") or self.registers.get("total_kwh")

    @property
    def energy_register_is_float(self) -> bool:
        spec = self.energy_register()
        return spec is not None and (spec.computed or (spec.data_type or "").startswith("float"))

    @property
    def energy_step_kwh(self) -> Decimal:
        """The smallest step of the billed register: an integer register's scale, else the
        datasheet's (``rating.register_step_kwh``) or DEFAULT_FLOAT_STEP_KWH."""
        spec = self.energy_register()
        if spec is not None and not self.energy_register_is_float:
            return spec.scale
        given = self.rating.register_step_kwh if self.rating is not None else None
        return given or DEFAULT_FLOAT_STEP_KWH

    def _check_function_codes(self) -> None:
        if self.function_codes is None:
            return
        used = self.used_function_codes()
        refused = sorted(used - set(self.function_codes))
        if refused:
            raise ValueError(
                f"function_codes: the profile uses FC {refused} but does not allow them"
            )

    def used_function_codes(self) -> set[int]:
        used: set[int] = {span.function_code for span in self.readable_spans}
        used |= {spec.function_code for spec in self.all_registers().values() if spec.function_code}
        if self.relay is not None:
            used |= self.relay.write_codes()
            if self.relay.readback is not None:
                used.add(self.relay.readback.function_code)
        return used

    @property
    def allowed_function_codes(self) -> frozenset[int]:
        return frozenset(self.function_codes or self.used_function_codes())

    def span_for(self, function_code: int, first: int, last: int) -> ReadableSpan | None:
        for span in self.readable_spans:
            if span.covers(function_code, first, last):
                return span
        return None

    def all_registers(self) -> dict[str, RegisterSpec]:
        """Polled and extra registers together, keyed by name."""
        merged: dict[str, RegisterSpec] = dict(self.extra_registers)
        for key, spec in self.registers.items():
            merged[key] = spec
        return merged

    def orders(self, spec: RegisterSpec) -> tuple[str, str]:
        """(word order, byte order) of one register: its own, else the profile's."""
        return (spec.word_order or self.word_order, spec.byte_order or self.byte_order)

    @property
    def has_relay(self) -> bool:
        return self.relay is not None

    @property
    def phases(self) -> int:
        return self.rating.phases if self.rating is not None else 1
