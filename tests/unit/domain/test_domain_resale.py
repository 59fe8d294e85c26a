"""The resale check's comparison and its cap rule per market (domain/resale.py)."""

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import BillingPeriod, Reading, postpaid_bill
from chalicelib.domain.resale import cap_of, compare
from chalicelib.domain.templates import template

NOVEMBER = BillingPeriod(date(2025, 11, 1), date(2025, 12, 1))
TAIPEI = ZoneInfo("Asia/Taipei")


def test_gb_and_tw_cap_resale_and_other_markets_only_compare():
    assert cap_of("GB") is not None and cap_of("GB").rule == "max_resale_price"
    assert cap_of("tw") is not None and cap_of("tw").rule == "bill_average_price"
    assert cap_of("US") is None
    over = compare(NOVEMBER, Decimal("330.000"), "TWD", 165000, 68800, "US")
    assert over.difference_minor == 96200 and not over.over_cap


@pytest.mark.parametrize("market", ["GB", "TW"])
def test_a_charge_above_the_utility_price_is_over_the_cap_and_equal_is_allowed(market):
    assert compare(NOVEMBER, Decimal("100"), "TWD", 50001, 50000, market).over_cap
    assert not compare(NOVEMBER, Decimal("100"), "TWD", 50000, 50000, market).over_cap
    assert not compare(NOVEMBER, Decimal("100"), "TWD", 49999, 50000, market).over_cap


def test_prices_per_kwh_and_markup_are_exact():
    c = compare(NOVEMBER, Decimal("330.000"), "TWD", 165000, 68800, "TW")
    assert c.charged_per_kwh_minor == Fraction(500)
    assert c.utility_per_kwh_minor == Fraction(68800) / Fraction(330)
    assert c.markup_percent == Decimal("139.8")  # 96200 / 68800
    empty = compare(NOVEMBER, Decimal("0"), "TWD", 0, 0, "TW")
    assert empty.charged_per_kwh_minor is None and empty.markup_percent is None
    with pytest.raises(TypeError):
        compare(NOVEMBER, Decimal("1"), "TWD", 1.5, 1, "TW")  # type: ignore[arg-type]


def test_a_flat_five_dollars_a_kwh_exceeds_taipowers_average_price():
    # The 2025-10-01 Taipower residential table, non-summer, one month of 330 kWh:
    # 120 x 1.78 + 210 x 2.26 = 688.2, billed in whole dollars: NT$688 (worked by hand from
    # the table cited in the template). A landlord charging a flat NT$5 a kWh takes NT$1,650.
    utility = postpaid_bill(
        template("tw-taipower-residential-tiered").timeline,
        NOVEMBER,
        [
            Reading(datetime(2025, 11, 1, tzinfo=TAIPEI), Decimal("1000")),
            Reading(datetime(2025, 12, 1, tzinfo=TAIPEI), Decimal("1330")),
        ],
        tz="Asia/Taipei",
    )
    assert utility.total_minor == 68800
    c = compare(NOVEMBER, utility.energy_kwh, "TWD", 165000, utility.total_minor, "TW")
    assert c.over_cap and c.difference_minor == 96200
