"""Deadlines on items: the sparse ``due`` index (keys only) that the sweeps read.

An item that waits for a time carries ``duepk``/``duesk`` (``keys.due_pk``/``due_sk``),
set in the same write that creates the wait and removed in the write that ends it, so a
deadline costs no request of its own: a relay command while it is pending, a gateway
between its connection and its first telemetry (then its bus item, until it falls
silent: ingest moves the deadline in the bus-item writes it makes), a meter that went
silent until staff are told. A sweep queries the partitions of the kind for today and yesterday, every
shard, up to now: it reads what is due and nothing else, however large the fleet.

Why this and not the alternatives (docs/pipeline.md, "Presence and deadlines"):
DynamoDB TTL deletes "within a few days", far too late for a 90 s confirmation; SQS
delays cannot be cancelled and need a consumer locally; EventBridge Scheduler one-shots
cost a request to make and one to delete per command. The stand-in (moto) keeps sparse
global secondary indexes with a KEYS_ONLY projection as DynamoDB does
(``tests/functional/pipeline/test_deadlines.py``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import keys
from .conditions import conditional_check_failed
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors
    from pynamodb.expressions import update as pynamo_update

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")
    pynamo_update = lazy_module("pynamodb.expressions.update")

# What waits (keys.DUE_KINDS): a pending relay command's confirmation; a connected
# gateway's telemetry; a meter gone silent until staff are told.
RELAY_DEADLINE = "relay"
SILENCE_DEADLINE = "silence"
METER_DEADLINE = "meter"
ANY_GATEWAY = "-"  # a meter's deadline is its own: the sweep needs company and meter only
DUE_SHARDS = 4
# A deadline more than this overdue is still found (a sweep that did not run for a day):
# today's and yesterday's partitions are read.
LOOKBACK_DAYS = 1
MAX_DUE_PER_RUN = 500  # a limit, not an expectation: the rest are due at the next run


@dataclass(frozen=True)
class Due:
    """A deadline that fell due: the item carrying it (table keys) and what it concerns."""

    kind: str
    pk: str
    sk: str
    due_at_ms: int
    company_id: str
    gateway_id: str
    meter_id: str | None


def shard_of(company_id: str, gateway_id: str, meter_id: str | None = None) -> int:
    # crc32, not hash(): the same item lands in the same shard in every process
    return zlib.crc32(f"{company_id}/{gateway_id}/{meter_id or ''}".encode()) % DUE_SHARDS


def set_deadline(
    kind: str, due_at: datetime, company_id: str, gateway_id: str, meter_id: str | None = None
) -> list[pynamo_update.Action]:
    """The update actions that put an item on the due index (add them to its write)."""
    values = deadline_attributes(kind, due_at, company_id, gateway_id, meter_id)
    return [
        models.PowerletItem.duepk.set(values["duepk"]),
        models.PowerletItem.duesk.set(values["duesk"]),
    ]


def clear_deadline() -> list[pynamo_update.Action]:
    """The update actions that take an item off the due index."""
    return [models.PowerletItem.duepk.remove(), models.PowerletItem.duesk.remove()]


def deadline_attributes(
    kind: str, due_at: datetime, company_id: str, gateway_id: str, meter_id: str | None = None
) -> dict[str, str]:
    """The same keys as attributes, for an item created with a put."""
    return {
        "duepk": keys.due_pk(kind, due_at, shard_of(company_id, gateway_id, meter_id)),
        "duesk": keys.due_sk(due_at, company_id, gateway_id, meter_id or "-"),
    }


def update_existing(item: models.PowerletItem, actions: list[pynamo_update.Action]) -> bool:
    """Update an item that must exist (an update would otherwise create it from its keys:
    a deadline never brings an item into being). False if it is gone."""
    try:
        item.update(actions=actions, condition=models.PowerletItem.pk.exists())
    except pynamo_errors.UpdateError as exc:
        if conditional_check_failed(exc):
            return False
        raise
    return True


class Deadlines:
    """Reads the due index. Counting what it read is the sweeps' work per run."""

    @staticmethod
    def end(due: Due) -> bool:
        """End a wait on whichever item carries it (a Gateway after its connection; the
        bus item, whose silence deadline ingest moves). False if the item is gone."""
        # The table connection: an update through the polymorphic base model refuses the
        # item it gets back (a Gateway is not a PowerletItem instance of that class).
        try:
            models.PowerletItem._get_connection().update_item(
                due.pk,
                range_key=due.sk,
                actions=clear_deadline(),
                condition=models.PowerletItem.pk.exists(),
            )
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    def due(self, kind: str, now: datetime, limit: int = MAX_DUE_PER_RUN) -> list[Due]:
        found: list[Due] = []
        for day in range(LOOKBACK_DAYS, -1, -1):
            for shard in range(DUE_SHARDS):
                for item in self._query(kind, now - timedelta(days=day), shard, now, limit):
                    found.append(item)
                    if len(found) >= limit:
                        return found
        return found

    @staticmethod
    def _query(kind: str, day: datetime, shard: int, now: datetime, limit: int) -> Iterator[Due]:
        # The table connection, not PowerletItem.due.query: a keys-only entry has no
        # ``kind``, and the polymorphic model would drop every one of them.
        table = models.PowerletItem._get_connection()
        start: dict[str, Any] | None = None
        while True:
            page = table.query(
                keys.due_pk(kind, day, shard),
                models.PowerletItem.duesk <= keys.due_until_sk(now),
                index_name=models.PowerletItem.due.Meta.index_name,
                limit=limit,
                exclusive_start_key=start,
            )
            for raw in page.get("Items", []):
                yield _due_of(kind, raw)
            start = page.get("LastEvaluatedKey")
            if not start:
                return


def _due_of(kind: str, raw: dict[str, Any]) -> Due:
    when, company_id, gateway_id, meter = raw["duesk"]["S"].split(keys.SEP)
    return Due(
        kind,
        raw["pk"]["S"],
        raw["sk"]["S"],
        int(when),
        company_id,
        gateway_id,
        None if meter == "-" else meter,
    )
