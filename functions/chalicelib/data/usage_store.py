"""Per-company, per-month usage counters for resellers' invoicing.

Maintained at write time with atomic ADDs, so a report is one Query of at most
a few hundred tiny items (one per month the company has existed) and one of the
month's per-gateway message counters, never a count over readings.
``meters_delta`` is the change of registered meters in the month; active meters
in a month are the running sum up to that month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import keys
from .binding import shared_wire
from .rows import UsageMonthRow
from .wire import DynamoWire
from .wire.codec import RowCodec, Updates, item_key

MAX_MONTHS = 600  # fifty years of history: a limit, not an expectation
_USAGE = RowCodec(UsageMonthRow)


@dataclass(frozen=True)
class MonthlyUsage:
    company_id: str
    month: str
    active_meters: int
    messages: int
    top_ups: int

    def as_dict(self) -> dict[str, object]:
        return {
            "company_id": self.company_id,
            "month": self.month,
            "active_meters": self.active_meters,
            "messages": self.messages,
            "top_ups": self.top_ups,
        }


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


class UsageCounters:
    """``_add`` runs on ingest's path (a bucket close counts its messages), so it goes
    through the lean client (data/wire) as the steady path's requests do; ``report``
    through PynamoDB."""

    def __init__(self, table: DynamoWire | None = None) -> None:
        self._given = table

    @property
    def _table(self) -> DynamoWire:
        return self._given or shared_wire()

    def _add(self, company_id: str, at: datetime, **counts: int) -> None:
        self._table.update_item(self._request(company_id, at, counts))

    def _request(
        self,
        company_id: str,
        at: datetime,
        counts: dict[str, int],
        gateway_id: str | None = None,
    ) -> dict[str, Any]:
        """The ADD to the company's month, or to a gateway's share of its messages."""
        month = month_of(at)
        # the SETs name the item (an update creates it without its discriminator unless
        # told), the ADDs count
        updates = Updates(_USAGE).set_all(
            [("kind", UsageMonthRow.KIND), ("company_id", company_id), ("month", month)]
        )
        for name, n in counts.items():
            updates.add(name, n)
        sk = (
            keys.usage_month_sk(month)
            if gateway_id is None
            else keys.usage_gateway_month_sk(month, gateway_id)
        )
        return updates.request(self._table.table, item_key(keys.usage_pk(company_id), sk))

    def meters_changed(self, company_id: str, at: datetime, delta: int) -> None:
        self._add(company_id, at, meters_delta=delta)

    def messages_received(self, company_id: str, gateway_id: str, at: datetime, n: int) -> None:
        """Seam for ingest: ``n`` more (or fewer) stored messages of a gateway in the
        month of ``at`` (a bucket rewritten)."""
        self._table.update_item(self._request(company_id, at, {"messages": n}, gateway_id))

    def messages_item(
        self, company_id: str, gateway_id: str, at: datetime, n: int
    ) -> dict[str, Any]:
        """``messages_received`` as a TransactWriteItems item: a bucket close writes the
        ADD in the transaction that stores the bucket (telemetry_store.put_cycle_closing),
        so the month moves exactly when the bucket is written, once. On the gateway's
        own counter: a transaction that touched the company's month item would conflict
        with every other gateway's closing at the same bucket edge (and a plain ADD that
        met one in flight would be refused, TransactionConflictException)."""
        return {"Update": self._request(company_id, at, {"messages": n}, gateway_id)}

    def top_up_recorded(self, company_id: str, at: datetime) -> None:
        """Seam for the top-up paths (portal, API): one ADD per top-up entry."""
        self._add(company_id, at, top_ups=1)

    def report(self, company_id: str, month: str) -> MonthlyUsage:
        from .models import UsageMonth  # PynamoDB's paths import it when they run

        upto = keys.usage_month_sk(month)
        active = messages = top_ups = 0
        for item in UsageMonth.query(
            keys.usage_pk(company_id),
            UsageMonth.sk <= upto,
            limit=MAX_MONTHS,
        ):
            active += int(item.meters_delta or 0)
            if item.sk == upto:
                # messages counted here before they moved to the gateways' counters
                messages, top_ups = int(item.messages or 0), int(item.top_ups or 0)
        for share in UsageMonth.query(
            keys.usage_pk(company_id),
            UsageMonth.sk.startswith(keys.usage_gateway_month_prefix(month)),
        ):
            messages += int(share.messages or 0)
        return MonthlyUsage(company_id, month, active, messages, top_ups)
