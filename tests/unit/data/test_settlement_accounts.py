"""SettlementStore.accounts: a bus's accounts in BatchGetItem requests of at most 100 keys,
the keys DynamoDB leaves unprocessed sent again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.data import keys
from chalicelib.data.settlement_store import SettlementStore, account_codec

CO = "co-1"
OPENED = datetime(2026, 11, 1, tzinfo=UTC)


def _raw(account_id: str) -> dict[str, Any]:
    return account_codec().item(
        {
            "pk": keys.account_pk(CO, account_id),
            "sk": keys.ACCOUNT_SK,
            "company_id": CO,
            "account_id": account_id,
            "currency": "TWD",
            "balance_minor": 100,
            "entry_count": 1,
            "created_at": OPENED,
        }
    )


class FakeWire:
    """Answers BatchGetItem from a dict of accounts, leaving the first ``unprocessed`` keys
    of each of the first ``refusals`` requests unprocessed."""

    table = "powerlet"

    def __init__(self, accounts: list[str], unprocessed: int = 0, refusals: int = 0) -> None:
        self._items = {keys.account_pk(CO, a): _raw(a) for a in accounts}
        self._unprocessed, self._refusals = unprocessed, refusals
        self.requests: list[list[dict[str, Any]]] = []

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert operation == "BatchGetItem"
        ask = payload["RequestItems"][self.table]
        assert ask["ConsistentRead"] is True
        self.requests.append(ask["Keys"])
        left, served = [], ask["Keys"]
        if self._refusals:
            self._refusals -= 1
            left, served = served[: self._unprocessed], served[self._unprocessed :]
        found = [self._items[k["pk"]["S"]] for k in served if k["pk"]["S"] in self._items]
        answer: dict[str, Any] = {"Responses": {self.table: found}}
        if left:
            answer["UnprocessedKeys"] = {self.table: {"Keys": left}}
        return answer


def _store(wire: FakeWire) -> SettlementStore:
    return SettlementStore(None, None, wire)  # type: ignore[arg-type]


def test_unprocessed_keys_are_sent_again_until_every_account_is_read() -> None:
    # GIVEN DynamoDB leaves 3 keys unprocessed twice
    wire = FakeWire([f"a{n:02d}" for n in range(8)], unprocessed=3, refusals=2)
    waits: list[int] = []
    # WHEN the 8 accounts are read
    found = _store(wire).accounts(CO, [f"a{n:02d}" for n in range(8)], sleep=waits.append)
    # THEN all 8 are found, the unprocessed keys sent again after a growing wait
    assert sorted(found) == [f"a{n:02d}" for n in range(8)]
    assert [len(keys) for keys in wire.requests] == [8, 3, 3]
    assert waits == [0, 1]
    assert found["a03"].balance_minor == 100 and found["a03"].currency == "TWD"


def test_more_than_100_accounts_are_read_100_keys_a_request_and_a_missing_one_is_left_out() -> None:
    wire = FakeWire([f"a{n:03d}" for n in range(150)])
    found = _store(wire).accounts(CO, [f"a{n:03d}" for n in range(151)], sleep=lambda _: None)
    assert [len(keys) for keys in wire.requests] == [100, 51]
    assert len(found) == 150 and "a150" not in found


def test_keys_never_processed_are_left_for_the_caller_to_read_alone() -> None:
    wire = FakeWire(["a1", "a2"], unprocessed=1, refusals=100)
    found = _store(wire).accounts(CO, ["a1", "a2"], sleep=lambda _: None)
    assert list(found) == ["a2"]
