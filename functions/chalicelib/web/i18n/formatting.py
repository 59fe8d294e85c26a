"""Dates, numbers and money in the reader's language, with Babel (CLDR data).

The language is the reader's; the currency and time zone are the property's,
so the caller passes them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, get_currency_precision


class LocaleFormats:
    def __init__(self, language: str) -> None:
        self.language = language

    def money(self, amount_minor: int, currency: str) -> str:
        """Integer minor units shown in the currency's own precision (no float)."""
        digits = get_currency_precision(currency)
        major = Decimal(int(amount_minor)).scaleb(-digits)
        return format_currency(major, currency, locale=self.language, currency_digits=True)

    def kwh(self, energy_kwh: Decimal | str) -> str:
        return format_decimal(Decimal(str(energy_kwh)), format="#,##0.000", locale=self.language)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.language)

    def datetime(self, at: dt.datetime, time_zone: str) -> str:
        return format_datetime(
            at, format="medium", tzinfo=ZoneInfo(time_zone), locale=self.language
        )

    def date(self, at: dt.datetime, time_zone: str) -> str:
        return format_date(
            at.astimezone(ZoneInfo(time_zone)), format="medium", locale=self.language
        )

    def short_day(self, at: dt.datetime) -> str:
        return format_date(
            at, format="d/M" if self.language == "en" else "M/d", locale=self.language
        )
