"""A cancelled transaction through the lean client carries its reasons as the stand-in
answered them (wire/errors.py, ``TransactionCanceledError.reasons``): one per item, in
the request's order, the item as it stood where ``ALL_OLD`` was asked. The settling
message decides from them without reading the items back (data/settlement_store.py)."""

from __future__ import annotations

import uuid

import pytest

from chalicelib.data.binding import shared_wire
from chalicelib.data.wire.errors import CancellationReason, TransactionCanceledError
from chalicelib.data.wire.transact import ALL_OLD, CANCELLED, cancelled, transact_write
from chalicelib.wiring.container import Container

pytestmark = pytest.mark.functional


def test_a_cancelled_transaction_carries_each_items_reason(pipeline: Container) -> None:
    wire = shared_wire()
    pk = f"wire-cancel-{uuid.uuid4().hex}"
    stored = {"pk": {"S": pk}, "sk": {"S": "held"}, "n": {"N": "1"}}
    wire.call("PutItem", {"TableName": wire.table, "Item": stored})
    fresh = {"pk": {"S": pk}, "sk": {"S": "fresh"}, "n": {"N": "1"}}
    twin = {"pk": {"S": pk}, "sk": {"S": "twin"}, "n": {"N": "1"}}
    wire.call("PutItem", {"TableName": wire.table, "Item": twin})
    # GIVEN a transaction of three: a new item (fine), an update whose condition fails
    # asking ALL_OLD, and a put on an existing item asking nothing back
    items = [
        {
            "Put": {
                "TableName": wire.table,
                "Item": fresh,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Update": {
                "TableName": wire.table,
                "Key": {"pk": stored["pk"], "sk": stored["sk"]},
                "UpdateExpression": "SET n = :two",
                "ConditionExpression": "n = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}},
                **ALL_OLD,
            }
        },
        {
            "Put": {
                "TableName": wire.table,
                "Item": twin,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    # WHEN it is sent
    with pytest.raises(TransactionCanceledError) as raised:
        transact_write(wire, items)
    # THEN the error is a cancellation, with a reason per item in order: none for the
    # first, the failed condition with the item as it stood for the second, the failed
    # condition without an item (none asked) for the third
    error = raised.value
    assert error.aws_type == CANCELLED and cancelled(error)
    codes = [r.code for r in error.reasons]
    assert codes == [None, "ConditionalCheckFailed", "ConditionalCheckFailed"]
    assert error.reasons[0] == CancellationReason(None)
    assert error.reasons[1].item == stored
    assert error.reasons[2].item is None
    # AND nothing of it was written
    answer = wire.call(
        "GetItem", {"TableName": wire.table, "Key": {"pk": fresh["pk"], "sk": fresh["sk"]}}
    )
    assert "Item" not in answer
