import re
from decimal import Decimal

import pytest

from chalicelib.domain import FloatRefusedError, InvalidEnergyError, format_kwh, kwh
from chalicelib.domain.energy import non_negative_kwh

SHADOW_KWH = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,3})?$")


def test_kwh_quantizes_to_one_wh():
    assert kwh("1.2345") == Decimal("1.234")  # half-even
    assert kwh("1.2355") == Decimal("1.236")
    assert kwh(7) == Decimal("7.000")
    assert str(kwh(" 12.5 ")) == "12.500"


@pytest.mark.parametrize("bad", ["NaN", "inf", "-Infinity", "abc", "", "1000000000"])
def test_kwh_rejects_non_finite_and_out_of_range(bad):
    with pytest.raises(InvalidEnergyError):
        kwh(bad)


def test_kwh_refuses_float():
    with pytest.raises(FloatRefusedError):
        kwh(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidEnergyError):
        non_negative_kwh("-0.001")


def test_format_kwh_fits_the_shadow_pattern():
    for value in ["0", "1E+3", "999999999.999", "12.3"]:
        text = format_kwh(Decimal(value))
        assert SHADOW_KWH.match(text), text
    assert format_kwh(Decimal("1E+3")) == "1000.000"
