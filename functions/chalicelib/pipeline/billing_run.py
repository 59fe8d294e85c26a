"""Postpaid bills at period end, fanned out one invocation per property (docs/pipeline.md).

A property bills each postpaid unit for every period completed since the account's last
bill (``bill_periods.py``), oldest first, each on its own closing reading
(``bill_closing.py``: actual, interpolated or estimated) from valid readings only
(``bill_readings.py``). The bill, its ledger entries and the account's cursor move are
one transaction (``SettlementStore.settle_bill``): a crash anywhere leaves the whole bill
or nothing of it, and the next run carries on from the last bill. A unit whose next bill
cannot be made safely is held (``BillHeldError``): its later periods wait behind it, the
reason is returned and logged, and staff are told when it needs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..data.bills import BillStore
from ..data.catalogue import Catalogue
from ..data.errors import (
    AccountClosedError,
    BillChargeWithoutBillError,
    CurrencyMismatchError,
    CursorMovedError,
    LedgerEntryConflictError,
)
from ..data.held_readings import HELD, HeldReadings
from ..data.ledger_store import LedgerStore
from ..data.settlement_store import Cursor, SettlementStore
from ..data.telemetry_store import TelemetryStore
from ..domain import (
    BillingPeriod,
    BillLine,
    Closing,
    ClosingKind,
    InvalidBillError,
    Reading,
    TouTariff,
    kwh,
    over_estimate_credit,
    postpaid_bill,
)
from ..domain.calendar import local_midnight
from ..domain.cycle_pricing import plan_cycle
from ..domain.cycles import BillingCycle
from ..domain.tariff_versions import TariffTimeline, is_timeline_document
from ..observability import logger
from .alerts import Alert, Notifier
from .bill_closing import MeterAt, find_closing, on_register
from .bill_cursor import Opening, cursor_after, next_opening, opening_of
from .bill_exchanges import Swap, swaps_in, swaps_of
from .bill_making import entries_of, estimated_bill, estimated_from, record_of
from .bill_periods import BILL_GRACE, due_periods, last_completed_month
from .bill_readings import CLOSING_WINDOW, BillReadings
from .charging import AnyTariff, local_day
from .context import BusDirectory
from .errors import (
    BillConflictError,
    BillCursorBehindError,
    BillHeldError,
    ExchangeInEstimateError,
    NoTariffError,
    ReadingsUnderReviewError,
    RegisterBackwardsError,
)

# Held readings looked at before a period end: a run longer than this is held anyway.
REVIEW_LOOK_BACK = 50

__all__ = ["BillingRun", "PropertyBilling", "lambda_dispatcher", "last_completed_month", "utc"]


@dataclass(frozen=True)
class PropertyBilling:
    billed: list[str]  # units with a bill issued by this run
    skipped: list[str]  # postpaid units with none (up to date, or held)
    bills: list[str] = field(default_factory=list)  # "<account>:<period start>", as issued
    held: dict[str, str] = field(default_factory=dict)  # unit -> why its next bill waits


@dataclass(frozen=True)
class _Unit:
    """A postpaid unit as the run bills it."""

    company_id: str
    unit_id: str
    account_id: str
    tz: str
    gateway_id: str
    meter_id: str
    tariff: AnyTariff  # the version in force today
    tariff_document: dict[str, Any]
    timeline: TariffTimeline
    cycle: BillingCycle
    move_in: date
    tenancy_opening: Reading
    swaps: tuple[Swap, ...]  # recorded meter exchanges, oldest first


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
        notifier: Notifier | None = None,
        held: HeldReadings | None = None,
        grace: timedelta = BILL_GRACE,
    ) -> None:
        self._catalogue = catalogue
        self._bills = bills or BillStore()  # stateless, like the catalogue
        self._buses = buses
        self._telemetry = telemetry
        self._ledger = ledger
        self._settlements = settlements
        self._dispatch = dispatch
        self._notifier = notifier
        self._held = held or HeldReadings()
        self._grace = grace

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
        readings = BillReadings(self._telemetry, company_id, now)
        result = PropertyBilling([], [])
        for unit in self._catalogue.list_units_of_property(company_id, property_id):
            if unit.billing_mode != "postpaid" or not unit.account_id or not unit.meter_id:
                continue
            issued, held = self._bill_unit(company_id, prop.time_zone, unit.unit_id, readings, now)
            result.bills.extend(issued)
            (result.billed if issued else result.skipped).append(unit.unit_id)
            if held is not None:
                result.held[unit.unit_id] = held
        return result

    def _bill_unit(
        self, company_id: str, tz: str, unit_id: str, readings: BillReadings, now: datetime
    ) -> tuple[list[str], str | None]:
        """Bill the unit's completed periods in order: (bills issued, why it stopped early)."""
        try:
            target = self._unit(company_id, tz, unit_id)
        except BillHeldError as held:
            return [], held.reason
        account = self._ledger.get_account(company_id, target.account_id)
        opening = opening_of(
            account.settled_kwh, account.settled_at, account.usage, target.tenancy_opening
        )
        expected_at = account.settled_at
        latest = self._bills.latest(company_id, target.account_id)
        if latest is not None:
            first_day = date.fromisoformat(str(latest.period_end))
        elif expected_at is not None:
            first_day = local_day(expected_at, tz)  # settled before it was postpaid
        else:
            first_day = target.move_in
        issued: list[str] = []
        periods = due_periods(
            first_day, now, tz, self._grace, cycle=target.cycle, continues=latest is not None
        )
        for period in periods:
            try:
                if latest is not None and (account.usage or {}).get("bill") != latest.period_start:
                    raise BillCursorBehindError(f"last bill {latest.period_start}")
                cursor = self._bill_period(target, period, opening, expected_at, readings)
            except BillHeldError as held:
                self._hold(target, period, held)
                return issued, held.reason
            except CursorMovedError as moved:
                # Closed by a move-out, or moved by a run racing this one: it carries on.
                logger.info("bill of %s %s not made: %s", unit_id, period, moved)
                closed = isinstance(moved, AccountClosedError)
                return issued, "account_closed" if closed else "cursor_moved"
            if cursor is None:
                return issued, None  # a concurrent run issued this period: it has the rest
            issued.append(f"{target.account_id}:{period.start.isoformat()}")
            opening, expected_at, latest = next_opening(cursor), cursor.at, None
        return issued, None

    def _unit(self, company_id: str, tz: str, unit_id: str) -> _Unit:
        unit = self._catalogue.get_unit(company_id, unit_id)
        meter = self._catalogue.get_meter(company_id, str(unit.meter_id))
        meter_ctx = self._buses.load(company_id, meter.gateway_id).meters[meter.meter_id]
        tenancy, tariff, timeline = meter_ctx.tenancy, meter_ctx.tariff, meter_ctx.timeline
        if tenancy is None or tariff is None or timeline is None:
            raise NoTariffError(f"unit {unit_id}")
        if tenancy.account_id != unit.account_id:
            raise NoTariffError(f"unit {unit_id}")
        move_in = date.fromisoformat(str(tenancy.starts_on))
        return _Unit(
            company_id,
            unit_id,
            str(unit.account_id),
            tz,
            meter.gateway_id,
            meter.meter_id,
            tariff,
            json.loads(json.dumps(unit.tariff, default=str)),
            timeline,
            meter_ctx.cycle,
            move_in,
            Reading(local_midnight(move_in, tz), kwh(str(tenancy.opening_kwh))),
            swaps_of(meter_ctx.meter.anchors),
        )

    def _bill_period(
        self,
        target: _Unit,
        period: BillingPeriod,
        opening: Opening,
        expected_at: datetime | None,
        readings: BillReadings,
    ) -> Cursor | None:
        """Issue one period's bill; the cursor it moved to, or None if it existed already."""
        # Readings from the first occupied day, not the cycle's first: a cycle that began
        # before the move-in is older than the cycles kept for the exact shape (issue 14).
        billed = period.clip(target.move_in, None)
        start_at = local_midnight(billed.start, target.tz) - CLOSING_WINDOW
        where = MeterAt(
            target.gateway_id,
            target.meter_id,
            start_at,
            local_midnight(period.end, target.tz),
            target.tenancy_opening.at,
        )
        swaps = swaps_in(target.swaps, opening.anchor.at, where.end)
        if swaps and opening.estimated and swaps[0].at <= opening.reading.at:
            raise ExchangeInEstimateError(
                f"{target.meter_id}: exchanged at {swaps[0].at.isoformat()}, inside an estimate"
            )
        # The register the period closes on: the last new meter's, after an exchange.
        register = Opening(swaps[-1].new_opening) if swaps else opening
        closing = find_closing(readings, on_register(where, swaps), register)
        self._await_review(target, readings, where, closing)
        # What the opening's register ended on: its final reading, if it was exchanged.
        first_end = Closing(swaps[0].old_final, ClosingKind.ACTUAL) if swaps else closing
        shaped = _needs_shape(target, period, billed)
        between = self._between(target, readings, where, opening, first_end, shaped)
        if opening.estimated and any(
            r.cumulative_kwh > first_end.reading.cumulative_kwh for r in between
        ):
            # Above the closing, then down to it: a reset after an estimate, not an over-estimate.
            raise RegisterBackwardsError(f"{target.meter_id}: register went down to the closing")
        priced_from = opening.reading
        over = opening.reading.cumulative_kwh - first_end.reading.cumulative_kwh
        if opening.estimated and over > 0:
            # Over-estimated: nothing is consumed this period before the correction.
            priced_from = Reading(opening.reading.at, first_end.reading.cumulative_kwh)
        priced = [priced_from, *between]
        for index, swap in enumerate(swaps):
            then = swaps[index + 1] if index + 1 < len(swaps) else None
            ends = Closing(then.old_final, ClosingKind.ACTUAL) if then is not None else closing
            segment = self._between(
                target, readings, where, Opening(swap.new_opening), ends, shaped
            )
            priced.extend([swap.old_final, swap.new_opening, *segment])
        bill = postpaid_bill(
            target.timeline,
            period,
            [*priced, closing.reading],
            tz=target.tz,
            move_in=target.move_in if period.contains(target.move_in) else None,
            closing_kind=closing.kind,
        )
        credit = self._credit(target, opening, over) if opening.estimated and over > 0 else ()
        entries = entries_of(target.account_id, target.meter_id, bill, credit, where.end)
        record = record_of(bill, credit, opening, closing, _charged_by(target, period), entries)
        cursor = cursor_after(period.start.isoformat(), closing, register)
        try:
            written = self._settlements.settle_bill(
                target.company_id, target.account_id, expected_at, cursor, record, entries
            )
        except (BillChargeWithoutBillError, LedgerEntryConflictError, CurrencyMismatchError) as exc:
            raise BillConflictError(str(exc)) from exc
        return cursor if written else None

    def _await_review(
        self, target: _Unit, readings: BillReadings, where: MeterAt, closing: Closing
    ) -> None:
        """Held readings after the last real reading a closing rests on, with no valid
        reading after the period end to prove the register carried on: a reset or swap
        staff have not decided yet, so the energy to the period end is not known. (After
        an interpolated closing, the valid reading past the end settles it.)"""
        if closing.kind is ClosingKind.INTERPOLATED:
            return
        last_real = closing.base if closing.estimated else closing.reading
        if last_real is None:
            return
        pending = [
            item.read_at
            for item in self._held.of_meter(
                target.company_id, target.meter_id, limit=REVIEW_LOOK_BACK, before=where.end
            )
            if item.status == HELD and item.read_at > last_real.at
        ]
        if not pending:
            return
        after = readings.first_after(where.gateway_id, where.meter_id, where.end)
        if closing.kind is ClosingKind.ACTUAL and after is not None:
            return
        raise ReadingsUnderReviewError(
            f"{target.meter_id}: {len(pending)} held reading(s) from "
            f"{min(pending).isoformat()} await review"
        )

    def _between(
        self,
        target: _Unit,
        readings: BillReadings,
        where: MeterAt,
        opening: Opening,
        closing: Closing,
        shaped: bool,
    ) -> list[Reading]:
        """The valid readings priced between opening and closing. ``shaped``: the bill
        splits energy by time (time-of-use bands, or a version or season change inside
        the billed days), so every stored reading is used while the cycles are kept; the
        15-minute buckets otherwise (for flat and tiered they also prove no reset lost
        energy), which place energy at bucket ends and hold none between readings further
        apart than a bucket."""
        found = None
        if shaped:
            found = readings.exact(where.gateway_id, where.meter_id, where.start, where.end)
        if found is None:
            found = readings.from_buckets(
                where.gateway_id,
                where.meter_id,
                opening.anchor,
                closing.reading,
                (where.start, where.end),
            )
        low, high = opening.reading, closing.reading
        kept = [
            r
            for r in found
            if low.at < r.at < high.at
            and (not opening.estimated or r.cumulative_kwh >= low.cumulative_kwh)
        ]
        start = estimated_from(closing, opening)
        if start is not None and start is not low:
            # An estimate extends a real reading: price its made-up part from exactly there.
            kept = [r for r in kept if r.at < start.at] + [start]
        return kept

    def _credit(self, target: _Unit, opening: Opening, over: Decimal) -> tuple[BillLine, ...]:
        estimated = [
            estimated_bill(
                self._bills.get(target.company_id, target.account_id, start, consistent=True)
            )
            for start in reversed(opening.estimates)
        ]
        try:
            return over_estimate_credit(over, estimated, target.tz)
        except InvalidBillError as exc:
            raise RegisterBackwardsError(str(exc)) from exc

    def _hold(self, target: _Unit, period: BillingPeriod, held: BillHeldError) -> None:
        logger.warning(
            "bill of unit %s for %s held: %s (%s)", target.unit_id, period, held.reason, held
        )
        if self._notifier is None or not held.tell_staff:
            return
        # Keyed by the period's end: one alert per unit and period, however many runs wait.
        self._notifier.notify(
            Alert(
                target.company_id,
                "bill_held",
                f"unit:{target.unit_id}",
                local_midnight(period.end, target.tz),
                "staff",
                None,
                {"period": period.start.isoformat(), "reason": held.reason, "detail": str(held)},
            )
        )


def _needs_shape(target: _Unit, period: BillingPeriod, billed: BillingPeriod) -> bool:
    """Whether the bill splits energy by time: time-of-use, or more than one span (a
    tariff version or season change) in the billed days."""
    if any(isinstance(v.tariff, TouTariff) for v in target.timeline.versions):
        return True
    return len(plan_cycle(target.timeline, period, billed, target.tz).spans) > 1


def _charged_by(target: _Unit, period: BillingPeriod) -> dict[str, Any]:
    """The tariff document a bill keeps (a later true-up prices with it): the unit's own
    document, or for a timeline the version in force on the period's last day."""
    if not is_timeline_document(target.tariff_document):
        return target.tariff_document
    last_day = period.end - timedelta(days=1)
    first = target.timeline.versions[0]
    version = first if last_day < first.effective_from else target.timeline.version_on(last_day)
    return version.tariff.model_dump(mode="json")


def lambda_dispatcher(lambda_client: Any, function_name: str) -> Callable[[dict[str, Any]], None]:
    def dispatch(job: dict[str, Any]) -> None:
        lambda_client.invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(job).encode()
        )

    return dispatch


def utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
