"""Tenancy windows (domain/tenancy_window.py): the instants of a same-day changeover, the
date-only tenancies stored before them, and a bucket split at the changeover reading so
that each kWh is shown to exactly one of the two tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import Reading
from chalicelib.domain.tenancy_window import OPEN, TenancyWindow, energy_in_window, window_of

BUCKET_START = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 11:00 in Taipei
BUCKET_END = BUCKET_START + timedelta(minutes=15)


def test_a_date_only_tenancy_runs_from_local_midnight_to_local_midnight() -> None:
    # GIVEN a tenancy stored before instants: 1 Nov to 3 Nov in Taipei (UTC+8)
    window = window_of("Asia/Taipei", "2026-11-01", ends_on="2026-11-03")
    # THEN it starts at local midnight of its first day and ends after its last
    assert window.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 3, 16, 0, tzinfo=UTC)


def test_recorded_instants_win_over_the_dates() -> None:
    changeover = datetime(2026, 11, 1, 3, 7, tzinfo=UTC)
    leaving = window_of("Asia/Taipei", "2026-10-01", ends_on="2026-11-01", ends_at=changeover)
    coming = window_of("Asia/Taipei", "2026-11-01", starts_at=changeover)
    # the changeover instant belongs to the tenancy that ends there, never to both
    assert leaving.holds(changeover) and not coming.holds(changeover)
    after = changeover + timedelta(milliseconds=1)
    assert coming.holds(after) and not leaving.holds(after)
    assert coming.end is None and OPEN.holds(changeover)


def test_a_bucket_is_covered_missed_or_straddled() -> None:
    changeover = BUCKET_START + timedelta(minutes=7)
    coming = TenancyWindow(start=changeover)
    assert not coming.covers(BUCKET_START, BUCKET_END)
    assert not coming.misses(BUCKET_START, BUCKET_END)
    assert coming.covers(BUCKET_END, BUCKET_END + timedelta(minutes=15))
    assert coming.misses(BUCKET_START - timedelta(minutes=15), BUCKET_START)


def test_the_changeover_bucket_splits_at_the_reading() -> None:
    # GIVEN readings before the bucket, in it before the changeover reading, on it, after it
    at = [BUCKET_START + timedelta(minutes=m) for m in (-5, 2, 7, 11, 14)]
    values = ("10", "10.5", "11", "12", "12.25")
    readings = [Reading(t, Decimal(v)) for t, v in zip(at, values, strict=True)]
    leaving, coming = TenancyWindow(end=at[2]), TenancyWindow(start=at[2])
    # THEN the leaving tenant has the energy up to the reading, the newcomer the rest
    assert energy_in_window(readings, BUCKET_START, BUCKET_END, leaving) == Decimal("1.000")
    assert energy_in_window(readings, BUCKET_START, BUCKET_END, coming) == Decimal("1.250")


@given(
    steps=st.lists(st.integers(min_value=0, max_value=5000), min_size=2, max_size=30),
    seconds=st.lists(st.integers(min_value=1, max_value=120), min_size=30, max_size=30),
    cut=st.integers(min_value=-60, max_value=1000),
)
def test_the_two_tenants_energy_is_the_meters_advance_wherever_the_changeover_falls(
    steps: list[int], seconds: list[int], cut: int
) -> None:
    # GIVEN a meter advancing in random steps at random times inside one bucket (and one
    # reading before it), and a changeover at a random instant (a reading or not)
    at = BUCKET_START - timedelta(seconds=1)
    readings, total = [], Decimal("100.000")
    for step, gap in zip(steps, seconds, strict=False):
        readings.append(Reading(at, total))
        total += Decimal(step) / 1000
        at += timedelta(seconds=gap)
    readings = [r for r in readings if r.at < BUCKET_END]
    changeover = BUCKET_START + timedelta(seconds=cut)
    leaving, coming = TenancyWindow(end=changeover), TenancyWindow(start=changeover)
    # WHEN the bucket is split between them
    a = energy_in_window(readings, BUCKET_START, BUCKET_END, leaving)
    b = energy_in_window(readings, BUCKET_START, BUCKET_END, coming)
    # THEN together they have exactly the bucket's energy: the meter's advance in it
    advance = energy_in_window(readings, BUCKET_START, BUCKET_END, OPEN)
    assert a + b == advance
    assert advance == readings[-1].cumulative_kwh - readings[0].cumulative_kwh
