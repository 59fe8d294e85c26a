from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import (
    CURRENCY_EXPONENTS,
    Currency,
    CurrencyMismatchError,
    FloatRefusedError,
    InvalidAmountError,
    Money,
    Rounding,
    UnknownCurrencyError,
    allocate,
    sum_money,
)
from chalicelib.domain.money import round_to_minor


def test_currency_table_has_the_iso_exponents():
    # GIVEN the ISO 4217 table WHEN looking up currencies THEN exponents match the standard
    expected = {
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
    }
    for code, exponent in expected.items():
        assert CURRENCY_EXPONENTS[code] == exponent
        assert Currency.of(code) == Currency(code, exponent)
    with pytest.raises(UnknownCurrencyError):
        Currency.of("XXX")


@pytest.mark.parametrize(
    ("value", "currency", "rounding", "minor"),
    [
        ("12.345", "USD", Rounding.HALF_UP, 1235),
        ("12.345", "USD", Rounding.HALF_EVEN, 1234),
        ("12.355", "USD", Rounding.HALF_EVEN, 1236),
        ("12.349", "USD", Rounding.DOWN, 1234),
        ("12.341", "USD", Rounding.UP, 1235),
        ("-12.345", "USD", Rounding.HALF_UP, -1235),
        ("-12.341", "USD", Rounding.DOWN, -1234),
        ("-12.341", "USD", Rounding.UP, -1235),
        ("100.5", "JPY", Rounding.HALF_UP, 101),
        ("100.5", "JPY", Rounding.HALF_EVEN, 100),
        ("1.2345", "KWD", Rounding.HALF_UP, 1235),
    ],
)
def test_from_decimal_rounds_explicitly(value, currency, rounding, minor):
    # GIVEN a major-unit Decimal WHEN converted with a rounding rule THEN minor units follow it
    assert Money.from_decimal(Decimal(value), currency, rounding) == Money(minor, currency)


def test_to_decimal_has_the_currency_scale():
    assert str(Money(1234, "TWD").to_decimal()) == "12.34"
    assert str(Money(5, "JPY").to_decimal()) == "5"
    assert str(Money(-1, "KWD").to_decimal()) == "-0.001"
    assert str(Money(1234, "TWD")) == "12.34 TWD"


def test_floats_are_refused_with_a_type_error():
    # GIVEN floats anywhere money enters THEN a TypeError (FloatRefusedError) is raised
    with pytest.raises(TypeError):
        Money(1.0, "USD")  # type: ignore[arg-type]
    with pytest.raises(FloatRefusedError):
        Money.from_decimal(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(FloatRefusedError):
        Money(1, "USD") + 1.5  # type: ignore[operator]
    with pytest.raises(FloatRefusedError):
        allocate(Money(10, "USD"), [1.0, 2.0])  # type: ignore[list-item]


def test_amounts_are_bounded_ints():
    with pytest.raises(InvalidAmountError):
        Money(True, "USD")
    with pytest.raises(InvalidAmountError):
        Money(10**16, "USD")
    with pytest.raises(InvalidAmountError):
        Money.from_decimal(Decimal("NaN"), "USD")


def test_arithmetic_and_comparison_need_one_currency():
    a, b = Money(150, "TWD"), Money(50, "TWD")
    assert a + b == Money(200, "TWD")
    assert a - b == Money(100, "TWD")
    assert -a == Money(-150, "TWD")
    assert b < a and a > b and a >= a and b <= a
    assert sum_money([a, b, -a], "TWD") == b
    with pytest.raises(CurrencyMismatchError):
        a + Money(1, "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = a < Money(1, "USD")
    assert a != Money(150, "USD")


def test_allocate_splits_by_largest_remainder():
    # GIVEN 100 minor units split 1:1:1 THEN the left-over unit goes to the first part
    assert [m.amount_minor for m in allocate(Money(100, "USD"), [1, 1, 1])] == [34, 33, 33]
    assert [m.amount_minor for m in allocate(Money(-100, "USD"), [1, 1, 1])] == [-34, -33, -33]
    assert [m.amount_minor for m in allocate(Money(10, "USD"), [0, 3, 1])] == [0, 8, 2]


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(
        lambda w: sum(w) > 0
    ),
)
def test_allocate_is_exact_and_fair(total, weights):
    # GIVEN any total and weights WHEN allocated THEN parts sum exactly and each is within
    # one minor unit of its exact share
    parts = allocate(Money(total, "TWD"), weights)
    assert sum(p.amount_minor for p in parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / weight_sum
        assert abs(Decimal(part.amount_minor) - exact) < 1


@given(
    value=st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
    rounding=st.sampled_from(list(Rounding)),
)
def test_exact_rounding_matches_decimal_quantize(value, rounding):
    # GIVEN any value WHEN rounded to minor units THEN it agrees with Decimal's own mode
    expected = int(value.quantize(Decimal(1), rounding=rounding.decimal_mode))
    assert round_to_minor(value, rounding) == expected
