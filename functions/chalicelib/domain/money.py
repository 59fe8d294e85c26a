"""Currency-aware money in integer minor units; floats are refused everywhere."""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING

from chalicelib.domain.allocation import allocate_units
from chalicelib.domain.errors import (
    CurrencyMismatchError,
    FloatRefusedError,
    InvalidAmountError,
    UnknownCurrencyError,
)

if TYPE_CHECKING:
    from fractions import Fraction

# ISO 4217 minor-unit exponents: the one source of them. Parsing (money_text.py) and the
# pages' formats use this table, never CLDR's digits (Babel's), which differ where it
# matters: IDR is 2 in ISO and in every stored IDR amount, 0 in CLDR. TWD is mostly paid
# in whole dollars (CLDR's cash digits are 0) but tariffs price energy in cents (1.68 per
# kWh) and every stored TWD amount counts cents, so it keeps ISO's 2 like the rest. Only
# currencies listed here can be used; adding one, or changing an exponent, is a reviewed
# change because every stored amount depends on it.
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "TWD": 2,
        "JPY": 0,
        "GBP": 2,
        "USD": 2,
        "EUR": 2,
        "HKD": 2,
        "KRW": 0,
        "CNY": 2,
        "SGD": 2,
        "KWD": 3,
        "AUD": 2,
        "CAD": 2,
        "CHF": 2,
        "MYR": 2,
        "THB": 2,
        "PHP": 2,
        "VND": 0,
        "IDR": 2,
        "INR": 2,
        "NZD": 2,
        "BHD": 3,
        "OMR": 3,
    }
)

# Put a limit on everything: a quadrillion minor units is far above any electricity account.
MAX_AMOUNT_MINOR = 10**15


class Rounding(Enum):
    """How a Decimal amount in major units becomes an integer of minor units."""

    HALF_UP = "half_up"  # ties away from zero
    HALF_EVEN = "half_even"  # ties to the even minor unit
    DOWN = "down"  # toward zero
    UP = "up"  # away from zero

    @property
    def decimal_mode(self) -> str:
        return _DECIMAL_MODES[self]


_DECIMAL_MODES: Mapping[Rounding, str] = MappingProxyType(
    {
        Rounding.HALF_UP: decimal.ROUND_HALF_UP,
        Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
        Rounding.DOWN: decimal.ROUND_DOWN,
        Rounding.UP: decimal.ROUND_UP,
    }
)


@dataclass(frozen=True)
class Currency:
    """An ISO 4217 currency: its code and the exponent of its minor unit."""

    code: str
    exponent: int

    @classmethod
    def of(cls, code: str) -> Currency:
        return cls(code=code, exponent=currency_exponent(code))


def currency_exponent(code: str) -> int:
    try:
        return CURRENCY_EXPONENTS[code]
    except (KeyError, TypeError) as exc:
        raise UnknownCurrencyError(f"unknown currency {code!r}") from exc


def _check_amount_minor(amount_minor: object) -> int:
    if isinstance(amount_minor, float):
        raise FloatRefusedError("amount_minor must be an int, not float")
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidAmountError(f"amount_minor must be an int, got {type(amount_minor)!r}")
    if abs(amount_minor) > MAX_AMOUNT_MINOR:
        raise InvalidAmountError(f"amount_minor {amount_minor} exceeds {MAX_AMOUNT_MINOR}")
    return amount_minor


def round_to_minor(value_minor: Decimal | Fraction, rounding: Rounding = Rounding.HALF_UP) -> int:
    """Round an exact quantity already expressed in minor units to an integer, exactly."""
    # Imported here: only pricing rounds, and ingest's steady message prices nothing
    # (its cold start, issue 19).
    from fractions import Fraction

    if isinstance(value_minor, float):
        raise FloatRefusedError("refusing to round a float into money")
    if isinstance(value_minor, Decimal):
        if not value_minor.is_finite():
            raise InvalidAmountError("cannot round a non-finite amount")
        value_minor = Fraction(value_minor)
    floor = value_minor.numerator // value_minor.denominator
    remainder = value_minor - floor
    if remainder == 0:
        return floor
    positive = value_minor > 0
    if rounding is Rounding.DOWN:
        return floor if positive else floor + 1
    if rounding is Rounding.UP:
        return floor + 1 if positive else floor
    half = Fraction(1, 2)
    if remainder != half:
        return floor + 1 if remainder > half else floor
    if rounding is Rounding.HALF_UP:
        return floor + 1 if positive else floor
    return floor if floor % 2 == 0 else floor + 1


@dataclass(frozen=True)
class Money:
    """An amount of one currency as an integer count of its minor unit."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        _check_amount_minor(self.amount_minor)
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(
        cls, value: Decimal | int, currency: str, rounding: Rounding = Rounding.HALF_UP
    ) -> Money:
        """Money from an amount in major units (e.g. Decimal("12.345")), rounded explicitly."""
        if isinstance(value, float):
            raise FloatRefusedError("Money.from_decimal refuses float; pass a Decimal or str")
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise InvalidAmountError(f"value must be Decimal or int, got {type(value)!r}")
        exponent = currency_exponent(currency)
        if isinstance(value, Decimal) and not value.is_finite():
            raise InvalidAmountError("value must be finite")
        minor = Decimal(value).scaleb(exponent)
        return cls(round_to_minor(minor, rounding), currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, with exactly the currency's number of decimals."""
        exponent = currency_exponent(self.currency)
        return Decimal(self.amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            if isinstance(other, float):
                raise FloatRefusedError("cannot combine Money with a float")
            raise TypeError(f"cannot combine Money with {type(other)!r}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"{self.currency} vs {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount_minor + self._same(other).amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount_minor - self._same(other).amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount_minor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount_minor < self._same(other).amount_minor

    def __le__(self, other: Money) -> bool:
        return self.amount_minor <= self._same(other).amount_minor

    def __gt__(self, other: Money) -> bool:
        return self.amount_minor > self._same(other).amount_minor

    def __ge__(self, other: Money) -> bool:
        return self.amount_minor >= self._same(other).amount_minor

    def is_zero(self) -> bool:
        return self.amount_minor == 0

    def is_negative(self) -> bool:
        return self.amount_minor < 0

    def is_positive(self) -> bool:
        return self.amount_minor > 0

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Minor units as a Decimal in major units with exactly the currency's decimals."""
    return Money(amount_minor, currency).to_decimal()


def sum_money(amounts: Sequence[Money], currency: str) -> Money:
    """Sum amounts of one currency; an empty sequence is zero of `currency`."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def allocate(total: Money, weights: Sequence[int | Decimal]) -> list[Money]:
    """Split `total` exactly by weights (largest remainder); parts sum to `total`."""
    parts = allocate_units(total.amount_minor, weights)
    return [Money(part, total.currency) for part in parts]
