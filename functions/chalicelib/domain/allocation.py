"""Exact splitting of an integer quantity by weights (largest remainder, no drift)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from chalicelib.domain.errors import AllocationError, FloatRefusedError

MAX_PARTS = 100_000


def _as_fraction(weight: object) -> Fraction:
    if isinstance(weight, float):
        raise FloatRefusedError("allocation weights must be int or Decimal, not float")
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal | Fraction):
        raise AllocationError(f"allocation weight must be int or Decimal, got {type(weight)!r}")
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise AllocationError("allocation weight must be finite")
    value = Fraction(weight)
    if value < 0:
        raise AllocationError("allocation weights must not be negative")
    return value


def allocate_units(total: int, weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split integer `total` into parts proportional to `weights`, summing exactly to `total`.

    Largest remainder: each part gets the floor of its exact share, then the units left over
    go one each to the largest fractional remainders, ties to the earlier part, so the result is
    deterministic. A negative total is split as its absolute value and negated.
    """
    if isinstance(total, bool) or not isinstance(total, int):
        raise AllocationError("allocation total must be an int")
    if not weights:
        raise AllocationError("allocation needs at least one weight")
    if len(weights) > MAX_PARTS:
        raise AllocationError(f"allocation into more than {MAX_PARTS} parts")
    fractions = [_as_fraction(w) for w in weights]
    if len(fractions) == 1 and fractions[0] > 0:
        # One part takes it all: the common case (a settlement's energy in one tariff
        # component), priced several times a settled meter (issue 19).
        return [total]
    weight_sum = sum(fractions, Fraction(0))
    if weight_sum == 0:
        raise AllocationError("allocation weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [magnitude * w / weight_sum for w in fractions]
    parts = [int(share) for share in shares]  # floor: shares are non-negative
    left_over = magnitude - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in order[:left_over]:
        parts[i] += 1
    return [sign * part for part in parts]
