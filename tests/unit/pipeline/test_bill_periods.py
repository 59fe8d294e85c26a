"""Which periods are due: every completed month since the last bill, a day of grace, at
most twelve a run (the rest on the next runs, oldest first)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.pipeline.bill_periods import BILL_GRACE, MAX_PERIODS_PER_RUN, due_periods

TZ = "Asia/Taipei"


def _local(day: str, hhmm: str = "00:00") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), ZoneInfo(TZ))


def test_a_month_is_due_once_its_end_is_a_day_past() -> None:
    # GIVEN a tenancy from 15 November
    first = date(2026, 11, 15)
    # THEN November is not due on December 1st, nor a second before the grace is over
    assert due_periods(first, _local("2026-12-01", "09:00"), TZ) == []
    assert due_periods(first, _local("2026-12-02") - timedelta(microseconds=1), TZ) == []
    # AND it is due from then on, as one calendar month
    (november,) = due_periods(first, _local("2026-12-02"), TZ)
    assert (november.start, november.end) == (date(2026, 11, 1), date(2026, 12, 1))
    assert timedelta(hours=24) == BILL_GRACE


def test_a_late_run_bills_each_month_in_order_at_most_twelve_a_run() -> None:
    # GIVEN the last bill ended on 1 January 2025 and the job ran again in March 2026
    now = _local("2026-03-05")
    first = due_periods(date(2025, 1, 1), now, TZ)
    # THEN twelve months are due, January to December 2025, oldest first
    assert len(first) == MAX_PERIODS_PER_RUN == 12
    assert [p.start.month for p in first] == list(range(1, 13))
    # AND the next run, from the last of them, bills January and February 2026
    rest = due_periods(first[-1].end, now, TZ)
    assert [p.start for p in rest] == [date(2026, 1, 1), date(2026, 2, 1)]
