"""make run's past ends where its live simulated meters begin (local_aws.demo_history):
the history reports each register as the meter shows it, so the first live reading of a
0.01 kWh register continues the record instead of being held for review as running
backwards (stop 27: 12465.516 reported, 12465.51 read live, held)."""

from __future__ import annotations

import random
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.meter_models import meter_model
from local_aws.demo_history import _Series
from meter_gateway.decode import decode_register
from meter_gateway.profiles import load_profile
from meter_gateway.simulator import ManualClock, SimulatedMeter

KEY = "import_kwh"


def _series(register: Decimal, profile: str) -> _Series:
    meter = type("M", (), {"profile": profile})()
    return _Series(
        meter,
        Decimal("5"),
        [1] * 24,
        False,
        ZoneInfo("UTC"),
        register,
        random.Random(1),
        meter_model(profile).register_step_kwh,
    )


def _read_live(profile_name: str, start_kwh: Decimal) -> Decimal:
    """The first reading the gateway would decode from a simulated meter started at
    ``start_kwh`` (make run passes the history's last reading as --initial-kwh)."""
    profile = load_profile(profile_name)
    meter = SimulatedMeter(1, profile, ManualClock(), seed=1, initial_import_kwh=float(start_kwh))
    spec = profile.all_registers()[KEY]
    assert spec.function_code is not None
    image = meter.register_image(spec.function_code)
    words = [image[(spec.address or 0) + i] for i in range(spec.register_count)]
    return decode_register(KEY, spec, words, *profile.orders(spec))


@given(st.integers(min_value=100_000, max_value=99_999_999))
def test_the_live_meter_reads_exactly_the_last_reading_the_history_reported(milli: int) -> None:
    # GIVEN a DDS238 (a 0.01 kWh register) whose simulated energy is any whole Wh
    series = _series(Decimal(milli) / 1000, "dds238")
    # WHEN the history reports it and the live simulator starts there
    reported = series.shown()
    # THEN the report is a value the register can show, and the live reading equals it
    assert reported <= series.register < reported + Decimal("0.01")
    assert reported % Decimal("0.01") == 0
    assert _read_live("dds238", reported) == reported


def test_reporting_the_energy_between_steps_is_what_held_the_first_live_reading() -> None:
    # The failure this guards against, as make run showed it: a history reading of
    # 12465.516 from a 0.01 kWh register, then 12465.51 read live.
    assert _read_live("dds238", Decimal("12465.516")) == Decimal("12465.51")
    assert _series(Decimal("12465.516"), "dds238").shown() == Decimal("12465.510")


def test_a_float_register_is_reported_to_the_wh() -> None:
    series = _series(Decimal("1640.4204"), "sdm120")
    assert series.step is None
    assert series.shown() == Decimal("1640.420")
