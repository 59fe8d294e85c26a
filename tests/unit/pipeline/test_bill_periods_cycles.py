"""Bill periods follow the unit's cycle; settlement blocks follow the property's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import BillingPeriod
from chalicelib.domain.cycles import BillingCycle
from chalicelib.pipeline.bill_periods import due_periods
from chalicelib.pipeline.settler import period_index

TZ = "Asia/Taipei"


def local(day: str, hour: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), ZoneInfo(TZ))


def test_due_periods_are_whole_cycles_of_the_unit() -> None:
    bimonthly = BillingCycle(months=2, anchor_month=1)
    periods = due_periods(date(2026, 1, 20), local("2026-05-02", 9), TZ, cycle=bimonthly)
    assert periods == [
        BillingPeriod(date(2026, 1, 1), date(2026, 3, 1)),
        BillingPeriod(date(2026, 3, 1), date(2026, 5, 1)),
    ]
    # a cycle is due only a grace after its end, in the property's zone
    assert due_periods(date(2026, 3, 1), local("2026-05-01", 23), TZ, cycle=bimonthly) == []


def test_a_changed_cycle_bridges_from_the_last_bill_to_its_next_boundary() -> None:
    # GIVEN a unit billed monthly up to 2026-03-01, now read on the 15th
    fifteenth = BillingCycle(anchor_day=15)
    periods = due_periods(
        date(2026, 3, 1), local("2026-04-20"), TZ, cycle=fifteenth, continues=True
    )
    # THEN March 1-15 is billed on its own, then the new cycles: no day twice, none lost
    assert periods == [
        BillingPeriod(date(2026, 3, 1), date(2026, 3, 15)),
        BillingPeriod(date(2026, 3, 15), date(2026, 4, 15)),
    ]


def test_settlement_blocks_end_on_local_midnight() -> None:
    # GIVEN 6-hour blocks in Taipei (UTC+8): 23:59 and 00:01 local are in different blocks
    before, after = local("2026-11-30", 23) + timedelta(minutes=59), local("2026-12-01", 0)
    assert period_index(before, 6, TZ) + 1 == period_index(after + timedelta(minutes=1), 6, TZ)
    # WHILE on UTC alignment they shared the block 20:00-02:00 local
    assert period_index(before, 6) == period_index(after + timedelta(minutes=1), 6)
    # AND 18:00-23:59 local is one block
    assert period_index(local("2026-11-30", 18), 6, TZ) == period_index(before, 6, TZ)
    assert period_index(datetime(2026, 1, 1, tzinfo=UTC), 6) == period_index(
        datetime(2026, 1, 1, 5, tzinfo=UTC), 6, "UTC"
    )
