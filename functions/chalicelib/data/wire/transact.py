"""``TransactWriteItems`` through the lean client: its items, and telling a cancellation.

Settling a bus's meters sent one transaction per meter through PynamoDB and botocore
(~10 ms of CPU each, issue 19); here the bus's settlements are one request (a JSON body,
one round trip) of up to ``MAX_ITEMS`` items.
The items are DynamoDB's own JSON, encoded by ``codec.ItemCodec`` so they are byte for
byte what PynamoDB's ``TransactWrite`` sends.

A cancelled transaction answers ``TransactionCanceledException`` (HTTP 400), which the
client raises as ``TransactionCanceledError`` (a ``RequestRefusedError``) whose
``reasons`` are the body's ``CancellationReasons``: one per item, in the request's order,
``code`` None for an item that was not a reason, ``ConditionalCheckFailed`` for one whose
condition failed (with the item as it stood when the item asked ``ALL_OLD``),
``TransactionConflict`` for one another transaction held. So a caller tells which item
failed, and why, without reading the items again (``settlement_store.py``). The moto
stand-in answers the same shape (a code for every item, ``Item`` on ``ALL_OLD``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .client import CANCELLED, DynamoWire
from .codec import Raw, Updates
from .errors import RequestRefusedError, WireError

# Another transaction with the same client token is still running: wait and retry.
IN_PROGRESS = "TransactionInProgressException"
# DynamoDB's limit on the items of one transaction (TransactWriteItems, "TransactItems").
MAX_ITEMS = 100
# A failed condition's reason then carries the item as it stood (CancellationReason.Item).
ALL_OLD = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
# A CancellationReason's codes (AWS API reference, TransactWriteItems): this item's
# condition failed; or the item met a concurrent write or the throughput's limit, which
# another attempt after a wait may not.
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
RETRYABLE_REASONS = frozenset(
    {TRANSACTION_CONFLICT, "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def put_new(table: str, item: Raw, key_name: str = "pk") -> dict[str, Any]:
    """Put ``item`` on condition that no item has its key (``attribute_not_exists``)."""
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#k)",
            "ExpressionAttributeNames": {"#k": key_name},
            **ALL_OLD,
        }
    }


def update(table: str, key: Raw, updates: Updates, condition: str) -> dict[str, Any]:
    """An Update item: ``updates``' clauses on ``key``, if ``condition`` holds (a failure
    answers the item as it stood)."""
    request = updates.request(table, key, condition)
    return {"Update": {**request, **ALL_OLD}}


def transact_write(wire: DynamoWire, items: Sequence[Mapping[str, Any]]) -> None:
    """All of ``items`` or none; raises the client's errors (``cancelled`` tells a
    transaction refused by a condition or a concurrent one)."""
    if not 0 < len(items) <= MAX_ITEMS:
        raise ValueError(f"a transaction holds 1 to {MAX_ITEMS} items, not {len(items)}")
    wire.call("TransactWriteItems", {"TransactItems": list(items)})


def cancelled(exc: WireError) -> bool:
    """DynamoDB cancelled the transaction (a condition failed, or it met another)."""
    return isinstance(exc, RequestRefusedError) and exc.aws_type in {CANCELLED, IN_PROGRESS}
