"""A gateway's telemetry partition: cycles, 15-minute usage and control state.

Access patterns (docs/data-model.md, #25-#30): put a cycle if absent (the
message id is the key), the latest cycle, cycles in a time range, a bucket of
usage per gateway, and the versioned control-state item.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import keys
from .binding import shared_wire
from .bus_item import CYCLE_CODEC, STATE_CODEC, bus_key, silence_values, state_of
from .control_state import BusControlState, encode_meters, ms
from .errors import StaleStateError
from .rows import GatewayCycleRow, GatewayStateRow, GatewayUsageRow
from .wire import ConditionalCheckFailedError, DynamoWire, WireError
from .wire.codec import Raw, RowCodec, Updates, between_query, item_key, kind_of
from .wire.transact import cancelled, put_new, transact_write

CYCLE_RETENTION = timedelta(days=35)  # cycles are raw data; buckets and the ledger keep the rest
MAX_CYCLES_PER_QUERY = 2000
USAGE_CODEC = RowCodec(GatewayUsageRow)
_CYCLE_TIME = CYCLE_CODEC.stored_name("cycle_at_ms")
_CYCLE_ROWS = CYCLE_CODEC.stored_name("rows")
_USAGE_HEALTH = USAGE_CODEC.stored_name("health")

if TYPE_CHECKING:
    from .models import GatewayUsage


@dataclass(frozen=True)
class ClosedBucket:
    """A bucket's item as a close writes it (``put_usage``'s arguments)."""

    company_id: str
    gateway_id: str
    start: datetime
    energy: dict[str, str]
    messages: int | None = None
    health: dict[str, Any] | None = None


def _usage_values(bucket: ClosedBucket) -> dict[str, Any]:
    return {
        "pk": keys.gateway_data_pk(bucket.company_id, bucket.gateway_id),
        "sk": keys.gateway_usage_sk(bucket.start),
        "gateway_id": bucket.gateway_id,
        "bucket_start": bucket.start,
        "energy": bucket.energy,
        "messages": bucket.messages,
        "health": bucket.health or None,
    }


def _cycle_item(
    company_id: str,
    gateway_id: str,
    spool_id: str,
    seq: int,
    cycle_at: datetime,
    received_at: datetime,
    rows: list[list[Any]],
) -> Raw:
    return CYCLE_CODEC.item(
        {
            "pk": keys.gateway_data_pk(company_id, gateway_id),
            "sk": keys.cycle_sk(cycle_at, spool_id, seq),
            "gateway_id": gateway_id,
            "spool_id": spool_id,
            "seq": seq,
            "cycle_at_ms": ms(cycle_at),
            "received_at_ms": ms(received_at),
            "rows": rows,
            "expires_at": int((cycle_at + CYCLE_RETENTION).timestamp()),
        }
    )


class TelemetryStore:
    """``put_cycle`` and ``save_state`` are on ingest's steady path and go through the lean
    client (``table``, data/wire: the container's; by default the process's, at the models'
    table); the rest through PynamoDB."""

    def __init__(self, table: DynamoWire | None = None) -> None:
        self._given = table

    @property
    def _table(self) -> DynamoWire:
        return self._given or shared_wire()

    # --- cycles ---

    def put_cycle(
        self,
        company_id: str,
        gateway_id: str,
        spool_id: str,
        seq: int,
        cycle_at: datetime,
        received_at: datetime,
        rows: list[list[Any]],
    ) -> bool:
        """Store a cycle once. False if this (spool id, sequence) was already stored."""
        item = _cycle_item(company_id, gateway_id, spool_id, seq, cycle_at, received_at, rows)
        try:
            self._table.put_item(
                {
                    "TableName": self._table.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": "pk"},
                }
            )
        except ConditionalCheckFailedError:
            return False
        return True

    def put_cycle_closing(
        self,
        cycle: tuple[str, str, str, int, datetime, datetime, list[list[Any]]],
        bucket: ClosedBucket,
        also: Sequence[Mapping[str, Any]] = (),
    ) -> bool:
        """Store a cycle (``put_cycle``'s arguments) and a *new* bucket it closes, and
        ``also`` (the month's ADD), in one TransactWriteItems: all or nothing. False when
        refused (the cycle is stored already, the bucket exists, or a concurrent write):
        nothing was written, and the caller writes them one by one, as before
        (docs/pipeline.md, "Closing a bucket")."""
        table = self._table.table
        items = [
            put_new(table, _cycle_item(*cycle)),
            put_new(table, USAGE_CODEC.item(_usage_values(bucket))),
            *also,
        ]
        try:
            transact_write(self._table, items)
        except WireError as exc:
            if cancelled(exc):
                return False
            raise
        return True

    def cycles_between(
        self,
        company_id: str,
        gateway_id: str,
        start: datetime,
        end: datetime,
        limit: int = MAX_CYCLES_PER_QUERY,
        page_size: int | None = None,
    ) -> Iterator[GatewayCycleRow]:
        """Cycles with start <= cycle time < end, oldest first, at most ``limit``; read
        ``page_size`` at a time when given (a search that usually stops at once)."""
        yield from self._cycles(
            company_id,
            gateway_id,
            keys.cycle_bound_sk(start),
            keys.cycle_bound_sk(end),
            forward=True,
            limit=limit,
            page_size=page_size,
        )

    def cycles_before(
        self, company_id: str, gateway_id: str, before: datetime, limit: int = 1
    ) -> list[GatewayCycleRow]:
        """The latest ``limit`` cycles strictly before ``before``, newest first."""
        return list(
            self._cycles(
                company_id,
                gateway_id,
                keys.CYCLE_PREFIX,
                keys.cycle_bound_sk(before),
                forward=False,
                limit=limit,
            )
        )

    def cycles_back(
        self,
        company_id: str,
        gateway_id: str,
        start: datetime,
        before: datetime,
        limit: int,
        page_size: int | None = None,
    ) -> Iterator[GatewayCycleRow]:
        """Cycles with start <= cycle time < before, newest first, at most ``limit``, read
        page by page (``page_size`` at a time when given) as the caller goes: a search
        that stops early reads little."""
        yield from self._cycles(
            company_id,
            gateway_id,
            keys.cycle_bound_sk(start),
            keys.cycle_bound_sk(before),
            forward=False,
            limit=limit,
            page_size=page_size,
        )

    def cycle_rows_back(
        self,
        company_id: str,
        gateway_id: str,
        start: datetime,
        before: datetime,
        page_size: Callable[[], int],
    ) -> Iterator[tuple[int, list[list[Any]]]]:
        """(cycle unix ms, compact rows) of the cycles with start <= cycle time < before,
        newest first, read page by page as the caller goes, each page ``page_size()``
        items (asked again before every page: a bucket close reads its window in one
        page, then a few cycles at a time while it searches for a base). Only the two
        attributes are projected, and the rows decoded as ``CompressedJSONAttribute``
        does (json of zlib), without a model or a row object: a bucket close reads ~30-180
        cycles on ingest's path (docs/pipeline.md, "Closing a bucket"). No limit of its
        own: the caller stops iterating."""
        request = between_query(
            self._table.table,
            keys.gateway_data_pk(company_id, gateway_id),
            keys.cycle_bound_sk(start),
            keys.cycle_bound_sk(before),
            forward=False,
            limit=1,
        )
        names = {"#k": CYCLE_CODEC.kind_name, "#t": _CYCLE_TIME, "#m": _CYCLE_ROWS}
        request["ExpressionAttributeNames"] |= names
        request["ProjectionExpression"] = "#k, #t, #m"
        for raw in self._cycle_pages(request, lambda: max(1, page_size())):
            rows = json.loads(zlib.decompress(base64.b64decode(raw[_CYCLE_ROWS]["B"])))
            yield int(raw[_CYCLE_TIME]["N"]), rows

    def latest_cycles(
        self, company_id: str, gateway_id: str, limit: int = 1
    ) -> list[GatewayCycleRow]:
        far = datetime(9999, 1, 1, tzinfo=UTC)
        return self.cycles_before(company_id, gateway_id, far, limit)

    def _cycles(
        self,
        company_id: str,
        gateway_id: str,
        low_sk: str,
        high_sk: str,
        *,
        forward: bool,
        limit: int,
        page_size: int | None = None,
    ) -> Iterator[GatewayCycleRow]:
        """A Query of the partition's cycles between two sort keys (inclusive, as the
        models' ``between``), through the lean client: a bucket close reads cycles on
        ingest's path (docs/pipeline.md), where botocore's per-request work was ~2 ms.
        Paged like PynamoDB's ``query(limit, page_size)``: each request asks for at most
        ``page_size`` (else ``limit``) items, and no more than ``limit`` are yielded."""
        request = between_query(
            self._table.table,
            keys.gateway_data_pk(company_id, gateway_id),
            low_sk,
            high_sk,
            forward=forward,
            limit=limit,
        )
        left = limit
        if left <= 0:
            return

        def page_limit() -> int:  # read before each page: no more than are still wanted
            return min(page_size or left, left)

        for raw in self._cycle_pages(request, page_limit):
            yield CYCLE_CODEC.decode(raw)
            left -= 1
            if left == 0:
                return

    def _cycle_pages(
        self, request: dict[str, Any], page_limit: Callable[[], int]
    ) -> Iterator[dict[str, Any]]:
        """The raw cycle items a Query of cycles answers, page after page as the caller
        goes (``LastEvaluatedKey``), each page asking for ``page_limit()`` items (asked
        again before every page)."""
        while True:
            request["Limit"] = page_limit()
            answer = self._table.query(request)
            for raw in answer.get("Items", ()):
                if kind_of(raw) == CYCLE_CODEC.kind:  # the range holds only cycles
                    yield raw
            after = answer.get("LastEvaluatedKey")
            if not after:
                return
            request["ExclusiveStartKey"] = after

    # --- 15-minute usage ---

    def put_usage(
        self,
        company_id: str,
        gateway_id: str,
        bucket_start: datetime,
        energy: dict[str, str],
        messages: int | None = None,
        health: dict[str, Any] | None = None,
    ) -> int:
        """Overwrite: a bucket is a pure function of the stored cycles.

        ``messages`` is the number of cycles stored in the bucket. Returns the
        number the bucket held before (0 if new), taken from the same PutItem
        (``ReturnValues=ALL_OLD`` costs no read unit), so callers can count
        the change without a read: the changes of one bucket telescope to its
        final count whatever the order of rewrites. ``health``: the bus counters of
        the message that closed the bucket (``GatewayUsage.health``), kept as given.
        """
        values = _usage_values(
            ClosedBucket(company_id, gateway_id, bucket_start, energy, messages, health)
        )
        # Through the lean client (a bucket close is on ingest's path); ALL_OLD gives the
        # count the bucket held, without a read.
        answer = self._table.put_item(
            {
                "TableName": self._table.table,
                "Item": USAGE_CODEC.item(values),
                "ReturnValues": "NONE" if messages is None else "ALL_OLD",
            }
        )
        if messages is None:
            return 0
        before = (answer.get("Attributes") or {}).get(USAGE_CODEC.stored_name("messages")) or {}
        return int(before.get("N", 0))

    def usage_health(
        self, company_id: str, gateway_id: str, bucket_start: datetime
    ) -> dict[str, Any] | None:
        """A bucket's bus counters (None if none or no bucket): a late message that
        rewrites the bucket keeps the snapshot of the message that closed it. Through the
        lean client, the one attribute projected (a late message is on ingest's path)."""
        answer = self._table.get_item(
            {
                "TableName": self._table.table,
                "Key": item_key(
                    keys.gateway_data_pk(company_id, gateway_id),
                    keys.gateway_usage_sk(bucket_start),
                ),
                "ProjectionExpression": "#h",
                "ExpressionAttributeNames": {"#h": _USAGE_HEALTH},
            }
        )
        item = answer.get("Item")
        if not item:
            return None
        health: dict[str, Any] | None = USAGE_CODEC.decode(item).health
        return health

    def usage_between(
        self,
        company_id: str,
        gateway_id: str,
        start: datetime,
        end: datetime,
        limit: int = MAX_CYCLES_PER_QUERY,
    ) -> Iterator[GatewayUsage]:
        from .models import GatewayUsage  # PynamoDB's paths import it when they run

        yield from GatewayUsage.query(
            keys.gateway_data_pk(company_id, gateway_id),
            GatewayUsage.sk.between(keys.gateway_usage_sk(start), keys.gateway_usage_sk(end)),
            limit=limit,
        )

    # --- control state ---

    def get_state(self, company_id: str, gateway_id: str) -> BusControlState:
        """The bus's control state (version 0 and no meters if never written)."""
        from pynamodb.exceptions import DoesNotExist

        from .models import GatewayState

        try:
            item = GatewayState.get(
                keys.gateway_data_pk(company_id, gateway_id),
                keys.GATEWAY_STATE_SK,
                consistent_read=True,
                attributes_to_get=_STATE_ATTRIBUTES,
            )
        except DoesNotExist:
            return BusControlState(company_id, gateway_id)
        return state_of(company_id, gateway_id, item)

    def save_state(
        self, state: BusControlState, at: datetime, silence_by: datetime | None = None
    ) -> BusControlState:
        """Write on condition that nobody else wrote since it was read; the state as saved
        (its next version). Raises StaleStateError if someone did. An UpdateItem of the
        state's attributes only: the bus item's context (data/bus_item.py) is left as is.
        ``silence_by``: ingest heard the gateway; its silence deadline moves there in this
        write (``bus_item.silence_values``)."""
        expected = state.version
        updates = Updates(STATE_CODEC).set_all(
            [
                ("kind", GatewayStateRow.KIND),
                ("company_id", state.company_id),
                ("gateway_id", state.gateway_id),
                ("version", expected + 1),
                ("meters", encode_meters(state.meters)),
                ("flags", sorted(state.flags)),
                ("updated_at", at),
                *silence_values(state.company_id, state.gateway_id, silence_by),
            ]
        )
        condition = (
            updates.exists_not("version") if expected == 0 else updates.equals("version", expected)
        )
        key = bus_key(state.company_id, state.gateway_id)
        try:
            self._table.update_item(updates.request(self._table.table, key, condition))
        except ConditionalCheckFailedError as exc:
            raise StaleStateError(f"gateway state {state.gateway_id} changed") from exc
        return replace(state, version=expected + 1)


_STATE_ATTRIBUTES = [
    STATE_CODEC.stored_name(name) for name in ("kind", "version", "meters", "flags")
]
