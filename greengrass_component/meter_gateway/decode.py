"""Turning the registers a meter returned into Decimal values in the cloud's units.

Data types follow the datasheets: IEEE-754 float32 (Eastron) and scaled unsigned or
signed integers (Hiking), both big-endian by default. Every value is quantised to a
fixed scale per key, so the same reading always produces the same Decimal.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from meter_gateway.errors import DecodeError
from meter_gateway.profile_model import RegisterSpec
from meter_gateway.read_plan import ReadBlock

# Energy is Decimal kWh with 3 decimals (house rule); the rest to their useful resolution.
VALUE_QUANTUM: dict[str, Decimal] = {
    "import_kwh": Decimal("0.001"),
    "export_kwh": Decimal("0.001"),
    "total_kwh": Decimal("0.001"),
    "v": Decimal("0.1"),
    "a": Decimal("0.001"),
    "w": Decimal("0.1"),
    "pf": Decimal("0.001"),
    "hz": Decimal("0.01"),
}
DEFAULT_QUANTUM = Decimal("0.001")

_STRUCT = {"u16": ">H", "s16": ">h", "u32": ">I", "s32": ">i", "float32": ">f"}


def words_to_bytes(words: Sequence[int], word_order: str = "big") -> bytes:
    ordered = list(words) if word_order == "big" else list(reversed(words))
    return b"".join(word.to_bytes(2, "big") for word in ordered)


def decode_register(
    key: str, spec: RegisterSpec, words: Sequence[int], word_order: str = "big"
) -> Decimal:
    """Decode one value from exactly ``spec.register_count`` 16-bit words."""
    if len(words) != spec.register_count:
        raise DecodeError(f"{key}: expected {spec.register_count} registers, got {len(words)}")
    if any(not 0 <= word <= 0xFFFF for word in words):
        raise DecodeError(f"{key}: register value outside 0..0xFFFF")
    (raw,) = struct.unpack(_STRUCT[spec.data_type], words_to_bytes(words, word_order))
    if isinstance(raw, float) and not math.isfinite(raw):
        raise DecodeError(f"{key}: float32 is not finite ({raw})")
    # Decimal(float) is exact, so rounding happens once, in quantize, not in a repr.
    value = Decimal(raw) * spec.scale
    return value.quantize(VALUE_QUANTUM.get(key, DEFAULT_QUANTUM), rounding=ROUND_HALF_EVEN)


def decode_block(
    block: ReadBlock, registers: Sequence[int], word_order: str = "big"
) -> dict[str, Decimal]:
    """Every value a block read carries, keyed as in the profile."""
    if len(registers) < block.count:
        raise DecodeError(
            f"block 0x{block.address:04X}: expected {block.count} registers, got {len(registers)}"
        )
    values: dict[str, Decimal] = {}
    for planned in block.registers:
        offset = planned.spec.address - block.address
        words = registers[offset : offset + planned.spec.register_count]
        values[planned.key] = decode_register(planned.key, planned.spec, words, word_order)
    return values


def relay_state_in_block(
    block: ReadBlock, registers: Sequence[int], on_value: int, off_value: int
) -> bool | None:
    """The relay state read back inside a register block; None if the value is neither."""
    if block.relay_address is None:
        return None
    raw = registers[block.relay_address - block.address]
    if raw == on_value:
        return True
    if raw == off_value:
        return False
    return None
