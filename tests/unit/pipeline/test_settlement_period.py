"""A settlement period may be a fraction of an hour (the end-to-end tier uses 10 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.calendar import zone
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


def wall_clock_index(at: datetime, period_h: float, tz: str) -> int:
    """The block as first written: the local time relabelled UTC, floored in seconds."""
    period_s = max(1, round(period_h * 3600))
    wall = at.astimezone(zone(tz)).replace(tzinfo=UTC)
    return int(wall.timestamp() // period_s)


@settings(max_examples=400)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from([6, 1, 0.25, 10 / 3600, 24, 4]),
    st.sampled_from(["UTC", "Asia/Taipei", "Europe/London", "America/New_York", "Asia/Kolkata"]),
)
def test_the_block_is_the_local_wall_clock_block(at: datetime, period_h: float, tz: str) -> None:
    # GIVEN any instant (DST changes included), period and zone; THEN the block counted
    # from the zone's offset is the one of the wall clock relabelled UTC
    assert period_index(at, period_h, tz) == wall_clock_index(at, period_h, tz)


def test_the_repeated_local_hour_of_a_dst_change_is_one_block_on_the_wall_clock() -> None:
    # London falls back at 01:00 UTC on 2026-10-25: 01:59:59.999999 BST, then 01:00 GMT
    before = datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC)  # 01:59:59.999999 local
    after = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 01:00 local, the second time
    assert period_index(before, 1, "Europe/London") == period_index(after, 1, "Europe/London")
    assert period_index(after, 1, "Europe/London") == wall_clock_index(after, 1, "Europe/London")
