"""Typed amounts: one strict grammar, the domain's exponents, a named refusal per rule."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import (
    CURRENCY_EXPONENTS,
    AmountTextError,
    AmountTooLargeError,
    EmptyAmountError,
    MalformedAmountError,
    Money,
    NegativeAmountError,
    TooManyDecimalsError,
    UnknownCurrencyError,
    format_major,
    parse_decimal,
    parse_major,
    to_major,
)
from chalicelib.domain.money import MAX_AMOUNT_MINOR
from chalicelib.domain.money_text import major_pattern

amounts = st.integers(min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR)


def test_the_table_has_the_iso_4217_exponents_the_product_supports() -> None:
    # GIVEN ISO 4217's minor units (IDR is 2 there, 0 in CLDR; TWD 2, cash in whole dollars)
    iso = {
        "TWD": 2, "JPY": 0, "KRW": 0, "VND": 0, "IDR": 2, "GBP": 2, "EUR": 2, "USD": 2,
        "SGD": 2, "HKD": 2, "CNY": 2, "THB": 2, "MYR": 2, "PHP": 2, "INR": 2, "AUD": 2,
        "NZD": 2, "CAD": 2, "CHF": 2, "KWD": 3, "BHD": 3, "OMR": 3,
    }  # fmt: skip
    # THEN the domain's table is exactly that (a change here changes stored amounts)
    assert dict(CURRENCY_EXPONENTS) == iso


@given(data=st.data())
@pytest.mark.parametrize("currency", sorted(CURRENCY_EXPONENTS))
def test_every_currency_round_trips_minor_to_major_text_and_back(
    currency: str, data: st.DataObject
) -> None:
    # GIVEN any amount the domain holds
    minor = data.draw(amounts)
    major = to_major(minor, currency)
    # THEN it has exactly the currency's decimals
    assert -major.as_tuple().exponent == CURRENCY_EXPONENTS[currency]  # type: ignore[operator]
    # AND the form's text, and the grouped text a person types, read back to the same amount
    for typed in (format_major(minor, currency), f"{major:,}"):
        assert parse_major(typed, currency, allow_negative=True) == Money(minor, currency)
        # AND the browser's pattern for the field accepts exactly the same non-negative text
        assert bool(re.fullmatch(major_pattern(currency), typed)) == (minor >= 0)


def test_an_idr_amount_is_what_was_typed() -> None:
    # GIVEN IDR, 2 decimals in ISO 4217 and the ledger (CLDR says 0)
    # WHEN a landlord types 100000 (rupiah) THEN 10,000,000 hundredths are stored
    assert parse_major("100000", "IDR") == Money(10_000_000, "IDR")
    assert parse_major("100,000.50", "IDR") == Money(10_000_050, "IDR")
    assert format_major(10_000_000, "IDR") == "100000.00"


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("300", "TWD", 30000),
        ("1,250.5", "TWD", 125050),
        ("  12.34 ", "GBP", 1234),
        ("0.53", "GBP", 53),
        ("0", "USD", 0),
        ("007", "USD", 700),
        ("500", "JPY", 500),
        ("1,000,000", "KRW", 1_000_000),
        ("1.234", "KWD", 1234),
        ("10,000,000,000,000.00", "TWD", MAX_AMOUNT_MINOR),
    ],
)
def test_typed_amounts_become_exact_minor_units(typed: str, currency: str, minor: int) -> None:
    assert parse_major(typed, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("typed", "error", "says"),
    [
        ("", EmptyAmountError, "no amount"),
        ("   ", EmptyAmountError, "no amount"),
        ("1e3", MalformedAmountError, "exponent"),
        ("1E3", MalformedAmountError, "exponent"),
        ("1_000", MalformedAmountError, "'_'"),
        ("1,0,0", MalformedAmountError, "groups of three"),
        ("10,5", MalformedAmountError, "groups of three"),
        ("1000,000", MalformedAmountError, "groups of three"),
        ("0,100", MalformedAmountError, "groups of three"),
        ("1.000,50", MalformedAmountError, "after the '.'"),
        (".5", MalformedAmountError, "before the '.'"),
        ("5.", MalformedAmountError, "after the '.'"),
        ("1.2.3", MalformedAmountError, "more than one"),
        ("１００", MalformedAmountError, "0-9"),
        ("٣", MalformedAmountError, "0-9"),
        ("1٣", MalformedAmountError, "0-9"),
        ("½", MalformedAmountError, "0-9"),
        ("NaN", MalformedAmountError, "not a number"),
        ("-nan", MalformedAmountError, "not a number"),
        ("Infinity", MalformedAmountError, "not a number"),
        ("inf", MalformedAmountError, "not a number"),
        ("+5", MalformedAmountError, "'+'"),
        ("5-", MalformedAmountError, "first"),
        ("1 000", MalformedAmountError, "spaces"),
        ("0x10", MalformedAmountError, "'x'"),
        ("$5", MalformedAmountError, "'$'"),
        ("-", MalformedAmountError, "no digits"),
        ("1" * 41, MalformedAmountError, "at most 40"),
        ("-5", NegativeAmountError, "negative"),
        ("-0", NegativeAmountError, "negative"),
        ("1.001", TooManyDecimalsError, "at most 2 decimals"),
        ("10,000,000,000,000.01", AmountTooLargeError, "at most 10000000000000.00 TWD"),
        ("99999999999999999999999999", AmountTooLargeError, "at most"),
    ],
)
def test_malformed_amounts_are_refused_with_a_reason(
    typed: str, error: type[AmountTextError], says: str
) -> None:
    # WHEN a form sends the text THEN the failure mode's own class, naming what is wrong
    with pytest.raises(error, match=None) as raised:
        parse_major(typed, "TWD")
    assert says in str(raised.value)
    assert isinstance(raised.value, ValueError)  # and every one is an InvalidAmountError


@pytest.mark.parametrize(
    ("typed", "currency", "says"),
    [
        ("1.0", "JPY", "JPY amounts are whole numbers"),
        ("100.5", "VND", "whole numbers"),
        ("1.001", "IDR", "IDR amounts have at most 2 decimals"),
        ("1.0001", "KWD", "at most 3 decimals"),
    ],
)
def test_more_decimals_than_the_currencys_exponent_are_refused(
    typed: str, currency: str, says: str
) -> None:
    with pytest.raises(TooManyDecimalsError, match=says):
        parse_major(typed, currency)


@pytest.mark.parametrize("currency", ["TWD", "JPY", "KWD"])
def test_the_browser_pattern_refuses_what_the_parser_refuses(currency: str) -> None:
    pattern = major_pattern(currency)
    for typed in ("1e3", "1_000", "1,0,0", ".5", "5.", "１００", "NaN", "-5", "1.0001", "01,000"):
        assert re.fullmatch(pattern, typed) is None, typed
    decimals = "." + "5" * CURRENCY_EXPONENTS[currency] if CURRENCY_EXPONENTS[currency] else ""
    assert re.fullmatch(pattern, "1,000" + decimals)


def test_negative_amounts_and_tighter_limits_only_when_the_caller_says() -> None:
    assert parse_major("-1,250.50", "TWD", allow_negative=True) == Money(-125050, "TWD")
    assert parse_major("50", "TWD", max_minor=5000) == Money(5000, "TWD")
    with pytest.raises(AmountTooLargeError, match=r"at most 50\.00 TWD"):
        parse_major("50.01", "TWD", max_minor=5000)
    with pytest.raises(AmountTooLargeError):
        parse_major("-50.01", "TWD", allow_negative=True, max_minor=5000)


def test_an_unknown_currency_is_refused_before_the_text_is_read() -> None:
    for currency in ("XXX", "twd", ""):
        with pytest.raises(UnknownCurrencyError):
            parse_major("1", currency)


def test_other_typed_numbers_use_the_same_grammar_with_their_own_decimals() -> None:
    assert parse_decimal("1.680000", 6) == Decimal("1.68")
    assert str(parse_decimal("1,000.5", 3)) == "1000.5"
    assert parse_decimal("-2", 0, allow_negative=True) == -2
    for typed in ("1e3", "1_000", "１", ".5", "NaN"):
        with pytest.raises(MalformedAmountError):
            parse_decimal(typed, 6)
    with pytest.raises(TooManyDecimalsError, match="at most 6 decimals"):
        parse_decimal("0.1234567", 6)
