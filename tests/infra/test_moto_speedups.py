"""The stand-in's moto speed-ups answer exactly what moto answers without them."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_aws.moto_speedups import speed_up_moto

TABLE = "t"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # In-process moto: a stand-in of another test module may have pointed boto3 elsewhere.
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "gs")
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "g", "KeyType": "HASH"},
                        {"AttributeName": "gs", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        rng = random.Random(5)
        for n in range(600):
            item = {
                "pk": {"S": f"P#{n % 7}"},
                "sk": {"S": f"C#{rng.randrange(10**6):07d}#{n}"},
                "v": {"N": str(n)},
            }
            if n % 3:  # a sparse index, as ours is
                item |= {"g": {"S": f"G#{n % 4}"}, "gs": {"S": f"{n % 11:03d}"}}
            ddb.put_item(TableName=TABLE, Item=item)
        yield ddb


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#3"}}},
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {
            ":p": {"S": "P#1"},
            ":a": {"S": "C#0200000"},
            ":b": {"S": "C#0700000"},
        },
        "ScanIndexForward": False,
        "Limit": 9,
    },
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "P#5"}, ":s": {"S": "C#05"}},
        "FilterExpression": "v > :n",
        "ExpressionAttributeValues_extra": {":n": {"N": "100"}},
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#404"}}},
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "g = :g AND gs > :x",
        "ExpressionAttributeValues": {":g": {"S": "G#2"}, ":x": {"S": "004"}},
        "Limit": 13,
    },
]


def _all_pages(ddb: Any, query: dict[str, Any]) -> list[Any]:
    query = dict(query)
    extra = query.pop("ExpressionAttributeValues_extra", {})
    query["ExpressionAttributeValues"] = query["ExpressionAttributeValues"] | extra
    pages, start = [], None
    while True:
        page = ddb.query(
            TableName=TABLE, **query, **({"ExclusiveStartKey": start} if start else {})
        )
        pages.append((page["Items"], page.get("Count"), page.get("LastEvaluatedKey")))
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def test_queries_answer_the_same_with_the_partition_index(table: Any) -> None:
    # GIVEN moto's answers to table and index queries (paged, reversed, filtered, empty)
    expected = [_all_pages(table, q) for q in QUERIES]
    assert sum(len(items) for items, _, _ in expected[0]) > 50
    # WHEN the stand-in's patch is on
    undo = speed_up_moto()
    try:
        got = [_all_pages(table, q) for q in QUERIES]
        # THEN every page, count and continuation key is identical
        assert got == expected
        # AND a table query looked at its partition only (about 600 / 7 items)
        from moto.dynamodb.models.table import Table

        patched, seen = Table.all_items, []

        def spy(self: Any) -> list[Any]:
            listed: list[Any] = patched(self)
            seen.append(len(listed))
            return listed

        Table.all_items = spy  # type: ignore[method-assign]
        try:
            _all_pages(table, QUERIES[0])
        finally:
            Table.all_items = patched  # type: ignore[method-assign]
        assert seen and max(seen) < 100
        # AND outside a query moto still lists the whole table
        assert table.describe_table(TableName=TABLE)["Table"]["ItemCount"] == 600
    finally:
        undo()


def _transactions(ddb: Any) -> list[Any]:
    """A cancelled transaction (put, add, failing check), then one that applies; the
    state of every item involved after each."""
    keys = [{"pk": {"S": "P#1"}, "sk": {"S": f"X#{n}"}} for n in range(3)]
    ddb.put_item(TableName=TABLE, Item=keys[1] | {"v": {"N": "10"}})
    ddb.put_item(TableName=TABLE, Item=keys[2] | {"v": {"N": "1"}})
    ops = [
        {"Put": {"TableName": TABLE, "Item": keys[0] | {"v": {"N": "5"}}}},
        {
            "Update": {
                "TableName": TABLE,
                "Key": keys[1],
                "UpdateExpression": "ADD v :d",
                "ExpressionAttributeValues": {":d": {"N": "7"}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": keys[2],
                "ConditionExpression": "v > :z",
                "ExpressionAttributeValues": {":z": {"N": "99"}},
            }
        },
    ]

    def state() -> list[Any]:
        return [ddb.get_item(TableName=TABLE, Key=k).get("Item") for k in keys]

    seen: list[Any] = []
    try:
        ddb.transact_write_items(TransactItems=ops)
    except ddb.exceptions.TransactionCanceledException as exc:
        seen.append([r["Code"] for r in exc.response["CancellationReasons"]])
    seen.append(state())
    ddb.transact_write_items(TransactItems=ops[:2])
    seen.append(state())
    for k in keys:  # leave the table as it was for the next round
        ddb.delete_item(TableName=TABLE, Key=k)
    return seen


def test_cancelled_transactions_roll_back_exactly_as_moto_does(table: Any) -> None:
    # GIVEN moto's own rollback of a cancelled transaction and a transaction that applies
    expected = _transactions(table)
    assert expected[0] == ["None", "None", "ConditionalCheckFailed"]
    assert expected[1][0] is None and expected[1][1]["v"] == {"N": "10"}
    # WHEN the stand-in snapshots only the items a transaction names
    undo = speed_up_moto()
    from moto.dynamodb.models.dynamo_type import Item

    copies = [0]
    item_deepcopy = Item.__deepcopy__

    def counted(self: Any, memo: dict[int, Any]) -> Any:
        copies[0] += 1
        return item_deepcopy(self, memo)

    Item.__deepcopy__ = counted  # type: ignore[method-assign]
    try:
        # THEN the outcome of both is identical, item by item
        assert _transactions(table) == expected
        # AND only the items named were copied, not the 600 of the table
        assert 0 < copies[0] < 50
    finally:
        Item.__deepcopy__ = item_deepcopy  # type: ignore[method-assign]
        undo()
