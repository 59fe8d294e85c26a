"""Reading validation rules (domain/metering.py): pure, checked against the datasheets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import Reading
from chalicelib.domain.metering import (
    FROZEN_IDLE_W,
    FUTURE_TOLERANCE,
    RATINGS,
    HoldReason,
    PowerSample,
    Rating,
    float32_spacing,
    rating_of,
    still_energy_kwh,
    validate,
)

T0 = datetime(2026, 11, 20, 1, tzinfo=UTC)
DDS238 = RATINGS["dds238"]


def reading(minutes: float, value: str) -> Reading:
    return Reading(T0 + timedelta(minutes=minutes), Decimal(value))


def test_a_dds238_can_pass_at_most_0_331_kwh_in_a_minute() -> None:
    # 65 A x 230 V = 14.95 kW; a minute is 0.249 kWh; x 1.25 + 0.020 = 0.331 kWh
    assert DDS238.max_energy_kwh(timedelta(minutes=1)) == Decimal("0.331")
    assert RATINGS["sdm120"].max_energy_kwh(timedelta(hours=1)) == Decimal("12.958")


def test_each_kind_of_bad_reading_is_held_with_its_evidence() -> None:
    anchor = reading(0, "100.000")
    now = T0 + timedelta(minutes=2)
    backwards = validate(reading(1, "0.000"), anchor, DDS238, now)
    spike = validate(reading(1, "150.000"), anchor, DDS238, now)
    future = validate(reading(60, "100.100"), anchor, DDS238, now)
    moved_back_in_time = validate(reading(0, "100.500"), anchor, DDS238, now)
    assert (backwards.reason, backwards.energy_kwh) == (HoldReason.BACKWARDS, Decimal("-100.000"))
    assert (spike.reason, spike.energy_kwh, spike.limit_kwh) == (
        HoldReason.SPIKE,
        Decimal("50.000"),
        Decimal("0.331"),
    )
    assert future.reason is HoldReason.CLOCK
    assert moved_back_in_time.reason is HoldReason.CLOCK


def test_good_readings_pass() -> None:
    anchor = reading(0, "100.000")
    now = T0 + timedelta(minutes=5)
    assert validate(reading(1, "100.331"), anchor, DDS238, now).good
    assert validate(reading(1, "100.000"), anchor, DDS238, now).good  # nothing used
    assert validate(reading(0, "100.000"), anchor, DDS238, now).good  # the same read again
    assert validate(reading(1, "0.000"), None, DDS238, now).good  # no anchor: only the clock
    slightly_ahead = T0 + FUTURE_TOLERANCE - timedelta(seconds=1)
    assert validate(Reading(slightly_ahead, Decimal("100.1")), anchor, DDS238, T0).good


def test_a_unit_on_a_wider_supply_overrides_the_models_current() -> None:
    wider = rating_of("dds238", Decimal(100))
    assert wider == Rating(Decimal(100), Decimal(230), 1, Decimal("0.01"))
    assert rating_of("unknown-model").max_current_a == Decimal(100)


@given(
    energy_wh=st.integers(min_value=0, max_value=10_000_000),
    seconds=st.integers(min_value=1, max_value=86_400 * 30),
)
def test_a_reading_is_held_for_a_spike_exactly_when_it_exceeds_the_rating(
    energy_wh: int, seconds: int
) -> None:
    # GIVEN any energy over any time up to a month after a good reading
    anchor = Reading(T0, Decimal("1000.000"))
    later = Reading(
        T0 + timedelta(seconds=seconds), anchor.cumulative_kwh + Decimal(energy_wh) / 1000
    )
    verdict = validate(later, anchor, DDS238, later.at)
    # THEN it is held for a spike exactly when it is more than the meter can pass
    limit = DDS238.max_energy_kwh(later.at - anchor.at)
    assert (verdict.reason is HoldReason.SPIKE) == (
        later.cumulative_kwh - anchor.cumulative_kwh > limit
    )
    assert verdict.reason in {None, HoldReason.SPIKE}


def test_the_clouds_ratings_are_the_gateway_profiles_ratings() -> None:
    """The rating lives in the meter's profile (what the installer configures); the cloud
    keeps a copy to validate with, and the two must not drift."""
    from meter_gateway.profiles import available_profiles, load_profile

    rated = {name: load_profile(name).rating for name in available_profiles()}
    for name, rating in rated.items():
        if rating is None:
            continue  # a relay module: no register to validate
        assert name in RATINGS, f"profile {name} has a rating the cloud does not know"
        profile = load_profile(name)
        assert RATINGS[name] == Rating(
            rating.max_current_a,
            rating.nominal_voltage_v,
            rating.phases,
            profile.energy_step_kwh,
            profile.energy_register_is_float,
        ), name
    assert set(RATINGS) <= {n for n, r in rated.items() if r is not None}


# --- frozen register ---------------------------------------------------------------


def sample(minutes: float, value: str, watts: int | None) -> PowerSample:
    return PowerSample(
        T0 + timedelta(minutes=minutes), Decimal(value), None if watts is None else Decimal(watts)
    )


def test_a_dds238_register_must_move_after_30_wh_and_a_float_one_by_its_spacing() -> None:
    # three steps of 0.01 kWh
    assert DDS238.frozen_limit_kwh(Decimal("100.00")) == Decimal("0.030")
    # an SDM120 near 300,000 kWh: float32 steps of 2^-5 kWh, three of them rounded up
    sdm120 = RATINGS["sdm120"]
    assert sdm120.frozen_limit_kwh(Decimal("1000.0")) == Decimal("0.030")
    assert float32_spacing(Decimal("300000")) == Decimal("0.03125")
    assert sdm120.frozen_limit_kwh(Decimal("300000")) == Decimal("0.094")


def test_a_register_standing_still_at_2_kw_is_held_frozen_with_its_evidence() -> None:
    # GIVEN a register at 100.10 kWh for a minute while the meter says 2 kW both times
    anchor = reading(0, "100.100")
    still = still_energy_kwh(sample(0, "100.100", 2000), Decimal(0), sample(1, "100.100", 2000))
    assert still == Decimal("0.033")  # 2 kW x 1/60 h
    # WHEN the reading is validated
    verdict = validate(reading(1, "100.100"), anchor, DDS238, T0 + timedelta(minutes=2), still)
    # THEN it is held frozen: 33 Wh passed by the power, 30 Wh would have moved it
    assert (verdict.reason, verdict.drawn_kwh, verdict.limit_kwh, verdict.energy_kwh) == (
        HoldReason.FROZEN,
        Decimal("0.033"),
        Decimal("0.030"),
        Decimal("0.000"),
    )


def test_the_evidence_starts_again_when_the_register_moves_or_the_power_is_idle() -> None:
    moved = still_energy_kwh(sample(0, "100.10", 2000), Decimal("1"), sample(1, "100.11", 2000))
    idle = still_energy_kwh(sample(0, "100.10", 2000), Decimal("1"), sample(1, "100.10", 50))
    switched_on = still_energy_kwh(sample(0, "100.10", 0), Decimal(0), sample(1, "100.10", 3000))
    gap = still_energy_kwh(sample(0, "100.10", 2000), Decimal(0), sample(16, "100.10", 2000))
    no_power = still_energy_kwh(sample(0, "100.10", None), Decimal(0), sample(1, "100.10", 900))
    assert moved == idle == switched_on == gap == no_power == Decimal(0)
    # and it adds up over readings while the register stands still
    run = still_energy_kwh(sample(1, "100.10", 600), Decimal("0.020"), sample(2, "100.10", 900))
    assert run == Decimal("0.030")


def test_a_moving_register_or_too_little_evidence_is_not_frozen() -> None:
    anchor = reading(0, "100.100")
    now = T0 + timedelta(minutes=5)
    assert validate(reading(1, "100.100"), anchor, DDS238, now, Decimal("0.029")).good
    # a register that moved is never frozen, whatever the evidence claims
    assert validate(reading(1, "100.110"), anchor, DDS238, now, Decimal("5")).good


@given(
    watts=st.integers(min_value=0, max_value=15_000),
    seconds=st.integers(min_value=1, max_value=900),
    value_wh=st.integers(min_value=0, max_value=10**9),
)
def test_a_still_register_is_held_exactly_when_the_power_says_three_steps_passed(
    watts: int, seconds: int, value_wh: int
) -> None:
    # GIVEN a register standing still between two readings at a steady power
    value = Decimal(value_wh) / 1000
    before = PowerSample(T0, value, Decimal(watts))
    after = PowerSample(T0 + timedelta(seconds=seconds), value, Decimal(watts))
    still = still_energy_kwh(before, Decimal(0), after)
    verdict = validate(Reading(after.at, value), Reading(T0, value), DDS238, after.at, still)
    # THEN it is held frozen exactly when the power was drawn (above idle) and, at that
    # power, three of the register's steps passed in the time (Wh rounded down)
    passed_wh = watts * seconds // 3600 if watts > FROZEN_IDLE_W else 0
    assert (verdict.reason is HoldReason.FROZEN) == (passed_wh >= 30)
    assert verdict.reason in {None, HoldReason.FROZEN}
