"""Money on the pages: every form reads amounts with the domain's parser and exponent,
every page shows them with the domain's exponent (Babel only lays the number out), and
no code under chalicelib asks Babel for a currency's digits."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import chalicelib
from chalicelib.application.errors import InvalidTopUpError
from chalicelib.domain import CURRENCY_EXPONENTS, Money, UnknownCurrencyError, parse_major
from chalicelib.domain.money import MAX_AMOUNT_MINOR
from chalicelib.domain.tariffs import parse_tariff
from chalicelib.web.i18n import Translator
from chalicelib.web.routes_staff import parse_amount_minor, unit_currency
from chalicelib.web.settings_forms import (
    FormErrors,
    FormFieldError,
    major,
    parse_minor,
    parse_thresholds,
)
from chalicelib.web.tariff_forms import tariff_document, tariff_form

ROOT = Path(chalicelib.__file__).parent
# Babel's answers about a currency's digits (CLDR's), or its list of currencies: the
# domain's table (domain/money.py) is the only source of both.
CLDR_CURRENCY_DATA = {"get_currency_precision", "list_currencies", "get_currency_unit_pattern"}
SHOWN_NUMBER = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")


def _cldr_digits_used(node: ast.AST) -> set[str]:
    if isinstance(node, ast.ImportFrom):
        return {alias.name for alias in node.names} & CLDR_CURRENCY_DATA
    if isinstance(node, ast.Attribute):
        return {node.attr} & CLDR_CURRENCY_DATA
    # format_currency's default (currency_digits=True) is CLDR's digits
    digits_off = isinstance(node, ast.keyword) and (
        isinstance(node.value, ast.Constant) and node.value.value is False
    )
    if isinstance(node, ast.keyword) and node.arg == "currency_digits" and not digits_off:
        return {"currency_digits"}
    return set()


def test_no_module_asks_babel_for_a_currencys_digits() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(ROOT.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        for name in _cldr_digits_used(node)
    ]
    assert not found, found


@given(data=st.data())
@pytest.mark.parametrize("language", ["en", "zh_TW"])
@pytest.mark.parametrize("currency", sorted(CURRENCY_EXPONENTS))
def test_pages_show_the_domains_digits_and_read_back_to_the_same_amount(
    currency: str, language: str, data: st.DataObject
) -> None:
    # GIVEN any amount WHEN a page shows it
    minor = data.draw(st.integers(min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR))
    shown = Translator(language).money(minor, currency)
    # THEN the number has exactly the domain's decimals, and typed back it is the same amount
    number = SHOWN_NUMBER.search(shown)
    assert number, shown
    exponent = CURRENCY_EXPONENTS[currency]
    decimals = number.group().partition(".")[2]
    assert len(decimals) == exponent, (shown, exponent)
    assert parse_major(number.group(), currency) == Money(abs(minor), currency)
    assert shown.startswith("-") == (minor < 0)


def test_an_idr_amount_shows_the_domains_two_decimals_not_cldrs_none() -> None:
    # GIVEN IDR, where CLDR (Babel) says 0 digits and ISO 4217 and the ledger say 2
    assert Translator("en").money(10_000_000, "IDR").endswith("100,000.00")
    assert Translator("zh_TW").money(10_000_050, "IDR").endswith("100,000.50")
    assert major(10_000_000, "IDR") == "100000.00"  # the form's value for editing


def test_a_staff_top_up_in_idr_stores_exactly_what_was_typed() -> None:
    # WHEN a landlord types 100000 rupiah THEN 10,000,000 hundredths, not 100,000
    assert parse_amount_minor("100000", "IDR") == 10_000_000
    assert parse_amount_minor("100,000", "IDR") == 10_000_000
    assert parse_amount_minor("250.50", "TWD") == 25050


@pytest.mark.parametrize(
    "typed", ["1e3", "1_000", "1,0,0", ".5", "１００", "٣", "NaN", "Infinity", "1.001", ""]
)
def test_top_up_and_opening_credit_refuse_what_the_review_found(typed: str) -> None:
    with pytest.raises(InvalidTopUpError) as raised:
        parse_amount_minor(typed, "TWD")
    assert str(raised.value)  # the domain's reason is shown next to the form


def test_a_unit_without_a_known_currency_is_an_error_not_twd() -> None:
    for tariff in (None, {}, {"kind": "flat"}, {"currency": "XAU"}, {"currency": "twd"}):
        unit: Any = SimpleNamespace(tariff=tariff)
        with pytest.raises(UnknownCurrencyError):
            unit_currency(unit)
    assert unit_currency(SimpleNamespace(tariff={"currency": "IDR"})) == "IDR"  # type: ignore[arg-type]


def test_settings_amounts_use_the_domain_parser_and_name_the_field() -> None:
    assert parse_minor("150", "IDR", "emergency_credit") == 15_000
    for typed in ("1e3", "1_000", "-5", "１", ".5"):
        with pytest.raises(FormFieldError) as raised:
            parse_minor(typed, "TWD", "emergency_credit")
        assert raised.value.field == "emergency_credit"


def test_thresholds_are_separated_by_commas_and_an_ambiguous_comma_is_refused() -> None:
    assert parse_thresholds("80, 20.5", "TWD") == [8000, 2050]
    assert parse_thresholds("100,50 20、10", "TWD") == [10000, 5000, 2000, 1000]
    assert parse_thresholds("  ", "TWD") is None
    # "1,000" would be 1 and 0; "100,500" could be one threshold or two: neither is guessed
    for typed in ("1,000", "100,500", "1,000.50", "5, 1,000"):
        with pytest.raises(FormFieldError, match="comma separates"):
            parse_thresholds(typed, "TWD")
    with pytest.raises(FormFieldError, match="0-9"):
        parse_thresholds("80, ٣", "TWD")


def _tariff_form(**fields: str) -> dict[str, str]:
    return {"kind": "flat", "tariff_id": "t-1", "price": "1.68", "tax_percent": "5"} | fields


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("price", "1e3"),
        ("price", "１.5"),
        ("tax_percent", "1_0"),
        ("tax_percent", "NaN"),
        ("fixed0_amount", "1e2"),
    ],
)
def test_tariff_form_numbers_use_the_same_grammar(field: str, typed: str) -> None:
    fixed = {"fixed0_code": "meter", "fixed0_per": "period"} if field.startswith("fixed") else {}
    with pytest.raises(FormErrors) as raised:
        tariff_document(_tariff_form(**fixed, **{field: typed}), "TWD")
    assert list(raised.value.errors) == [field]


def test_tariff_form_reads_typed_numbers_exactly() -> None:
    doc = tariff_document(
        _tariff_form(
            price="1,000.5",
            tax_percent="12.5",
            fixed0_code="meter",
            fixed0_amount="1,000",
            fixed0_per="day",
        ),
        "IDR",
    )
    assert (doc["price_per_kwh"], doc["tax_rate"]) == ("1000.5", "0.125")
    assert doc["fixed_charges"] == [{"code": "meter", "amount_minor": 100_000, "per": "day"}]


def test_a_ten_percent_tax_is_shown_as_10_not_1e1() -> None:
    # GIVEN a stored 10 % tax WHEN the tariff form shows it THEN the form reads it back
    tariff = parse_tariff(
        {
            "kind": "flat",
            "tariff_id": "t",
            "currency": "TWD",
            "price_per_kwh": "2",
            "tax_rate": "0.1",
        }
    )
    shown = tariff_form(SimpleNamespace(tariff=tariff, version=1, thresholds_minor=None))  # type: ignore[arg-type]
    assert shown["tax_percent"] == "10"
    assert (
        tariff_document(_tariff_form(tax_percent=shown["tax_percent"]), "TWD")["tax_rate"] == "0.1"
    )
