"""How a bus's settlements are cut into transactions (data/settlement_store.py,
``_groups``), and how a cancellation's reasons are read (wire/errors.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.data.settlement_store import Cursor, Settling, _groups, _Pending
from chalicelib.data.wire.errors import CancellationReason, cancellation_reasons
from chalicelib.domain import EntryKind, LedgerEntry, Money

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _pending(index: int, account_id: str, charge: bool = True) -> _Pending:
    entry = (
        LedgerEntry(
            f"cons:m{index}:1:2", account_id, EntryKind.CONSUMPTION_CHARGE, Money(-10, "TWD"), AT
        )
        if charge
        else None
    )
    settling = Settling(account_id, None, 1_000, Cursor("1.000", AT, {}), entry)
    return _Pending.of("co", index, settling)


def test_settlements_fill_transactions_of_at_most_100_items_in_order() -> None:
    # GIVEN 60 charging meters (2 items each) and 3 with nothing to charge (1 item)
    pending = [_pending(n, f"a{n}") for n in range(60)]
    pending += [_pending(60 + n, f"z{n}", charge=False) for n in range(3)]
    # WHEN they are cut into transactions
    groups = list(_groups(pending))
    # THEN the first holds 50 meters (100 items), the second the rest, in order
    assert [len(g) for g in groups] == [50, 13]
    assert sum(one.size for one in groups[1]) == 23
    assert [one.index for g in groups for one in g] == list(range(63))


def test_an_account_twice_goes_in_the_next_transaction() -> None:
    # DynamoDB refuses two actions on one item in a transaction
    pending = [_pending(0, "a"), _pending(1, "b"), _pending(2, "a"), _pending(3, "c")]
    groups = [[one.index for one in g] for g in _groups(pending)]
    assert groups == [[0, 1], [2, 3]]


def test_cancellation_reasons_as_dynamodb_writes_them() -> None:
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
            {"Code": "ConditionalCheckFailed", "Item": {"pk": {"S": "x"}}},
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        ],
    }
    assert cancellation_reasons(body) == (
        CancellationReason(None),
        CancellationReason("ConditionalCheckFailed", "The conditional request failed"),
        CancellationReason("ConditionalCheckFailed", None, {"pk": {"S": "x"}}),
        CancellationReason("TransactionConflict", "Transaction is ongoing for the item"),
    )


def test_a_body_without_readable_reasons_has_none() -> None:
    assert cancellation_reasons({}) == ()
    assert cancellation_reasons({"CancellationReasons": "None"}) == ()
    assert cancellation_reasons({"CancellationReasons": [{"Code": "None"}, "x"]}) == ()
