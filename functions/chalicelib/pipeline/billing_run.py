"""Postpaid bills at period end, fanned out one invocation per property.

A property bills its postpaid units for the last calendar month completed in
its own time zone. Opening = the account's settlement cursor (or the tenancy's
opening reading); closing = the last valid reading before the period end.
The bill item and its ledger entry are keyed by the period, so a re-run is a
no-op.

Time-of-use needs the shape of the month, not only its ends. A bill prices it
from every stored reading (the cycles, read once per gateway and run), exactly
as prepaid settlement does, while the month's cycles are still kept
(``CYCLE_RETENTION``); after that, from the 15-minute buckets, which place each
bucket's energy at the bucket's end (docs/pipeline.md, "Known limits").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..data.bills import BillStore
from ..data.catalogue import Catalogue
from ..data.errors import CursorMovedError
from ..data.ledger_store import LedgerStore
from ..data.settlement_store import Cursor, SettlementStore
from ..data.telemetry_store import CYCLE_RETENTION, TelemetryStore
from ..domain import (
    BillingPeriod,
    EntryKind,
    LedgerEntry,
    Money,
    Reading,
    format_kwh,
    postpaid_bill,
)
from ..domain.calendar import local_midnight, zone
from ..domain.energy import kwh
from .buckets import readings_by_meter
from .charging import month_of
from .context import BusDirectory
from .telemetry import rows_of

CLOSING_SEARCH_CYCLES = 120  # look back at most two hours of cycles for a valid reading
# A month of one-minute cycles is 44,640; a gateway polling faster is billed from buckets.
MAX_BILL_CYCLES = 50_000
# Cycles of the whole month must still be there when the bill reads them.
EXACT_TOU_WITHIN = CYCLE_RETENTION - timedelta(days=1)


@dataclass(frozen=True)
class PropertyBilling:
    billed: list[str]
    skipped: list[str]


def last_completed_month(now: datetime, tz: str) -> BillingPeriod:
    today = now.astimezone(zone(tz)).date()
    this_month = month_of(today)
    return month_of(this_month.start - timedelta(days=1))


class BillingRun:
    def __init__(
        self,
        catalogue: Catalogue,
        buses: BusDirectory,
        telemetry: TelemetryStore,
        ledger: LedgerStore,
        settlements: SettlementStore,
        dispatch: Callable[[dict[str, Any]], None],
        bills: BillStore | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._bills = bills or BillStore()  # stateless, like the catalogue
        self._buses = buses
        self._telemetry = telemetry
        self._ledger = ledger
        self._settlements = settlements
        self._dispatch = dispatch

    def fan_out(self, now: datetime | None = None) -> int:
        """One job per property, so 10,000 units never share one invocation."""
        now = now or datetime.now(UTC)
        jobs = 0
        for company in self._catalogue.list_companies():
            for prop in self._catalogue.list_properties(company.company_id):
                self._dispatch(
                    {
                        "company_id": company.company_id,
                        "property_id": prop.property_id,
                        "now": now.isoformat(),
                    }
                )
                jobs += 1
        return jobs

    def bill_property(self, company_id: str, property_id: str, now: datetime) -> PropertyBilling:
        prop = self._catalogue.get_property(company_id, property_id)
        period = last_completed_month(now, prop.time_zone)
        month = _MonthReadings(period, prop.time_zone, now)
        billed, skipped = [], []
        for unit in self._catalogue.list_units_of_property(company_id, property_id):
            if unit.billing_mode != "postpaid" or not unit.account_id or not unit.meter_id:
                continue
            if self._bill_unit(company_id, prop.time_zone, unit.unit_id, period, month):
                billed.append(unit.unit_id)
            else:
                skipped.append(unit.unit_id)
        return PropertyBilling(billed, skipped)

    def _bill_unit(
        self,
        company_id: str,
        tz: str,
        unit_id: str,
        period: BillingPeriod,
        month: _MonthReadings,
    ) -> bool:
        unit = self._catalogue.get_unit(company_id, unit_id)
        account_id = str(unit.account_id)
        if self._bills.exists(company_id, account_id, period.start.isoformat()):
            return False  # already billed
        meter = self._catalogue.get_meter(company_id, str(unit.meter_id))
        bus = self._buses.load(company_id, meter.gateway_id)
        meter_ctx = bus.meters[meter.meter_id]
        if meter_ctx.tenancy is None or meter_ctx.tariff is None:
            return False
        end_at = local_midnight(period.end, tz)
        account = self._ledger.get_account(company_id, account_id)
        if account.settled_at is not None:
            opening = Reading(account.settled_at, kwh(str(account.settled_kwh)))
        else:
            start = local_midnight(date.fromisoformat(meter_ctx.tenancy.starts_on), tz)
            opening = Reading(start, kwh(str(meter_ctx.tenancy.opening_kwh)))
        closing = self._closing(company_id, meter.gateway_id, meter.meter_id, end_at)
        if closing is None or closing.at <= opening.at:
            return False
        between = None
        if meter_ctx.tariff.kind == "tou":
            between = self._exact_readings(company_id, meter, opening, closing, month)
        if between is None:
            between = self._bucket_readings(company_id, meter, opening, closing)
        readings = [opening, *between, closing]
        move_in = date.fromisoformat(meter_ctx.tenancy.starts_on)
        bill = postpaid_bill(
            meter_ctx.tariff,
            period,
            readings,
            tz=tz,
            move_in=move_in if period.contains(move_in) else None,
        )
        total = sum(line.amount_minor for line in bill.lines)
        self._bills.issue(
            company_id,
            account_id,
            period.start.isoformat(),
            period.end.isoformat(),
            total,
            bill.currency,
            json.loads(json.dumps([_line(line) for line in bill.lines], default=str)),
        )
        entry = None
        if total > 0:
            entry = LedgerEntry(
                f"bill:{account_id}:{period.start.isoformat()}",
                account_id,
                EntryKind.CONSUMPTION_CHARGE,
                Money(-total, bill.currency),
                end_at,
                memo=f"bill {period.start.isoformat()}..{period.end.isoformat()}",
                refs={"bill": period.start.isoformat(), "meter": meter.meter_id},
            )
        try:
            self._settlements.settle(
                company_id,
                account_id,
                account.settled_at,
                Cursor(
                    format_kwh(closing.cumulative_kwh),
                    closing.at,
                    {"bill": period.start.isoformat()},
                ),
                entry,
            )
        except CursorMovedError:
            return False
        return True

    def _closing(
        self, company_id: str, gateway_id: str, meter_id: str, end_at: datetime
    ) -> Reading | None:
        for cycle in self._telemetry.cycles_before(
            company_id, gateway_id, end_at, CLOSING_SEARCH_CYCLES
        ):
            for row in rows_of(cycle):
                usable = row.import_kwh is not None and not row.error and row.read_at < end_at
                if row.meter_id == meter_id and usable:
                    return Reading(row.read_at, row.import_kwh)  # type: ignore[arg-type]
        return None

    def _exact_readings(
        self,
        company_id: str,
        meter: Any,
        opening: Reading,
        closing: Reading,
        month: _MonthReadings,
    ) -> list[Reading] | None:
        """Every stored reading between opening and closing, or None if the month's
        cycles are no longer (or not all) there."""
        if opening.at < month.start or not month.exact_possible:
            return None
        by_meter = month.by_gateway.get(meter.gateway_id)
        if by_meter is None:
            cycles = list(
                self._telemetry.cycles_between(
                    company_id, meter.gateway_id, month.start, month.end, limit=MAX_BILL_CYCLES
                )
            )
            by_meter = (
                readings_by_meter(rows_of(c) for c in cycles)
                if len(cycles) < MAX_BILL_CYCLES
                else {}
            )
            month.by_gateway[meter.gateway_id] = by_meter
        if not by_meter:
            return None
        return [r for r in by_meter.get(meter.meter_id, []) if opening.at < r.at < closing.at]

    def _bucket_readings(
        self, company_id: str, meter: Any, opening: Reading, closing: Reading
    ) -> list[Reading]:
        """Time-of-use needs the shape of the month: cumulative readings at bucket ends."""
        cumulative = opening.cumulative_kwh
        readings = []
        for usage in self._telemetry.usage_between(
            company_id, meter.gateway_id, opening.at, closing.at
        ):
            energy = usage.energy.get(meter.meter_id)
            if energy is None:
                continue
            cumulative = kwh(cumulative + kwh(energy))
            end = usage.bucket_start + timedelta(minutes=15)
            if opening.at < end < closing.at and cumulative <= closing.cumulative_kwh:
                readings.append(Reading(end, cumulative))
        return readings


class _MonthReadings:
    """The cycles of a billing month, read at most once per gateway in one run."""

    def __init__(self, period: BillingPeriod, tz: str, now: datetime) -> None:
        self.start = local_midnight(period.start, tz)
        self.end = local_midnight(period.end, tz)
        self.exact_possible = now - self.start < EXACT_TOU_WITHIN
        self.by_gateway: dict[str, dict[str, list[Reading]]] = {}


def _line(line: Any) -> dict[str, Any]:
    return {
        "code": line.code,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "amount_minor": line.amount_minor,
        "refs": dict(line.refs),
    }


def lambda_dispatcher(lambda_client: Any, function_name: str) -> Callable[[dict[str, Any]], None]:
    def dispatch(job: dict[str, Any]) -> None:
        lambda_client.invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(job).encode()
        )

    return dispatch


def utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
