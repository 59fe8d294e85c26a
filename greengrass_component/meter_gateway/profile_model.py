"""Typed model of a meter profile file (one YAML file per meter model).

A profile is data: the register map (address, function code, data type, scale, unit),
the spans the meter answers, its request size limit and turnaround, and its relay
control. Adding a meter model means adding a file under ``profiles/``; nothing here
branches on a model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The canonical keys of MeterSample.values: the cloud contract names these, so a
# profile may only map registers onto them.
MeterValueKey = Literal["import_kwh", "export_kwh", "total_kwh", "v", "a", "w", "pf", "hz"]
DataType = Literal["u16", "s16", "u32", "s32", "float32"]
RegisterFunctionCode = Literal[3, 4]
SpanFunctionCode = Literal[1, 2, 3, 4]

REGISTERS_PER_TYPE: dict[str, int] = {"u16": 1, "s16": 1, "u32": 2, "s32": 2, "float32": 2}
# Modbus limits one FC03/FC04 read to 125 registers and one FC01 read to 2000 coils.
MODBUS_MAX_READ_REGISTERS = 125
MODBUS_MAX_READ_COILS = 2000
MAX_ADDRESS = 0xFFFF


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisterSpec(_Strict):
    address: int = Field(ge=0, le=MAX_ADDRESS)
    function_code: RegisterFunctionCode
    data_type: DataType
    scale: Decimal = Field(gt=0)
    unit: str = Field(max_length=16)

    @property
    def register_count(self) -> int:
        return REGISTERS_PER_TYPE[self.data_type]

    @property
    def last_address(self) -> int:
        return self.address + self.register_count - 1


class ReadableSpan(_Strict):
    function_code: SpanFunctionCode
    first: int = Field(ge=0, le=MAX_ADDRESS)
    last: int = Field(ge=0, le=MAX_ADDRESS)

    @model_validator(mode="after")
    def _ordered(self) -> ReadableSpan:
        if self.last < self.first:
            raise ValueError(f"last (0x{self.last:04X}) is below first (0x{self.first:04X})")
        return self

    def covers(self, function_code: int, first: int, last: int) -> bool:
        return self.function_code == function_code and self.first <= first and last <= self.last


class RelaySpec(_Strict):
    # coil: FC01 read / FC05 write, one coil per channel starting at address.
    # holding_fc16: FC03 read / FC16 write of one holding register (some meters refuse FC06).
    kind: Literal["coil", "holding_fc16"]
    address: int = Field(ge=0, le=MAX_ADDRESS)
    on_value: int = Field(default=1, ge=0, le=0xFFFF)
    off_value: int = Field(default=0, ge=0, le=0xFFFF)
    channels: int = Field(default=1, ge=1, le=64)
    readback: bool = True

    @model_validator(mode="after")
    def _distinct_values(self) -> RelaySpec:
        if self.on_value == self.off_value:
            raise ValueError("on_value and off_value must differ")
        return self

    @property
    def read_function_code(self) -> int:
        return 1 if self.kind == "coil" else 3


class Rating(_Strict):
    """What the meter can physically pass, from its datasheet (Imax, Un): the cloud's
    reading validation holds more energy than this as a spike (docs/metering-data.md)."""

    max_current_a: Decimal = Field(gt=0, le=1000)
    nominal_voltage_v: Decimal = Field(gt=0, le=1000)
    phases: Literal[1, 3] = 1


class MeterProfile(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    model: str = Field(min_length=1, max_length=80)
    max_read_registers: int = Field(ge=1, le=MODBUS_MAX_READ_REGISTERS)
    turnaround_ms: int = Field(ge=0, le=1000)
    word_order: Literal["big", "little"] = "big"
    readable_spans: tuple[ReadableSpan, ...] = Field(min_length=1, max_length=32)
    registers: dict[MeterValueKey, RegisterSpec] = Field(max_length=32)
    extra_registers: dict[str, RegisterSpec] = Field(default_factory=dict, max_length=64)
    relay: RelaySpec | None = None
    rating: Rating | None = None  # None: not a meter (a relay module)

    @model_validator(mode="after")
    def _inside_spans(self) -> MeterProfile:
        for group, specs in (
            ("registers", self.registers),
            ("extra_registers", self.extra_registers),
        ):
            for key, spec in specs.items():
                if not self.span_for(spec.function_code, spec.address, spec.last_address):
                    raise ValueError(
                        f"{group}.{key}: 0x{spec.address:04X} (FC{spec.function_code:02d}) "
                        "lies outside every readable_spans entry"
                    )
        relay = self.relay
        if relay is not None and relay.readback:
            last = relay.address + (relay.channels if relay.kind == "coil" else 1) - 1
            if not self.span_for(relay.read_function_code, relay.address, last):
                raise ValueError(
                    f"relay: read-back at 0x{relay.address:04X} lies outside every "
                    "readable_spans entry"
                )
        if not self.registers and relay is None:
            raise ValueError("registers: a profile needs registers, a relay, or both")
        return self

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

    @property
    def has_relay(self) -> bool:
        return self.relay is not None
