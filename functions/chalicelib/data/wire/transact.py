"""``TransactWriteItems`` through the lean client: its items, and telling a cancellation.

Settling a bus's meters sent one transaction per meter through PynamoDB and botocore
(~10 ms of CPU each, issue 19); the same request here is a JSON body and one round trip.
The items are DynamoDB's own JSON, encoded by ``codec.ItemCodec`` so they are byte for
byte what PynamoDB's ``TransactWrite`` sends.

A cancelled transaction answers ``TransactionCanceledException`` (HTTP 400), which the
client raises as ``RequestRefusedError`` with that type. The client keeps the error's
message, not the body's ``CancellationReasons``: a caller that must know which item's
condition failed reads the items again, consistently (``settlement_store.py``), which
also covers a cancellation for a concurrent transaction (``TransactionConflict``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .client import DynamoWire
from .codec import Raw, Updates
from .errors import RequestRefusedError, WireError

CANCELLED = "TransactionCanceledException"
# Another transaction with the same client token is still running: wait and retry.
IN_PROGRESS = "TransactionInProgressException"
# DynamoDB's limit on the items of one transaction (TransactWriteItems, "TransactItems").
MAX_ITEMS = 100


def put_new(table: str, item: Raw, key_name: str = "pk") -> dict[str, Any]:
    """Put ``item`` on condition that no item has its key (``attribute_not_exists``)."""
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#k)",
            "ExpressionAttributeNames": {"#k": key_name},
        }
    }


def update(table: str, key: Raw, updates: Updates, condition: str) -> dict[str, Any]:
    """An Update item: ``updates``' clauses on ``key``, if ``condition`` holds."""
    request = updates.request(table, key, condition)
    return {"Update": request}


def transact_write(wire: DynamoWire, items: Sequence[Mapping[str, Any]]) -> None:
    """All of ``items`` or none; raises the client's errors (``cancelled`` tells a
    transaction refused by a condition or a concurrent one)."""
    if not 0 < len(items) <= MAX_ITEMS:
        raise ValueError(f"a transaction holds 1 to {MAX_ITEMS} items, not {len(items)}")
    wire.call("TransactWriteItems", {"TransactItems": list(items)})


def cancelled(exc: WireError) -> bool:
    """DynamoDB cancelled the transaction (a condition failed, or it met another)."""
    return isinstance(exc, RequestRefusedError) and exc.aws_type in {CANCELLED, IN_PROGRESS}
