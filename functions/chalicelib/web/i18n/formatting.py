"""Dates, numbers and money in the reader's language, with Babel (CLDR data).

The language is the reader's; the currency and time zone are the property's,
so the caller passes them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import NumberPattern, format_currency, format_decimal, get_currency_symbol

from ...domain.money import currency_exponent, to_major
from ...domain.money_text import major_pattern


@lru_cache(maxsize=64)
def money_pattern(language: str, exponent: int) -> NumberPattern:
    """The language's currency pattern (symbol, grouping, sign) with exactly `exponent`
    decimals: the digits are the domain's, only the layout is CLDR's."""
    base = Locale.parse(language).currency_formats["standard"]
    return NumberPattern(
        base.pattern,
        base.prefix,
        base.suffix,
        base.grouping,
        base.int_prec,
        (exponent, exponent),
        base.exp_prec,
        base.exp_plus,
        base.number_pattern,
    )


# What readers of a language call the energy unit and a currency, where CLDR's choice is
# not theirs: Taiwanese bills (Taipower's included) count 度 (one kWh), and CLDR's zh_Hant
# symbol for TWD is a bare "$", which a tenant cannot tell from US dollars.
KWH_UNIT = {"zh_TW": "度"}
CURRENCY_SYMBOLS = {("zh_TW", "TWD"): "NT$"}


class LocaleFormats:
    def __init__(self, language: str) -> None:
        self.language = language

    @property
    def kwh_unit(self) -> str:
        return KWH_UNIT.get(self.language, "kWh")

    def money(self, amount_minor: int, currency: str) -> str:
        """Integer minor units with the domain's exponent (domain/money.py), never
        CLDR's digits: for IDR CLDR says 0 and the ledger counts hundredths."""
        text = format_currency(
            to_major(int(amount_minor), currency),
            currency,
            format=money_pattern(self.language, currency_exponent(currency)),
            locale=self.language,
            currency_digits=False,
        )
        symbol = CURRENCY_SYMBOLS.get((self.language, currency))
        if symbol is None:
            return text
        return text.replace(get_currency_symbol(currency, locale=self.language), symbol, 1)

    def amount_pattern(self, currency: str) -> str:
        """The HTML ``pattern`` of an amount field: the domain's grammar for typed amounts
        with the currency's exponent (both languages write 1,000.50)."""
        return major_pattern(currency)

    def kwh(self, energy_kwh: Decimal | str) -> str:
        return format_decimal(Decimal(str(energy_kwh)), format="#,##0.000", locale=self.language)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.language)

    def datetime(self, at: dt.datetime, time_zone: str) -> str:
        return format_datetime(
            at, format="medium", tzinfo=ZoneInfo(time_zone), locale=self.language
        )

    def time(self, at: dt.datetime, time_zone: str) -> str:
        """Hours and minutes on the property's clock (24-hour in both languages)."""
        return format_time(at, format="HH:mm", tzinfo=ZoneInfo(time_zone), locale=self.language)

    def date(self, at: dt.datetime, time_zone: str) -> str:
        return format_date(
            at.astimezone(ZoneInfo(time_zone)), format="medium", locale=self.language
        )

    def short_day(self, at: dt.datetime) -> str:
        return format_date(
            at, format="d/M" if self.language == "en" else "M/d", locale=self.language
        )
