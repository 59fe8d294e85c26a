"""Numbers typed by a person, read strictly: amounts in major units into Money, and back.

One grammar for every form that takes money (top-up, opening credit, emergency credit,
low-credit thresholds, fixed charges), and with another number of decimals for the
other numbers the portal reads (prices per kWh, tier bounds, tax percentages):

    number = ["-"] whole ["." fraction]
    whole  = one or more of 0-9  |  1-3 of 0-9, first not 0, then ("," three of 0-9)+
    fraction = one to `decimals` of 0-9, where `decimals` is the currency's exponent

Nothing else is read: no exponent (``1e3``), no ``_`` (``1_000``), no ``+``, no space
inside, no leading or trailing ``.`` (``.5``, ``5.``), no digit other than ASCII 0-9
(``１００``, ``٣``), no ``NaN`` or ``Infinity``. ``,`` and ``.`` are the grouping and
decimal separators of the portal's languages (en, zh_TW); a ``,`` anywhere but between
groups of three (``1,0,0``, ``10,5``) is refused rather than guessed at, so an amount
written for another locale (``1.000,50``) fails instead of becoming another number.
``-`` only where the caller accepts negative numbers. Python's ``Decimal(text)``
accepts all of the refused forms, which is why it never sees typed text here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.domain.errors import (
    AmountTooLargeError,
    EmptyAmountError,
    MalformedAmountError,
    NegativeAmountError,
    TooManyDecimalsError,
)
from chalicelib.domain.money import MAX_AMOUNT_MINOR, Money, currency_exponent, to_major

# Longer than any amount the domain holds written with separators ("-1,000,000,000,000,000"
# is 22), and a bound on the work done for one field.
MAX_NUMBER_TEXT_CHARS = 40

# [0-9], not \d: \d also matches every other script's digits.
_WHOLE = r"[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+"
_NUMBER = re.compile(rf"(?P<sign>-?)(?P<whole>{_WHOLE})(?:[.](?P<fraction>[0-9]+))?")
_NOT_NUMBERS = frozenset({"nan", "snan", "inf", "infinity"})


@dataclass(frozen=True)
class _Number:
    negative: bool
    whole: str  # ASCII digits, separators removed
    fraction: str  # ASCII digits, possibly empty


def parse_major(
    text: str,
    currency: str,
    *,
    allow_negative: bool = False,
    max_minor: int = MAX_AMOUNT_MINOR,
) -> Money:
    """Money from an amount typed in major units (``1,250.50`` TWD is 125050 minor units).

    At most the currency's exponent of decimals (the domain's table, not CLDR's), and
    ``|amount| <= max_minor``. Every refusal is an ``AmountTextError`` subclass whose
    message names what is wrong; an unknown currency is ``UnknownCurrencyError``."""
    exponent = currency_exponent(currency)
    number = _read(text, allow_negative)
    if len(number.fraction) > exponent:
        raise TooManyDecimalsError(
            f"{currency} amounts are whole numbers"
            if exponent == 0
            else f"{currency} amounts have at most {exponent} decimals"
        )
    # Exact: the digits as typed, shifted by the exponent; no Decimal, no rounding.
    minor = int(number.whole + number.fraction.ljust(exponent, "0"))
    limit = min(max_minor, MAX_AMOUNT_MINOR)
    if minor > limit:
        raise AmountTooLargeError(f"at most {format_major(limit, currency)} {currency}")
    return Money(-minor if number.negative else minor, currency)


def parse_decimal(text: str, max_decimals: int, *, allow_negative: bool = False) -> Decimal:
    """A typed number that is not an amount of money (a price per kWh, kWh, a percentage)
    by the same grammar, with at most ``max_decimals`` decimals. The caller's model
    checks its range."""
    number = _read(text, allow_negative)
    if len(number.fraction) > max_decimals:
        raise TooManyDecimalsError(
            "whole numbers only" if max_decimals == 0 else f"at most {max_decimals} decimals"
        )
    sign = "-" if number.negative else ""
    point = "." if number.fraction else ""
    return Decimal(f"{sign}{number.whole}{point}{number.fraction}")


def major_pattern(currency: str) -> str:
    """The grammar of a zero-or-positive amount in ``currency`` as a regular expression
    that must match the whole text (an HTML ``pattern``), so a browser refuses early what
    ``parse_major`` would refuse; the server's parse still decides."""
    exponent = currency_exponent(currency)
    fraction = f"(?:[.][0-9]{{1,{exponent}}})?" if exponent else ""
    return f"(?:{_WHOLE}){fraction}"


def format_major(amount_minor: int, currency: str) -> str:
    """An amount as a form shows it for editing: ``1250.50``, no grouping, no symbol;
    ``parse_major`` reads it back to the same amount."""
    return format(to_major(amount_minor, currency), "f")


def _read(text: str, allow_negative: bool) -> _Number:
    text = text.strip()
    if not text:
        raise EmptyAmountError("no amount was typed")
    if len(text) > MAX_NUMBER_TEXT_CHARS:
        raise MalformedAmountError(f"an amount has at most {MAX_NUMBER_TEXT_CHARS} characters")
    found = _NUMBER.fullmatch(text)
    if found is None:
        raise MalformedAmountError(_why_malformed(text))
    if found["sign"] and not allow_negative:
        raise NegativeAmountError("a negative amount is not accepted here")
    return _Number(bool(found["sign"]), found["whole"].replace(",", ""), found["fraction"] or "")


def _why_malformed(text: str) -> str:
    """The first rule the text breaks, in words a person can act on."""
    body = text.removeprefix("-")
    if body.lower() in _NOT_NUMBERS:
        return f"{body!r} is not a number"
    for char in body:
        if char in "0123456789.,":
            continue
        if char.isdigit() or char.isnumeric():
            return f"{char!r} is not one of the digits 0-9"
        if char in "eE":
            return "exponent notation (1e3) is not accepted: type every digit"
        if char == "_":
            return "'_' is not accepted: type 1000 or 1,000"
        if char == "+":
            return "'+' is not accepted"
        if char == "-":
            return "'-' may only come first"
        if char.isspace():
            return "no spaces inside an amount"
        return f"{char!r} is not part of an amount: type digits 0-9 and at most one '.'"
    whole, dot, fraction = body.partition(".")
    if "." in fraction:
        return "more than one '.'"
    if dot and not whole:
        return "type a digit before the '.' (0.5, not .5)"
    if dot and not fraction:
        return "type digits after the '.' or leave it out"
    if "," in fraction:
        return "',' is not accepted after the '.'"
    if "," in whole:
        return "',' only separates groups of three digits before the '.' (1,000.50)"
    return "no digits"
