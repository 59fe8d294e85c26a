"""The DynamoDB ledger: atomic, idempotent forever, and exact under concurrency."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.data.binding import bind_models, new_connection
from chalicelib.data.errors import CurrencyMismatchError, LedgerEntryConflictError, NotFoundError
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.wiring.settings import Settings
from local_aws.stack import LocalStack

pytestmark = pytest.mark.functional

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture()
def store(settings: Settings) -> LedgerStore:
    return LedgerStore(new_connection(settings))


@pytest.fixture()
def account(store: LedgerStore) -> str:
    account_id = f"acc-{uuid.uuid4().hex[:12]}"
    store.open_account("co-ledger", account_id, "TWD", T0)
    return account_id


def top_up(account_id: str, entry_id: str, amount_minor: int, at: datetime = T0) -> LedgerEntry:
    return LedgerEntry(entry_id, account_id, EntryKind.TOP_UP, Money(amount_minor, "TWD"), at)


def charge(account_id: str, entry_id: str, amount_minor: int, at: datetime = T0) -> LedgerEntry:
    return LedgerEntry(
        entry_id, account_id, EntryKind.CONSUMPTION_CHARGE, Money(-amount_minor, "TWD"), at
    )


def test_append_moves_balance_and_records_entry(store: LedgerStore, account: str) -> None:
    # GIVEN an empty account WHEN a top-up and a charge are appended
    assert store.append("co-ledger", top_up(account, "tu-1", 50000)).applied
    assert store.append("co-ledger", charge(account, "ch-1", 1234, T0 + timedelta(hours=1))).applied
    # THEN the stored balance is the sum and the ledger lists both, newest first
    assert store.balance_minor("co-ledger", account) == 48766
    listed = [e.entry_id for e in store.entries("co-ledger", account)]
    assert listed == ["ch-1", "tu-1"]
    derived = store.derive_balance("co-ledger", account)
    assert derived.consistent and derived.derived_minor == 48766 and derived.derived_count == 2


def test_replay_is_a_noop_forever(store: LedgerStore, account: str) -> None:
    entry = top_up(account, "tu-replay", 700)
    assert store.append("co-ledger", entry).applied
    # WHEN the very same entry arrives again (a retry, a replayed message)
    results = [store.append("co-ledger", entry) for _ in range(3)]
    # THEN nothing changes
    assert [r.applied for r in results] == [False, False, False]
    assert store.balance_minor("co-ledger", account) == 700
    assert store.derive_balance("co-ledger", account).derived_count == 1


def test_same_id_different_content_is_refused(store: LedgerStore, account: str) -> None:
    store.append("co-ledger", top_up(account, "tu-x", 700))
    with pytest.raises(LedgerEntryConflictError):
        store.append("co-ledger", top_up(account, "tu-x", 701))
    assert store.balance_minor("co-ledger", account) == 700


def test_currency_mismatch_is_refused_and_changes_nothing(store: LedgerStore, account: str) -> None:
    gbp = LedgerEntry("tu-gbp", account, EntryKind.TOP_UP, Money(100, "GBP"), T0)
    with pytest.raises(CurrencyMismatchError):
        store.append("co-ledger", gbp)
    assert store.balance_minor("co-ledger", account) == 0
    with pytest.raises(NotFoundError):
        store.get_entry("co-ledger", account, "tu-gbp")


def test_entry_for_missing_account_is_refused(store: LedgerStore) -> None:
    with pytest.raises(NotFoundError):
        store.append("co-ledger", top_up("acc-does-not-exist", "tu-nowhere", 100))


def test_accounts_are_scoped_by_company(store: LedgerStore, account: str) -> None:
    store.append("co-ledger", top_up(account, "tu-scope", 100))
    with pytest.raises(NotFoundError):
        store.get_account("another-company", account)


def test_opening_an_account_twice_keeps_the_first(store: LedgerStore, account: str) -> None:
    store.append("co-ledger", top_up(account, "tu-keep", 100))
    again = store.open_account("co-ledger", account, "TWD", T0 + timedelta(days=1))
    assert int(again.balance_minor) == 100
    with pytest.raises(CurrencyMismatchError):
        store.open_account("co-ledger", account, "GBP", T0)


def test_concurrent_mixed_writers_with_conflicts_and_replays(settings: Settings) -> None:
    """8 threads x 50 mixed top-ups and charges on one account, against a stand-in
    that cancels 15% of transactions with TransactionConflict like DynamoDB does,
    and every thread replays some entries of its own and of others."""
    try:
        with LocalStack(conflict_rate=0.15) as stack:
            conflicted = Settings.from_env(stack.env())
            bind_models(conflicted)  # the models' reads go to this stand-in too
            store = LedgerStore(new_connection(conflicted))
            store.open_account("co-conc", "acc-conc", "TWD", T0)
            threads, per_thread = 8, 50
            plans = []
            rng = random.Random(20261128)
            for t in range(threads):
                plan = []
                for i in range(per_thread):
                    amount = rng.randint(1, 5000)
                    at = T0 + timedelta(seconds=t * 1000 + i)
                    if rng.random() < 0.5:
                        plan.append(top_up("acc-conc", f"tu-{t}-{i}", amount, at))
                    else:
                        plan.append(charge("acc-conc", f"ch-{t}-{i}", amount, at))
                plans.append(plan)
            expected = sum(e.amount.amount_minor for plan in plans for e in plan)
            errors: list[BaseException] = []
            applied = [0] * threads

            def work(t: int) -> None:
                try:
                    for i, entry in enumerate(plans[t]):
                        applied[t] += store.append("co-conc", entry).applied
                        if i % 10 == 0:  # replay one of a neighbour's entries
                            applied[t] += store.append(
                                "co-conc", plans[(t + 1) % threads][i]
                            ).applied
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()

            assert not errors, errors
            derived = store.derive_balance("co-conc", "acc-conc")
            assert derived.derived_count == threads * per_thread  # none lost, none doubled
            assert derived.stored_minor == derived.derived_minor == expected
            assert derived.stored_count == derived.derived_count
            # every entry was applied exactly once, by its owner or by a replaying neighbour
            assert sum(applied) == threads * per_thread
            assert int(stack.guard_stats()["conflicts_injected"]) > 0  # the retry path really ran
    finally:
        bind_models(settings)  # back to the session's stand-in for the tests that follow
