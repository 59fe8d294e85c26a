"""The main meter against the unit meters' sum (domain/energy_balance.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.energy_balance import (
    DEFAULT_ALERT_PERCENT,
    MIN_LOSS_KWH,
    BalanceStatus,
    InvalidAlertPercentError,
    alert_percent,
    balance,
)

DAY = date(2026, 11, 20)
energy = st.decimals(min_value=0, max_value=5_000, places=3, allow_nan=False)
percents = st.decimals(min_value="0.5", max_value=50, places=1, allow_nan=False)
unit_energies = st.dictionaries(st.from_regex(r"m-[a-z]{1,4}", fullmatch=True), energy, max_size=8)


@given(energy, unit_energies, percents)
def test_the_loss_and_the_units_make_up_the_main_meter(
    main: Decimal, units: dict[str, Decimal], percent: Decimal
) -> None:
    found = balance(DAY, main, units, [], percent)
    assert found.loss_kwh is not None
    assert found.units_kwh + found.loss_kwh == main
    assert found.units_kwh == sum(units.values(), Decimal(0))


@given(energy, unit_energies, percents)
def test_a_loss_alerts_exactly_when_it_is_above_the_percentage_and_the_floor(
    main: Decimal, units: dict[str, Decimal], percent: Decimal
) -> None:
    found = balance(DAY, main, units, [], percent)
    loss = main - sum(units.values(), Decimal(0))
    above = main > 0 and (loss * 100 / main).quantize(Decimal("0.1")) > percent
    assert (found.status is BalanceStatus.LOSS) == (loss >= MIN_LOSS_KWH and (above or main == 0))
    if found.status is BalanceStatus.EXCESS:
        assert loss <= -MIN_LOSS_KWH


@given(energy.filter(lambda e: e > 0), unit_energies, percents, st.integers(2, 50))
def test_the_verdict_does_not_depend_on_the_scale_above_the_floor(
    main: Decimal, units: dict[str, Decimal], percent: Decimal, factor: int
) -> None:
    # GIVEN the same building at a bigger load: every meter times `factor`
    small = balance(DAY, main, units, [], percent, min_loss_kwh=Decimal(0))
    big = balance(
        DAY, main * factor, {m: e * factor for m, e in units.items()}, [], percent, Decimal(0)
    )
    # THEN the share lost is the same (to its rounding) and so is the verdict
    assert small.loss_percent is not None and big.loss_percent is not None
    assert abs(small.loss_percent - big.loss_percent) <= Decimal("0.1")
    if abs(big.loss_percent - percent) > Decimal("0.1") and small.loss_percent != -percent:
        assert small.status == big.status


def test_a_unit_meter_without_energy_counts_as_zero_and_is_named() -> None:
    found = balance(
        DAY, Decimal("40.000"), {"m-a": Decimal("20.000")}, ["m-a", "m-b"], DEFAULT_ALERT_PERCENT
    )
    assert found.status is BalanceStatus.LOSS and found.missing == ("m-b",)
    assert (found.loss_kwh, found.loss_percent) == (Decimal("20.000"), Decimal("50.0"))


def test_no_main_reading_no_verdict_and_the_floor_keeps_an_idle_building_quiet() -> None:
    assert balance(DAY, None, {"m": Decimal(3)}, [], Decimal(5)).status is BalanceStatus.NO_MAIN
    # 40 % of 2 kWh is 0.8 kWh: under the 1 kWh floor
    quiet = balance(DAY, Decimal("2.000"), {"m": Decimal("1.200")}, [], Decimal(5))
    assert quiet.status is BalanceStatus.OK and quiet.loss_percent == Decimal("40.0")
    more = balance(DAY, Decimal("10.000"), {"m": Decimal("11.500")}, [], Decimal(5))
    assert more.status is BalanceStatus.EXCESS


@pytest.mark.parametrize("text", ["0.4", "51", "abc", "NaN", "Infinity", ""])
def test_a_percentage_outside_the_range_is_refused(text: str) -> None:
    with pytest.raises(InvalidAlertPercentError):
        alert_percent(text)


def test_the_percentage_defaults_and_is_kept_to_one_decimal() -> None:
    assert alert_percent(None) == Decimal(5)
    assert alert_percent(" 7.25 ") == Decimal("7.2")
