"""A settling message through the lean client (data/settlement_store.py, ``settle_all``):
the bus's settlements in one transaction, the same money as the per-meter path it
replaced, and a moved cursor, a top-up or a replay told from the cancellation's reasons
with no read back, charging nothing twice."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from bench.support.dynamo_meter import DynamoMeter
from chalicelib.data.errors import CursorMovedError
from chalicelib.data.settlement_store import Cursor, Moved, Settlement, SettlementStore, Settling
from chalicelib.data.wire import DynamoWire
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional

METERS = 32
# The message's own requests (the bus read, the cycle, the state write, a bucket) plus
# one TransactWriteItems for the 32 meters' 64 items; the PynamoDB path sent one per meter
# and read each account back (72 in all).
MAX_REQUESTS = 8


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every lean-client request's operation, answered or refused (a cancelled
    transaction is one request too)."""
    sent: list[str] = []
    original = DynamoWire.call

    def call(wire: DynamoWire, operation: str, payload: Any) -> dict[str, Any]:
        sent.append(operation)
        return original(wire, operation, payload)

    monkeypatch.setattr(DynamoWire, "call", call)
    return sent


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


def _run(bus: Bus, meter: DynamoMeter, before_settling: Any = None) -> tuple[int, int]:
    """Three messages: the first (cursors from the tenancies), one in the same hour, and
    one in the next hour, which settles every meter; the first's and the last's requests.
    ``before_settling()`` runs before the last."""
    first = _counted(meter, event(bus, 1, T0 + minutes(1), _readings(bus, 1)))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), _readings(bus, 2)))
    if before_settling is not None:
        before_settling()
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
    """``settle_all`` as the PynamoDB path did it: per meter ``settle`` (its own
    transaction), then read the balance; a moved cursor read again by the settler."""

    def settle_all(company_id: str, settlings: Sequence[Settling]) -> list[Settlement | Moved]:
        done: list[Settlement | Moved] = []
        for s in settlings:
            try:
                applied = store.settle(company_id, s.account_id, s.expected_at, s.cursor, s.entry)
            except CursorMovedError:
                done.append(Moved(None))
                continue
            balance = store._ledger.balance_minor(company_id, s.account_id)
            done.append(Settlement(applied, balance))
        return done

    return settle_all


def test_a_settling_message_makes_few_requests_and_moves_the_money_as_before(
    pipeline: Container, meter: DynamoMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two identical 32-meter buses, one settled as before (PynamoDB, a read back,
    # and on its first message each account read alone)
    new, old = _bus(pipeline), _bus(pipeline)
    # WHEN each sends a first message, and one in the next settlement period
    first, requests = _run(new, meter)
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.settlements, "settle_all", _old_path(pipeline.settlements))
        patched.setattr(pipeline.settler, "begin", lambda *_: None)
        old_first, old_requests = _run(old, meter)
    # THEN every meter was charged, in far fewer requests than before: the 32
    # settlements in one transaction
    assert requests <= MAX_REQUESTS < old_requests
    # (the first and the settling message of each bus: the old path's 32 each, ours one;
    # and each bus's settling message closes a bucket, in one transaction with its cycle)
    assert meter.requests["TransactWriteItems"] == 2 * METERS + 2 + 2
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


def _charge(account_id: str, at: datetime, minor: int, meter_id: str = "m") -> LedgerEntry:
    return LedgerEntry(
        f"cons:{meter_id}:{int(at.timestamp() * 1000)}",
        account_id,
        EntryKind.CONSUMPTION_CHARGE,
        Money(-minor, "TWD"),
        at,
        memo="test",
    )


def _one_account(pipeline: Container) -> tuple[str, str]:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD, credit_minor=10_000)])
    return bus.company_id, bus.accounts["u-a"]


def _settle(
    store: SettlementStore, co: str, account: str, balance: int, cursor: Cursor, entry: LedgerEntry
) -> Settlement | Moved:
    """One never-settled account's settlement at the balance held."""
    return store.settle_all(co, [Settling(account, None, balance, cursor, entry)])[0]


