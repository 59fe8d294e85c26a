import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import (
    CurrencyMismatchError,
    EntryKind,
    InvalidLedgerEntryError,
    Ledger,
    LedgerEntry,
    LedgerEntryConflictError,
    LedgerEntrySignError,
    LedgerLimitError,
    Money,
)

AT = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def entry(entry_id="e1", kind=EntryKind.TOP_UP, minor=500, account="acc-1", **kw):
    return LedgerEntry(entry_id, account, kind, Money(minor, "TWD"), kw.pop("at", AT), **kw)


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (EntryKind.TOP_UP, 1, -1),
        (EntryKind.CONSUMPTION_CHARGE, -1, 1),
        (EntryKind.FIXED_CHARGE, -1, 1),
        (EntryKind.EMERGENCY_CREDIT, 1, -1),
        (EntryKind.REFUND, -1, 1),
        (EntryKind.TRANSFER_OUT, -1, 1),
        (EntryKind.TRANSFER_IN, 1, -1),
        (EntryKind.ADJUSTMENT, -1, 0),
    ],
)
def test_sign_rules_per_kind(kind, good, bad):
    # GIVEN a kind WHEN an entry has the right / wrong sign THEN it is accepted / refused
    assert entry(kind=kind, minor=good).amount.amount_minor == good
    with pytest.raises(LedgerEntrySignError):
        entry(kind=kind, minor=bad)
    with pytest.raises(LedgerEntrySignError):
        entry(kind=kind, minor=0)
    assert entry(kind=EntryKind.ADJUSTMENT, minor=1).amount.amount_minor == 1


def test_entry_fields_are_validated():
    with pytest.raises(InvalidLedgerEntryError):
        entry(entry_id="")
    with pytest.raises(InvalidLedgerEntryError):
        entry(entry_id="has space")
    with pytest.raises(InvalidLedgerEntryError):
        entry(at=datetime(2026, 1, 1))
    with pytest.raises(InvalidLedgerEntryError):
        entry(memo="x" * 501)
    with pytest.raises(InvalidLedgerEntryError):
        entry(refs={f"k{i}": "v" for i in range(33)})


def test_fingerprint_is_the_sha256_of_the_documented_canonical_json():
    # GIVEN an entry WHEN fingerprinted THEN it hashes exactly the canonical form in docs
    e = entry(
        memo="top-up",
        refs={"payment": "p-9", "channel": "card"},
        at=datetime(2026, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=8))),
    )
    canonical = (
        '{"account_id":"acc-1","amount_minor":500,"currency":"TWD","entry_id":"e1",'
        '"kind":"top_up","memo":"top-up","occurred_at":"2026-03-01T08:30:00.000000Z",'
        '"refs":{"channel":"card","payment":"p-9"},"v":1}'
    )
    assert e.fingerprint() == hashlib.sha256(canonical.encode()).hexdigest()
    # the same instant in another offset and refs in another order are the same content
    same = entry(memo="top-up", refs={"channel": "card", "payment": "p-9"}, at=AT)
    assert same.fingerprint() == e.fingerprint()
    assert entry(memo="other").fingerprint() != e.fingerprint()


def test_replay_is_a_no_op_and_conflict_is_an_error():
    ledger = Ledger()
    assert ledger.append(entry()) is True
    assert ledger.append(entry()) is False
    assert len(ledger) == 1
    with pytest.raises(LedgerEntryConflictError):
        ledger.append(entry(minor=501))
    assert ledger.balance("acc-1", "TWD") == Money(500, "TWD")


def test_account_keeps_one_currency_and_the_ledger_is_bounded():
    ledger = Ledger(max_entries=2)
    ledger.append(entry())
    with pytest.raises(CurrencyMismatchError):
        ledger.append(LedgerEntry("e2", "acc-1", EntryKind.TOP_UP, Money(1, "USD"), AT))
    ledger.append(entry("e3"))
    with pytest.raises(LedgerLimitError):
        ledger.append(entry("e4"))


def test_balance_is_per_account_and_zero_when_empty():
    ledger = Ledger()
    ledger.append(entry("a", minor=1000))
    ledger.append(entry("b", kind=EntryKind.CONSUMPTION_CHARGE, minor=-250))
    ledger.append(entry("c", minor=70, account="acc-2"))
    assert ledger.balance("acc-1", "TWD") == Money(750, "TWD")
    assert ledger.balance("acc-2", "TWD") == Money(70, "TWD")
    assert ledger.balance("nobody", "TWD") == Money(0, "TWD")
    assert [e.entry_id for e in ledger.entries("acc-1")] == ["a", "b"]


SIGNED_KINDS = {
    EntryKind.TOP_UP: 1,
    EntryKind.CONSUMPTION_CHARGE: -1,
    EntryKind.FIXED_CHARGE: -1,
    EntryKind.REFUND: -1,
    EntryKind.TRANSFER_IN: 1,
}


@st.composite
def entries_with_replays(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    distinct = []
    for i in range(n):
        kind = draw(st.sampled_from(list(SIGNED_KINDS)))
        magnitude = draw(st.integers(min_value=1, max_value=10**7))
        account = draw(st.sampled_from(["acc-1", "acc-2"]))
        distinct.append(
            entry(f"e{i}", kind=kind, minor=SIGNED_KINDS[kind] * magnitude, account=account)
        )
    replays = draw(st.lists(st.sampled_from(distinct), max_size=40))
    stream = draw(st.permutations(distinct + replays))
    return distinct, stream


@given(entries_with_replays())
def test_balance_is_the_sum_of_entries_under_any_order_of_replays(data):
    # GIVEN distinct entries delivered in any order with any replays
    distinct, stream = data
    ledger = Ledger()
    # WHEN all are appended
    added = sum(ledger.append(e) for e in stream)
    # THEN each distinct entry counts once and the balance is their sum
    assert added == len(distinct) == len(ledger)
    for account in ("acc-1", "acc-2"):
        expected = sum(e.amount.amount_minor for e in distinct if e.account_id == account)
        assert ledger.balance(account, "TWD").amount_minor == expected
