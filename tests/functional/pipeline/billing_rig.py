"""Postpaid billing tests: readings stored as cycles, the job run, its writes broken on purpose.

Cycles are stored the way ingest stores them (``TelemetryStore.put_cycle`` with compact
rows), without buckets or settlement, so a test says exactly which readings exist, when,
and which validation quarantined. ``crash_at`` breaks the job at one DynamoDB write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import botocore.client

from chalicelib.data.models import Bill, LedgerEntryItem
from chalicelib.domain import BillingPeriod, Reading, kwh, parse_tariff, postpaid_bill
from chalicelib.pipeline.billing_run import PropertyBilling
from chalicelib.pipeline.telemetry import MeterRow
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td

from .rig import Bus

TZ = "Asia/Taipei"
# A first tier of 20 kWh a month: two months of 15 kWh stay in it; merged, they do not.
TIERED_20 = td.tiered_all_year("tiered-20", [("20", "1.68"), (None, "3.33")])
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
NOVEMBER = BillingPeriod(date(2026, 11, 1), date(2026, 12, 1))
DECEMBER = BillingPeriod(date(2026, 12, 1), date(2027, 1, 1))


def local(day: str, hhmm: str = "00:00") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), ZoneInfo(TZ))


def store(
    pipeline: Container, bus: Bus, seq: int, at: datetime, rows: dict[str, str | tuple[str, str]]
) -> None:
    """One cycle: ``{meter: value}``, or ``{meter: (value, quarantine reason)}``."""
    compact = []
    for meter_id, value in rows.items():
        reading, held = value if isinstance(value, tuple) else (value, None)
        row = MeterRow(meter_id, at, Decimal(reading), None, None, 1, None, 0, held)
        compact.append(row.compact(at))
    pipeline.telemetry.put_cycle(bus.company_id, bus.gateway_id, bus.spool_id, seq, at, at, compact)


def run(pipeline: Container, bus: Bus, now: datetime) -> PropertyBilling:
    return pipeline.billing.bill_property(bus.company_id, bus.property_id, now)


def bills(pipeline: Container, bus: Bus, unit_id: str) -> list[Bill]:
    """The unit's bills, oldest period first."""
    return list(reversed(pipeline.bill_store.of_account(bus.company_id, bus.accounts[unit_id])))


def bill_entries(pipeline: Container, bus: Bus, unit_id: str) -> list[LedgerEntryItem]:
    entries = pipeline.ledger.all_entries(bus.company_id, bus.accounts[unit_id], 1000)
    return [e for e in entries if str(e.entry_id).startswith("bill:")]


def expected_bill(
    tariff: dict[str, Any], period: BillingPeriod, opening: str, closing: str, closing_at: datetime
) -> int:
    """The domain's bill of a period from two readings, computed independently."""
    readings = [
        Reading(local(period.start.isoformat()), kwh(opening)),
        Reading(closing_at, kwh(closing)),
    ]
    return postpaid_bill(parse_tariff(tariff), period, readings, tz=TZ).total_minor


@dataclass
class Crash:
    write: int  # the job's n-th DynamoDB write (1-based)
    when: str  # "before" it is sent | "after" DynamoDB applied it (the answer is lost)
    seen: int = 0
    fired: bool = False


class InjectedCrashError(Exception):
    """The process died at the chosen write."""


@contextmanager
def crash_at(crash: Crash) -> Iterator[Crash]:
    """Every DynamoDB write request of this process is counted; the chosen one raises
    before it is sent or after its answer came back."""
    original = botocore.client.BaseClient._make_api_call

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation not in WRITES or client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        crash.seen += 1
        hit = crash.seen == crash.write and not crash.fired
        if hit and crash.when == "before":
            crash.fired = True
            raise InjectedCrashError(f"before write {crash.write} ({operation})")
        answer = original(client, operation, params)
        if hit and crash.when == "after":
            crash.fired = True
            raise InjectedCrashError(f"after write {crash.write} ({operation})")
        return answer

    botocore.client.BaseClient._make_api_call = call  # type: ignore[method-assign]
    try:
        yield crash
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
