"""Turning the registers a meter returned into Decimal values in the cloud's units.

Data types follow the datasheets: IEEE-754 float32/64 (Eastron, Chint, Fineco), scaled
unsigned or signed integers of 16, 32 or 64 bits (Hiking, Acrel) and BCD, big-endian by
default with the word and byte order a profile (or one register) declares. Values computed
from other registers (``expr``) are evaluated after the reads (``compute_values``). Every value is quantised to a
fixed scale per key, so the same reading always produces the same Decimal.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from meter_gateway.errors import DecodeError, ExpressionError
from meter_gateway.expressions import evaluate
from meter_gateway.profile_model import PHASE_KEYS, MeterProfile, RegisterSpec, RelayReadback
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
for _phase_key in PHASE_KEYS:  # v_l1 has the quantum of v, import_kwh_l2 of import_kwh, ...
    VALUE_QUANTUM[_phase_key] = VALUE_QUANTUM[_phase_key.rsplit("_", 1)[0]]
DEFAULT_QUANTUM = Decimal("0.001")

_STRUCT = {
    "u16": ">H", "s16": ">h", "u32": ">I", "s32": ">i", "u64": ">Q", "s64": ">q",
    "float32": ">f", "float64": ">d", "bcd16": ">H", "bcd32": ">I",
}  # fmt: skip


def words_to_bytes(words: Sequence[int], word_order: str = "big", byte_order: str = "big") -> bytes:
    """Registers in the meter's order -> one big-endian byte string."""
    ordered = list(words) if word_order == "big" else list(reversed(words))
    return b"".join(word.to_bytes(2, byte_order) for word in ordered)  # type: ignore[arg-type]


def _bcd(raw: int, key: str) -> int:
    digits, scale = 0, 1
    while raw:
        nibble = raw & 0xF
        if nibble > 9:
            raise DecodeError(f"{key}: nibble 0x{nibble:X} is not a BCD digit")
        digits += nibble * scale
        scale *= 10
        raw >>= 4
    return digits


def raw_value(
    key: str,
    spec: RegisterSpec,
    words: Sequence[int],
    word_order: str = "big",
    byte_order: str = "big",
) -> Decimal:
    """The register's number before scaling, exactly (Decimal(float) is exact)."""
    if spec.data_type is None:
        raise DecodeError(f"{key}: a computed value has no registers")
    if len(words) != spec.register_count:
        raise DecodeError(f"{key}: expected {spec.register_count} registers, got {len(words)}")
    if any(not 0 <= word <= 0xFFFF for word in words):
        raise DecodeError(f"{key}: register value outside 0..0xFFFF")
    word_order = spec.word_order or word_order
    byte_order = spec.byte_order or byte_order
    (raw,) = struct.unpack(_STRUCT[spec.data_type], words_to_bytes(words, word_order, byte_order))
    if isinstance(raw, float) and not math.isfinite(raw):
        raise DecodeError(f"{key}: {spec.data_type} is not finite ({raw})")
    if spec.data_type.startswith("bcd"):
        raw = _bcd(raw, key)
    return Decimal(raw)


def quantize(key: str, value: Decimal) -> Decimal:
    return value.quantize(VALUE_QUANTUM.get(key, DEFAULT_QUANTUM), rounding=ROUND_HALF_EVEN)


def decode_register(
    key: str,
    spec: RegisterSpec,
    words: Sequence[int],
    word_order: str = "big",
    byte_order: str = "big",
) -> Decimal:
    """Decode one value from exactly ``spec.register_count`` 16-bit words."""
    # Rounding happens once, in quantize, not in a repr.
    return quantize(key, raw_value(key, spec, words, word_order, byte_order) * spec.scale)


def compute_values(
    profile: MeterProfile, read: Mapping[str, Decimal], keys: Iterable[str]
) -> dict[str, Decimal]:
    """The computed values among ``keys`` (``expr`` over registers already read)."""
    specs = profile.all_registers()
    computed: dict[str, Decimal] = {}
    for key in keys:
        spec = specs.get(key)
        if spec is None or spec.expr is None:
            continue
        try:
            value = evaluate(spec.expr, read) * spec.scale
        except ExpressionError as exc:
            raise DecodeError(f"{key}: {exc}") from exc
        computed[key] = quantize(key, value)
    return computed


def decode_block(
    block: ReadBlock, registers: Sequence[int], word_order: str = "big", byte_order: str = "big"
) -> dict[str, Decimal]:
    """Every value a block read carries, keyed as in the profile."""
    if len(registers) < block.count:
        raise DecodeError(
            f"block 0x{block.address:04X}: expected {block.count} registers, got {len(registers)}"
        )
    values: dict[str, Decimal] = {}
    for planned in block.registers:
        offset = (planned.spec.address or 0) - block.address
        words = registers[offset : offset + planned.spec.register_count]
        values[planned.key] = decode_register(
            planned.key, planned.spec, words, word_order, byte_order
        )
    return values


def relay_state_in_block(
    block: ReadBlock, registers: Sequence[int], readback: RelayReadback
) -> bool | None:
    """The relay state read back inside a register block; None if the value is neither."""
    if block.relay_address is None:
        return None
    return readback.state_of(registers[block.relay_address - block.address])
