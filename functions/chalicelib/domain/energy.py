"""Energy as fixed-scale Decimal kWh (3 decimals, 1 Wh)."""

from __future__ import annotations

import decimal
from decimal import Decimal

from chalicelib.domain.errors import FloatRefusedError, InvalidEnergyError

KWH_QUANTUM = Decimal("0.001")
# The shadow contract carries at most 9 integer digits of kWh.
MAX_KWH = Decimal("999999999.999")
ZERO_KWH = Decimal("0.000")


def kwh(value: str | int | Decimal) -> Decimal:
    """Parse `value` to kWh quantized to 0.001 (half-even); refuses float, NaN, inf, overflow."""
    if type(value) is Decimal and value.is_finite() and -MAX_KWH <= value <= MAX_KWH:
        # the common case (a reading already parsed), checked as below in fewer steps
        return value.quantize(KWH_QUANTUM, rounding=decimal.ROUND_HALF_EVEN)
    if isinstance(value, float):
        raise FloatRefusedError("kWh refuses float; pass a str, int or Decimal")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidEnergyError(f"kWh must be str, int or Decimal, got {type(value)!r}")
    try:
        parsed = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except decimal.InvalidOperation as exc:
        raise InvalidEnergyError(f"not a number of kWh: {value!r}") from exc
    if not parsed.is_finite():
        raise InvalidEnergyError(f"kWh must be finite, got {value!r}")
    if abs(parsed) > MAX_KWH:
        raise InvalidEnergyError(f"kWh magnitude above {MAX_KWH}: {value!r}")
    return parsed.quantize(KWH_QUANTUM, rounding=decimal.ROUND_HALF_EVEN)


def non_negative_kwh(value: str | int | Decimal) -> Decimal:
    energy = kwh(value)
    if energy < 0:
        raise InvalidEnergyError(f"kWh must not be negative, got {value!r}")
    return energy


def to_milli(energy_kwh: Decimal) -> int:
    """kWh as an integer count of Wh (the quantum), for exact allocation."""
    return int(kwh(energy_kwh).scaleb(3))


def from_milli(energy_wh: int) -> Decimal:
    return kwh(Decimal(energy_wh).scaleb(-3))


def format_kwh(energy_kwh: Decimal) -> str:
    """The shadow's string form: plain digits, exactly 3 decimals, never an exponent."""
    return format(kwh(energy_kwh), "f")