def test_a_cursor_another_writer_moved_charges_nothing_twice(pipeline: Container) -> None:
    store, ledger = pipeline.settlements, pipeline.ledger
    co, account = _one_account(pipeline)
    first, second = T0 + minutes(60), T0 + minutes(120)
    # GIVEN another writer settled the account first (from the never-settled cursor)
    done = _settle(
        store, co, account, 10_000, Cursor("101.000", first, {}), _charge(account, first, 500)
    )
    assert done == Settlement(True, 9_500)
    # WHEN a writer that read the cursor before that settles the same energy
    moved = _settle(
        store, co, account, 10_000, Cursor("101.000", second, {}), _charge(account, second, 500)
    )
    # THEN it charged nothing: refused with the account as it stands, one charge, the
    # balance moved once
    assert isinstance(moved, Moved) and moved.account is not None
    assert int(moved.account.balance_minor) == 9_500
    assert ledger.balance_minor(co, account) == 9_500
    assert len(ledger.all_entries(co, account, 10)) == 2
    # AND the very same settlement again is a replay: not applied, the balance as it is
    again = _settle(
        store, co, account, 10_000, Cursor("101.000", first, {}), _charge(account, first, 500)
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
    done = _settle(store, co, account, 10_000, Cursor("101.000", at, {}), _charge(account, at, 500))
    # THEN it is applied once, and the balance after is the account's
    assert done == Settlement(True, 11_500)
    assert ledger.balance_minor(co, account) == 11_500
    assert len(ledger.all_entries(co, account, 10)) == 3


def _top_up(pipeline: Container, bus: Bus, unit_id: str, minor: int) -> None:
    account = bus.accounts[unit_id]
    top_up = LedgerEntry(f"top-{unit_id}", account, EntryKind.TOP_UP, Money(minor, "TWD"), T0)
    pipeline.ledger.append(bus.company_id, top_up)


def test_a_top_up_racing_one_meter_of_the_message_is_applied_once_and_all_settle(
    pipeline: Container, meter: DynamoMeter, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two identical 32-meter buses; on each, one account is topped up after its
    # state read the balance (the state's snapshot is stale for that meter)
    new, old = _bus(pipeline), _bus(pipeline)
    # WHEN each sends its settling message, one the per-meter way
    settling_from: list[int] = []

    def top_up() -> None:
        _top_up(pipeline, new, "u07", 2_000)
        settling_from.append(len(calls))

    _run(new, meter, top_up)
    sent = calls[settling_from[0] :]  # the settling message's requests
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.settlements, "settle_all", _old_path(pipeline.settlements))
        patched.setattr(pipeline.settler, "begin", lambda *_: None)
        _run(old, meter, lambda: _top_up(pipeline, old, "u07", 2_000))
    # THEN the group was cancelled once for that meter and sent again at its real
    # balance, with no read: two transactions in all (and a third, the bucket the
    # message closes, stored with its cycle)
    assert sent.count("TransactWriteItems") == 2 + 1
    assert "GetItem" not in sent
    # AND every meter settled, the top-up counted once, as the per-meter path has it
    ledger = _ledger(pipeline, new)
    assert ledger == _ledger(pipeline, old)
    assert all(len(row[-1]) == 3 for row in ledger if row[0] != "u07")
    assert len(ledger[7][-1]) == 4  # opening credit, top-up, two charges
    # AND the state holds every account's balance as it is, the topped-up one's too
    state = pipeline.telemetry.get_state(new.company_id, new.gateway_id)
    for unit_id, account_id in new.accounts.items():
        stored = pipeline.ledger.balance_minor(new.company_id, account_id)
        assert state.meters[f"m{unit_id[1:]}"].balance_minor == stored


def _settlings(bus: Bus, at: datetime) -> list[Settling]:
    """A settlement of 100 minor units on each of the bus's accounts, from the tenancy."""
    return [
        Settling(account, None, 50_000, Cursor("101.000", at, {}), _charge(account, at, 100, unit))
        for unit, account in sorted(bus.accounts.items())
    ]


def test_replayed_settlements_charge_nothing_and_read_nothing(
    pipeline: Container, calls: list[str]
) -> None:
    store = pipeline.settlements
    bus = _bus(pipeline)
    at = T0 + minutes(60)
    settlings = _settlings(bus, at)
    # GIVEN the bus's 32 settlements applied in one transaction
    done = store.settle_all(bus.company_id, settlings)
    assert done == [Settlement(True, 49_900)] * METERS
    assert calls == ["TransactWriteItems"]
    # WHEN the very same settlements are sent again (an attempt retried after its state
    # write was lost)
    again = store.settle_all(bus.company_id, settlings)
    # THEN none is charged twice: each a replay, with the balance the account has,
    # told from the one cancelled transaction's reasons (no read back)
    assert again == [Settlement(False, 49_900)] * METERS
    assert calls == ["TransactWriteItems"] * 2
    ledger = _ledger(pipeline, bus)
    assert all(row[1] == 49_900 and len(row[-1]) == 2 for row in ledger)


def test_a_moved_cursor_in_a_group_is_told_apart_and_the_others_settle(
    pipeline: Container, calls: list[str]
) -> None:
    store = pipeline.settlements
    bus = _bus(pipeline)
    at = T0 + minutes(60)
    settlings = _settlings(bus, at)
    # GIVEN another writer settled the first account already, to a later reading
    first = settlings[0]
    later = replace(first, cursor=Cursor("102.000", at + minutes(1), {}))
    later = replace(later, entry=_charge(first.account_id, at + minutes(1), 300, "x"))
    assert store.settle_all(bus.company_id, [later]) == [Settlement(True, 49_700)]
    # WHEN the bus's settlements are sent together
    done = store.settle_all(bus.company_id, settlings)
    # THEN the first is refused with the account as it stands (nothing charged), and the
    # others are applied in a second transaction, with no read
    moved = done[0]
    assert isinstance(moved, Moved) and moved.account is not None
    assert int(moved.account.balance_minor) == 49_700
    assert done[1:] == [Settlement(True, 49_900)] * (METERS - 1)
    assert calls == ["TransactWriteItems"] * 3
    assert _ledger(pipeline, bus)[0][1] == 49_700
