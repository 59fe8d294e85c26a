"""A settling message through the lean client (data/settlement_store.py, ``settle_from``):
few requests, the same money as the PynamoDB path it replaced, and a cursor another
writer moved still charges nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from bench.support.dynamo_meter import DynamoMeter
from chalicelib.data.errors import CursorMovedError
from chalicelib.data.settlement_store import Cursor, Settlement, SettlementStore
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional

METERS = 32
# The message's own requests (the bus read, the cycle, the state write, a bucket) plus one
# TransactWriteItems per settled meter; the PynamoDB path also read each account back (72).
MAX_REQUESTS = METERS + 10


@pytest.fixture()
def meter() -> Iterator[DynamoMeter]:
    counting = DynamoMeter()
    counting.install()
    try:
        yield counting
    finally:
        counting.uninstall()


def _bus(pipeline: Container) -> Bus:
    specs = [
        MeterSpec(f"m{n:02d}", f"u{n:02d}", FLAT_TWD, credit_minor=50_000) for n in range(METERS)
    ]
    return make_bus(pipeline.ledger, specs)


def _readings(bus: Bus, step: int) -> dict[str, str]:
    return {m.meter_id: f"{100 + step * (n + 1) / 1000:.3f}" for n, m in enumerate(bus.meters)}


def _counted(meter: DynamoMeter, message: dict[str, Any]) -> int:
    """The message's DynamoDB requests."""
    before = sum(meter.requests.values())
    meter.counting = True
    handlers.ingest_telemetry(message)
    meter.counting = False
    return sum(meter.requests.values()) - before


def _run(bus: Bus, meter: DynamoMeter) -> tuple[int, int]:
    """Three messages: the first (cursors from the tenancies), one in the same hour, and
    one in the next hour, which settles every meter; the first's and the last's requests."""
    first = _counted(meter, event(bus, 1, T0 + minutes(1), _readings(bus, 1)))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), _readings(bus, 2)))
    return first, _counted(meter, event(bus, 3, T0 + minutes(61), _readings(bus, 3)))


def _ledger(pipeline: Container, bus: Bus) -> list[tuple[Any, ...]]:
    """Every account's balance and entries, without the bus's own names."""
    rows: list[tuple[Any, ...]] = []
    for unit_id, account_id in sorted(bus.accounts.items()):
        account = pipeline.ledger.get_account(bus.company_id, account_id)
        entries = sorted(
            (
                str(e.entry_id).replace(account_id, "A"),
                int(e.amount_minor),
                str(e.memo),
                dict(e.refs),
            )
            for e in pipeline.ledger.all_entries(bus.company_id, account_id, 100)
        )
        rows.append(
            (
                unit_id,
                int(account.balance_minor),
                int(account.entry_count),
                account.settled_kwh,
                account.settled_at,
                account.usage,
                entries,
            )
        )
    return rows


def _old_path(store: SettlementStore) -> Any:
    """``settle_from`` as the PynamoDB path did it: ``settle``, then read the balance."""

    def settle_from(
        company_id: str,
        account_id: str,
        expected_at: datetime | None,
        balance_minor: int,
        cursor: Cursor,
        entry: LedgerEntry | None,
    ) -> Settlement:
        applied = store.settle(company_id, account_id, expected_at, cursor, entry)
        return Settlement(applied, store._ledger.balance_minor(company_id, account_id))

    return settle_from


def test_a_settling_message_makes_few_requests_and_moves_the_money_as_before(
    pipeline: Container, meter: DynamoMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two identical 32-meter buses, one settled as before (PynamoDB, a read back,
    # and on its first message each account read alone)
    new, old = _bus(pipeline), _bus(pipeline)
    # WHEN each sends a first message, and one in the next settlement period
    first, requests = _run(new, meter)
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.settlements, "settle_from", _old_path(pipeline.settlements))
        patched.setattr(pipeline.settler, "begin", lambda *_: None)
        old_first, old_requests = _run(old, meter)
    # THEN every meter was charged, in far fewer requests than before
    assert requests <= MAX_REQUESTS < old_requests
    # AND the first message read the 32 accounts in one request, not 32
    assert first <= old_first - (METERS - 1)
    # AND the ledgers, balances and cursors are the same as the old path's
    ledger = _ledger(pipeline, new)
    assert ledger == _ledger(pipeline, old)
    assert all(len(row[-1]) == 3 for row in ledger)  # opening credit and two charges
    # AND the state keeps the balance the account has (read nothing back to know it)
    state = pipeline.telemetry.get_state(new.company_id, new.gateway_id)
    for unit_id, account_id in new.accounts.items():
        stored = pipeline.ledger.balance_minor(new.company_id, account_id)
        assert state.meters[f"m{unit_id[1:]}"].balance_minor == stored


def _charge(account_id: str, at: datetime, minor: int) -> LedgerEntry:
    return LedgerEntry(
        f"cons:m:{int(at.timestamp() * 1000)}",
        account_id,
        EntryKind.CONSUMPTION_CHARGE,
        Money(-minor, "TWD"),
        at,
        memo="test",
    )


def _one_account(pipeline: Container) -> tuple[str, str]:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD, credit_minor=10_000)])
    return bus.company_id, bus.accounts["u-a"]


def test_a_cursor_another_writer_moved_charges_nothing_twice(pipeline: Container) -> None:
    store, ledger = pipeline.settlements, pipeline.ledger
    co, account = _one_account(pipeline)
    first, second = T0 + minutes(60), T0 + minutes(120)
    # GIVEN another writer settled the account first (from the never-settled cursor)
    done = store.settle_from(
        co, account, None, 10_000, Cursor("101.000", first, {}), _charge(account, first, 500)
    )
    assert done == Settlement(True, 9_500)
    # WHEN a writer that read the cursor before that settles the same energy
    with pytest.raises(CursorMovedError):
        store.settle_from(
            co, account, None, 10_000, Cursor("101.000", second, {}), _charge(account, second, 500)
        )
    # THEN it charged nothing: one charge, the balance moved once
    assert ledger.balance_minor(co, account) == 9_500
    assert len(ledger.all_entries(co, account, 10)) == 2
    # AND the very same settlement again is a replay: not applied, the balance as it is
    again = store.settle_from(
        co, account, None, 10_000, Cursor("101.000", first, {}), _charge(account, first, 500)
    )
    assert again == Settlement(False, 9_500)
    assert ledger.balance_minor(co, account) == 9_500


def test_a_settlement_at_a_balance_a_top_up_moved_is_sent_again_at_the_new_one(
    pipeline: Container,
) -> None:
    store, ledger = pipeline.settlements, pipeline.ledger
    co, account = _one_account(pipeline)
    # GIVEN a top-up since the balance was read (10,000 held; the account has 12,000)
    ledger.append(co, LedgerEntry("top-1", account, EntryKind.TOP_UP, Money(2_000, "TWD"), T0))
    at = T0 + minutes(60)
    # WHEN a settlement is sent at the balance held
    done = store.settle_from(
        co, account, None, 10_000, Cursor("101.000", at, {}), _charge(account, at, 500)
    )
    # THEN it is applied once, and the balance after is the account's
    assert done == Settlement(True, 11_500)
    assert ledger.balance_minor(co, account) == 11_500
    assert len(ledger.all_entries(co, account, 10)) == 3
