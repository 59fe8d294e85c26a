"""A postpaid bill is charged exactly once, whatever write the job dies at.

The job is broken at each of its DynamoDB writes in turn, before the request is sent and
after DynamoDB applied it (the answer lost), then run again: every time, each period has
one bill, one charge equal to its total (none for a bill of zero) and the account's
cursor stands at the last bill's closing reading.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

import pytest

from chalicelib.data.models import Account
from chalicelib.wiring.container import Container

from .billing_rig import (
    Crash,
    InjectedCrashError,
    bill_entries,
    bills,
    crash_at,
    local,
    run,
    store,
)
from .rig import FLAT_TWD, Bus, MeterSpec, make_bus

pytestmark = pytest.mark.functional

ONE_MONTH = local("2026-12-02", "09:00")  # November is due
TWO_MONTHS = local("2027-01-02", "09:00")  # the job did not run in December: both are due


def _bus_with_readings(pipeline: Container) -> Bus:
    # GIVEN a unit that used 10 kWh in November and 15 in December, and one that used nothing
    bus = make_bus(
        pipeline.ledger,
        [
            MeterSpec("m-a", "u-a", FLAT_TWD, mode="postpaid", credit_minor=0),
            MeterSpec("m-z", "u-z", FLAT_TWD, mode="postpaid", credit_minor=0),
        ],
    )
    store(pipeline, bus, 1, local("2026-11-30", "23:50"), {"m-a": "110.000", "m-z": "100.000"})
    store(pipeline, bus, 2, local("2026-12-31", "23:50"), {"m-a": "125.000", "m-z": "100.000"})
    return bus


def _assert_charged_exactly_once(pipeline: Container, bus: Bus, periods: list[str]) -> None:
    for unit_id in ("u-a", "u-z"):
        issued = bills(pipeline, bus, unit_id)
        assert [b.period_start for b in issued] == periods, unit_id
        entries = bill_entries(pipeline, bus, unit_id)
        for bill in issued:
            own = [e for e in entries if e.refs.get("bill") == bill.period_start]
            if int(bill.total_minor):
                assert [(e.entry_kind, int(e.amount_minor)) for e in own] == [
                    ("consumption_charge", -int(bill.total_minor))
                ], (unit_id, bill.period_start)
            else:
                assert own == [], "a bill of zero moves no money"
        assert len(entries) == sum(1 for b in issued if int(b.total_minor))
        account = pipeline.ledger.get_account(bus.company_id, bus.accounts[unit_id])
        derived = pipeline.ledger.derive_balance(bus.company_id, bus.accounts[unit_id])
        assert derived.consistent
        assert int(account.balance_minor) == -sum(int(b.total_minor) for b in issued)
        assert (account.settled_kwh, account.settled_at) == (
            issued[-1].closing_kwh,
            issued[-1].closing_at,
        )
        assert account.usage["bill"] == periods[-1]


@pytest.mark.parametrize(
    ("now", "periods"),
    [(ONE_MONTH, ["2026-11-01"]), (TWO_MONTHS, ["2026-11-01", "2026-12-01"])],
    ids=["one-month", "two-months"],
)
def test_every_crash_point_then_a_rerun_charges_each_bill_exactly_once(
    pipeline: Container, now: datetime, periods: list[str]
) -> None:
    crash_points = 0
    for write in range(1, 10):
        for when in ("before", "after"):
            bus = _bus_with_readings(pipeline)
            # WHEN the job dies at this write (or finishes: the writes are all behind us)
            with crash_at(Crash(write, when)) as crash, suppress(InjectedCrashError):
                run(pipeline, bus, now)
            if not crash.fired:
                assert write > 1, "the job wrote nothing"
                # (each bill is one transaction: two units x the periods)
                assert write - 1 == 2 * len(periods)
                assert crash_points == 2 * 2 * len(periods)
                return
            crash_points += 1
            # AND it runs again, and once more
            run(pipeline, bus, now)
            run(pipeline, bus, now)
            # THEN each period has one bill, charged once, and the cursor is at its closing
            _assert_charged_exactly_once(pipeline, bus, periods)
    raise AssertionError("the job kept writing")


def test_a_bill_of_zero_is_issued_and_moves_the_cursor_without_an_entry(
    pipeline: Container,
) -> None:
    # GIVEN a unit whose register did not move in November
    bus = _bus_with_readings(pipeline)
    # WHEN November is billed
    result = run(pipeline, bus, ONE_MONTH)
    # THEN its bill of zero exists, no ledger entry was written, and the cursor moved
    assert sorted(result.billed) == ["u-a", "u-z"]
    (bill,) = bills(pipeline, bus, "u-z")
    assert int(bill.total_minor) == 0 and bill.entry_ids is None
    assert bill_entries(pipeline, bus, "u-z") == []
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-z"])
    assert account.settled_at == local("2026-11-30", "23:50")
    assert int(account.entry_count) == 0


def test_a_charge_without_its_bill_is_held_not_repeated(pipeline: Container) -> None:
    # GIVEN a bill whose item was deleted by hand, its charge left, its cursor put back
    bus = _bus_with_readings(pipeline)
    run(pipeline, bus, ONE_MONTH)
    (bill,) = bills(pipeline, bus, "u-a")
    bill.delete()
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-a"])
    account.update(
        actions=[Account.settled_kwh.remove(), Account.settled_at.remove(), Account.usage.remove()]
    )
    # WHEN the job runs again
    result = run(pipeline, bus, ONE_MONTH)
    # THEN nothing is charged a second time: the unit is held for a human, staff are told
    assert result.held == {"u-a": "ledger_conflict"}
    assert len(bill_entries(pipeline, bus, "u-a")) == 1
    assert bills(pipeline, bus, "u-a") == []
    assert [n.topic for n in pipeline.notifier.outbox(bus.company_id)] == ["bill_held"]


def test_a_closed_account_is_not_billed(pipeline: Container) -> None:
    # GIVEN an account a move-out closed before the job ran
    bus = _bus_with_readings(pipeline)
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-a"])
    account.update(actions=[Account.closed_at.set(local("2026-11-20"))])
    # WHEN November is billed
    result = run(pipeline, bus, ONE_MONTH)
    # THEN the transaction's account condition refuses it: no bill, no charge, a reason
    assert result.held == {"u-a": "account_closed"} and result.billed == ["u-z"]
    assert bills(pipeline, bus, "u-a") == [] and bill_entries(pipeline, bus, "u-a") == []
