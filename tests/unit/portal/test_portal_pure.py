"""Pure pieces of the portal: days-left estimate, SVG chart, amounts, formats, config.

The message catalogues and language choice: test_i18n_*.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.application.chart import Bar, bar_chart_svg
from chalicelib.application.errors import InvalidTopUpError
from chalicelib.application.estimate import HORIZON_DAYS, MAX_DAYS, days_left
from chalicelib.routing.web_settings import WebSettings
from chalicelib.web.cookies import read_cookies, set_cookie
from chalicelib.web.i18n import Translator
from chalicelib.web.routes_staff import parse_amount_minor

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_days_left_divides_the_balance_by_the_recent_daily_spend() -> None:
    # GIVEN 100 spent per day over the last 4 days
    entries = [("consumption_charge", -100, NOW - timedelta(days=d)) for d in range(1, 5)]
    # THEN 1050 of credit lasts 10.5 days, rounded down to whole days
    assert days_left(1050, entries, NOW) == 10
    assert days_left(0, entries, NOW) == 0
    assert days_left(1000, [("top_up", 500, NOW)], NOW) is None
    old = [("consumption_charge", -100, NOW - timedelta(days=30))]
    assert days_left(1000, old, NOW) is None  # outside the 14-day window


def test_days_left_beyond_the_horizon_is_more_than_ninety_not_a_number() -> None:
    # GIVEN 100 spent per day: 9,000 lasts exactly the horizon, 9,100 and 10**6 beyond it
    entries = [("consumption_charge", -100, NOW - timedelta(days=d)) for d in range(1, 5)]
    assert HORIZON_DAYS == 90
    assert days_left(9_000, entries, NOW) == HORIZON_DAYS
    # THEN anything longer is "more than 90 days" (MAX_DAYS), never "about 999 days"
    assert days_left(9_100, entries, NOW) == MAX_DAYS == HORIZON_DAYS + 1
    assert days_left(10**6, entries, NOW) == MAX_DAYS


@given(
    balance=st.integers(min_value=1, max_value=10**12),
    charges=st.lists(
        st.tuples(st.integers(min_value=1, max_value=10**6), st.integers(0, 14 * 86_400)),
        min_size=1,
        max_size=30,
    ),
)
def test_days_left_is_bounded_and_never_grows_with_more_spending(
    balance: int, charges: list[tuple[int, int]]
) -> None:
    entries = [("consumption_charge", -a, NOW - timedelta(seconds=s)) for a, s in charges]
    days = days_left(balance, entries, NOW)
    assert days is not None and 0 <= days <= MAX_DAYS
    more = [*entries, ("fixed_charge", -1, NOW)]
    assert days_left(balance, more, NOW) <= days  # type: ignore[operator]


def test_chart_is_escaped_svg_with_one_bar_per_day() -> None:
    bars = [Bar(f"<d{i}>", Decimal(i), f"{i}.000") for i in range(7)]
    svg = bar_chart_svg(bars, 'Usage "week"')
    assert svg.startswith("<svg") and svg.count('class="bar"') == 7
    assert "<d1>" not in svg and "&lt;d1&gt;" in svg and "&quot;week&quot;" in svg
    assert bar_chart_svg([], "empty") == ""


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("300", "TWD", 30000),
        ("1,250.5", "TWD", 125050),
        ("12.34", "GBP", 1234),
        ("500", "JPY", 500),
    ],
)
def test_amounts_become_integer_minor_units(typed: str, currency: str, minor: int) -> None:
    assert parse_amount_minor(typed, currency) == minor


@pytest.mark.parametrize("typed", ["", "abc", "NaN", "Infinity", "1.001", "1" * 17])
def test_malformed_amounts_are_refused(typed: str) -> None:
    with pytest.raises(InvalidTopUpError):
        parse_amount_minor(typed, "TWD")


def test_money_and_dates_follow_the_language_and_the_property() -> None:
    en, zh = Translator("en"), Translator("zh_TW")
    assert en.money(123456, "TWD") == "NT$1,234.56"
    assert en.money(-53, "GBP") == "-£0.53"
    # a Taiwanese reader sees NT$ (CLDR's zh_Hant "$" reads as US dollars) and 度
    assert zh.money(123456, "TWD") == "NT$1,234.56"
    assert zh.money(-53, "GBP") == "-£0.53"
    assert (zh.kwh_unit, en.kwh_unit) == ("度", "kWh")
    at = datetime(2026, 11, 28, 16, 30, tzinfo=UTC)
    assert "Nov 29, 2026" in en.datetime(at, "Asia/Taipei")  # 00:30 next day in Taipei
    assert "2026年11月29日" in zh.datetime(at, "Asia/Taipei")


def test_cookies_are_hardened_and_insecure_ones_only_for_local() -> None:
    cookie = set_cookie("pl_session", "abc", max_age_s=60, secure=True)
    assert {"HttpOnly", "Secure", "SameSite=Lax"} <= set(cookie.split("; "))
    assert read_cookies("a=1; pl_session=abc") == {"a": "1", "pl_session": "abc"}
    assert read_cookies("x" * 9000) == {}
    assert WebSettings.from_env({"POWERLET_COOKIE_SECURE": "0"}).cookie_secure is False
    with pytest.raises(ValidationError):
        WebSettings.from_env({"POWERLET_COOKIE_SECURE": "0", "POWERLET_STAGE": "prod"})
