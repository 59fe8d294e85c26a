"""Ledger append cost: the atomic, idempotent append against a naive put + update.

Measured against the AWS stand-in (moto server). Wall-clock figures from moto
say little about DynamoDB's latency, so the headline figures are the counted
requests and write units per append; the timing is reported for regressions.

Write units follow DynamoDB's published rules: 1 WCU per started KB of item
written, and transactional writes cost twice.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from chalicelib.data.binding import new_connection
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.wiring.settings import Settings
from local_aws.stack import LocalStack

OUT = Path(__file__).resolve().parent / "results" / "ledger_append.json"
APPENDS = 300


class Counter:
    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        self.wcu = 0

    def __call__(self, model: object, params: dict[str, object], **_: object) -> None:
        name = model.name  # type: ignore[attr-defined]
        self.requests[name] = self.requests.get(name, 0) + 1
        if name == "TransactWriteItems":
            for item in params["TransactItems"]:  # type: ignore[attr-defined]
                body = item.get("Put", {}).get("Item") or item.get("Update", {}).get("Key")
                self.wcu += 2 * max(1, math.ceil(len(json.dumps(body)) / 1024))
        elif name in {"PutItem", "UpdateItem"}:
            body = params.get("Item") or params.get("Key")
            self.wcu += max(1, math.ceil(len(json.dumps(body)) / 1024))


def main() -> int:
    with LocalStack() as stack:
        settings = Settings.from_env(stack.env())
        connection = new_connection(settings)
        counter = Counter()
        connection.client.meta.events.register("before-parameter-build.dynamodb", counter)
        store = LedgerStore(connection)
        t0 = datetime(2026, 11, 1, tzinfo=UTC)
        store.open_account("bench", "acc", "TWD", t0)
        counter.requests.clear()
        counter.wcu = 0
        started = time.perf_counter()
        for i in range(APPENDS):
            store.append(
                "bench",
                LedgerEntry(
                    f"e-{i}", "acc", EntryKind.TOP_UP, Money(100, "TWD"), t0 + timedelta(seconds=i)
                ),
            )
        ours_s = time.perf_counter() - started
        ours = {"requests": dict(counter.requests), "wcu": counter.wcu}
        replay_started = time.perf_counter()
        for i in range(0, APPENDS, 10):
            store.append(
                "bench",
                LedgerEntry(
                    f"e-{i}", "acc", EntryKind.TOP_UP, Money(100, "TWD"), t0 + timedelta(seconds=i)
                ),
            )
        replay_s = (time.perf_counter() - replay_started) / (APPENDS // 10)

        # Baseline: a plain PutItem of the entry and an UpdateItem of the balance,
        # neither atomic nor idempotent (what a first cut would do).
        ddb = boto3.client("dynamodb")
        naive = Counter()
        ddb.meta.events.register("before-parameter-build.dynamodb", naive)
        started = time.perf_counter()
        for i in range(APPENDS):
            pk = {"S": "CO#bench#ACC#naive"}
            ddb.put_item(
                TableName=settings.table_name,
                Item={
                    "pk": pk,
                    "sk": {"S": f"E#n-{i}"},
                    "amount_minor": {"N": "100"},
                    "currency": {"S": "TWD"},
                    "occurred_at": {"S": t0.isoformat()},
                    "entry_kind": {"S": "top_up"},
                    "memo": {"S": ""},
                },
            )
            ddb.update_item(
                TableName=settings.table_name,
                Key={"pk": pk, "sk": {"S": "ACCOUNT"}},
                UpdateExpression="ADD balance_minor :a",
                ExpressionAttributeValues={":a": {"N": "100"}},
            )
        naive_s = time.perf_counter() - started

    result = {
        "benchmark": "ledger_append",
        "appends": APPENDS,
        "ours": {
            "design": "TransactWriteItems: conditional Put of the entry keyed by its id + ADD to the account",
            "requests_per_append": {k: v / APPENDS for k, v in ours["requests"].items()},
            "wcu_per_append": ours["wcu"] / APPENDS,
            "standin_ms_per_append": round(ours_s / APPENDS * 1000, 2),
            "standin_ms_per_replay_noop": round(replay_s * 1000, 2),
        },
        "baseline_naive": {
            "design": "PutItem of the entry + UpdateItem of the balance; not atomic, not idempotent",
            "requests_per_append": {k: v / APPENDS for k, v in naive.requests.items()},
            "wcu_per_append": naive.wcu / APPENDS,
            "standin_ms_per_append": round(naive_s / APPENDS * 1000, 2),
        },
    }
    result["ratio_wcu_ours_over_naive"] = round(
        result["ours"]["wcu_per_append"] / result["baseline_naive"]["wcu_per_append"], 2
    )
    result["ratio_time_ours_over_naive"] = round(
        result["ours"]["standin_ms_per_append"] / result["baseline_naive"]["standin_ms_per_append"],
        2,
    )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
