"""Chart periods: DST-safe slots, sums that equal the buckets, comparisons, the SVG."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.application.chart import Bar, period_chart_svg
from chalicelib.domain.usage_periods import (
    ChartPeriod,
    InvalidChartPeriodError,
    PeriodKind,
    average_per_day,
    counted_days,
    local_midnight,
    parse_day,
    parse_kind,
    percent_change,
    slots,
    sum_into_slots,
)

LONDON = ZoneInfo("Europe/London")
TAIPEI = ZoneInfo("Asia/Taipei")
ZONES = st.sampled_from([LONDON, TAIPEI, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])
DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
KINDS = st.sampled_from(list(PeriodKind))


def test_london_days_have_23_and_25_hourly_bars_when_the_clocks_change() -> None:
    spring = slots(ChartPeriod.containing(PeriodKind.DAY, date(2026, 3, 29)), LONDON)
    autumn = slots(ChartPeriod.containing(PeriodKind.DAY, date(2026, 10, 25)), LONDON)
    ordinary = slots(ChartPeriod.containing(PeriodKind.DAY, date(2026, 11, 2)), LONDON)
    assert (len(spring), len(autumn), len(ordinary)) == (23, 25, 24)
    # the wall clock jumps from 01:00 to 02:00 in spring: there is no 01:00 bar
    assert [s.local_start.hour for s in spring[:3]] == [0, 2, 3]
    # in autumn 01:00 happens twice, first in summer time, then in winter time
    assert [s.local_start.hour for s in autumn[:4]] == [0, 1, 1, 2]
    assert [s.repeated_hour for s in autumn[:4]] == [False, False, True, False]
    assert autumn[1].local_start.utcoffset() == timedelta(hours=1)
    assert autumn[2].local_start.utcoffset() == timedelta(0)
    # every bar is one real hour, and the day's bars tile it
    assert all(s.end - s.start == timedelta(hours=1) for s in autumn)
    assert autumn[0].start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert autumn[-1].end == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)


@given(kind=KINDS, at=DAYS)
def test_a_period_contains_its_day_and_follows_its_previous_one(kind: PeriodKind, at: date) -> None:
    period = ChartPeriod.containing(kind, at)
    assert period.start <= at < period.end
    assert period.previous().end == period.start
    assert period.following().start == period.end
    expected = {PeriodKind.DAY: 1, PeriodKind.WEEK: 7}.get(kind)
    if expected:
        assert period.days == expected
    if kind is PeriodKind.WEEK:
        assert period.start.weekday() == 0  # ISO weeks start on Monday


@settings(max_examples=60, deadline=None)
@given(
    zone=ZONES,
    kind=KINDS,
    at=DAYS,
    energies=st.lists(
        st.tuples(
            st.integers(min_value=-2 * 96, max_value=400 * 96),
            st.integers(min_value=0, max_value=99_999),
        ),
        max_size=60,
    ),
)
def test_bars_sum_to_the_buckets_inside_the_period(
    zone: ZoneInfo, kind: PeriodKind, at: date, energies: list[tuple[int, int]]
) -> None:
    # GIVEN 15-minute buckets around the period (some before it, some after)
    period = ChartPeriod.containing(kind, at)
    start, end = local_midnight(period.start, zone), local_midnight(period.end, zone)
    buckets = [(start + timedelta(minutes=15 * i), Decimal(wh).scaleb(-3)) for i, wh in energies]
    # WHEN they are summed into the period's bars
    period_slots = slots(period, zone)
    bars = sum_into_slots(period_slots, buckets, [])
    # THEN the bars hold exactly the energy of the buckets inside the period
    assert sum(bars, Decimal(0)) == sum((e for at_, e in buckets if start <= at_ < end), Decimal(0))
    assert period_slots[0].start == start and period_slots[-1].end == end
    assert all(a.end == b.start for a, b in pairwise(period_slots))


@given(zone=ZONES, at=DAYS, kwh=st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_day_totals_land_in_the_bar_of_their_day_or_month(
    zone: ZoneInfo, at: date, kwh: list[int]
) -> None:
    year = ChartPeriod.containing(PeriodKind.YEAR, at)
    days = [
        (year.start + timedelta(days=(i * 37) % 365), Decimal(v).scaleb(-3))
        for i, v in enumerate(kwh)
    ]
    bars = sum_into_slots(slots(year, zone), [], days)
    assert len(bars) == 12
    for month in range(12):
        expected = sum((e for d, e in days if d.month == month + 1), Decimal(0))
        assert bars[month] == expected


def test_change_percent_and_average_handle_zero() -> None:
    assert percent_change(Decimal("15"), Decimal("10")) == Decimal("50.0")
    assert percent_change(Decimal("5"), Decimal("10")) == Decimal("-50.0")
    assert percent_change(Decimal("1"), Decimal("3")) == Decimal("-66.7")
    assert percent_change(Decimal("5"), Decimal("0")) is None
    assert average_per_day(Decimal("10.000"), 3) == Decimal("3.333")
    assert average_per_day(Decimal("10.000"), 0) == Decimal("0.000")
    month = ChartPeriod.containing(PeriodKind.MONTH, date(2026, 11, 15))
    assert counted_days(month, None, date(2026, 11, 15)) == 15
    assert counted_days(month, date(2026, 11, 10), date(2026, 11, 15)) == 6
    assert counted_days(month, date(2026, 12, 1), date(2026, 11, 15)) == 0


@pytest.mark.parametrize(
    ("kind", "at", "why"),
    [
        ("hour", "2026-11-01", "period must be one of"),
        ("", "2026-11-01", "period must be one of"),
        ("day", "2026-02-30", "YYYY-MM-DD"),
        ("day", "20261101", "YYYY-MM-DD"),
        ("day", "1999-12-31", "before 2000-01-01"),
        ("day", "2026-11-29", "after 2026-11-28"),
    ],
)
def test_bad_period_or_date_is_refused_with_the_reason(kind: str, at: str, why: str) -> None:
    with pytest.raises(InvalidChartPeriodError, match=why):
        parse_kind(kind)
        parse_day(at, date(2026, 11, 28))


def test_period_chart_is_accessible_escaped_svg_with_axes() -> None:
    bars = [Bar("Mon <1>", Decimal("1.500"), "1.500"), Bar("Tue", Decimal("3.000"), "3.000")]
    svg = period_chart_svg(bars, 'Use "week"', "2 days & more", "c1", lambda d: f"{d:.3f}")
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg
    assert 'aria-labelledby="c1-t c1-d"' in svg
    assert '<title id="c1-t">Use &quot;week&quot;</title>' in svg
    assert '<desc id="c1-d">2 days &amp; more</desc>' in svg
    assert "Mon &lt;1&gt;" in svg and "<1>" not in svg
    assert ">3.000</text>" in svg and ">1.500</text>" in svg  # value axis: peak and half
    assert svg.count('<rect class="bar"') == 2
    empty = period_chart_svg([], "t", "d", "c2", str)
    assert "<rect" not in empty and "<title" in empty
