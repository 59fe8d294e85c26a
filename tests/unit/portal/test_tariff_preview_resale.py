"""The editor preview's resale comparison (application/tariff_preview.py
``against_utility``): the preview's bill against the same readings priced at the utility
tariff by ``postpaid_bill``, judged by ``domain.resale``'s rule of the market."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.application.tariff_preview import against_utility
from chalicelib.domain.billing import postpaid_bill
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.sample_usage import sample_readings
from chalicelib.domain.tariffs import parse_tariff
from chalicelib.domain.templates import template

TZ = "Europe/London"
NOVEMBER = BillingPeriod(date(2026, 11, 1), date(2026, 12, 1))
OFGEM = template("gb-ofgem-price-cap-electricity")


def _compared(country: str, price: str) -> tuple[int, object]:
    readings = sample_readings(NOVEMBER, TZ)
    tariff = parse_tariff(
        {"kind": "flat", "tariff_id": "t", "currency": "GBP", "price_per_kwh": price}
    )
    bill = postpaid_bill(tariff, NOVEMBER, readings, tz=TZ)
    return bill.total_minor, against_utility(country, TZ, OFGEM, readings, bill)


# Ofgem's version in force in November 2026 (2025 Q1): 300 kWh x 24.86p + 30 days x
# 60.97p = 7,458 + 1,829.1 = 9,287.1p, the total rounded to the penny half-up.
OFGEM_NOVEMBER_SAMPLE = 9287


@pytest.mark.parametrize(("price", "over"), [("0.60", True), ("0.10", False)])
def test_gb_warns_above_the_utility_price_only(price: str, over: bool) -> None:
    charged, c = _compared("GB", price)
    assert c is not None and c.cap is not None and c.cap.rule == "max_resale_price"
    assert c.charged_minor == charged and c.energy_kwh == Decimal("300.000")
    assert c.utility_minor == OFGEM_NOVEMBER_SAMPLE
    assert c.over_cap is over
    assert (charged > c.utility_minor) is over


def test_the_utility_tariff_itself_is_at_the_cap_and_allowed() -> None:
    readings = sample_readings(NOVEMBER, TZ)
    bill = postpaid_bill(OFGEM.timeline, NOVEMBER, readings, tz=TZ)
    same = against_utility("GB", TZ, OFGEM, readings, bill)
    assert same is not None and same.cap is not None
    assert same.charged_minor == same.utility_minor == OFGEM_NOVEMBER_SAMPLE
    assert not same.over_cap


def test_a_market_without_a_cap_is_never_over_it() -> None:
    _, c = _compared("JE", "0.60")
    assert c is not None and c.cap is None and not c.over_cap
