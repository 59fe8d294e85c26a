"""A settlement period may be a fraction of an hour (the end-to-end tier uses 10 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.pipeline.settler import period_index
from chalicelib.wiring.settings import Settings

T0 = datetime(2026, 11, 28, 0, 0, 0, tzinfo=UTC)


def test_a_ten_second_period_from_the_environment_has_exact_boundaries() -> None:
    # GIVEN the period set as 10 s in hours, as the end-to-end tier sets it
    period_h = Settings.from_env(
        {"POWERLET_SETTLEMENT_PERIOD_H": str(10 / 3600)}
    ).settlement_period_h
    # THEN readings 9.999 s apart inside a period share it, and the 10th second starts the next
    assert period_index(T0 + timedelta(seconds=9.999), period_h) == period_index(T0, period_h)
    assert period_index(T0 + timedelta(seconds=10), period_h) == period_index(T0, period_h) + 1


@given(st.integers(min_value=1, max_value=24), st.integers(min_value=0, max_value=10**6))
def test_whole_hour_periods_are_unchanged(period_h: int, offset_s: int) -> None:
    # GIVEN the historical whole-hour periods; THEN the index is the UTC-aligned hour count
    at = T0 + timedelta(seconds=offset_s)
    assert period_index(at, period_h) == int(at.timestamp()) // (period_h * 3600)
