"""Settle consumption into the ledger: on the hour, on a threshold, on demand.

Not per reading: a meter is settled when its latest reading is in a later
settlement period (``settlement_period_h``, aligned on UTC) than the cursor, when the unsettled charge would take the
balance across a low-credit threshold, zero or the emergency allowance
(threshold), and whenever a top-up or a bill asks (on demand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..data.errors import CursorMovedError
from ..data.ledger_store import LedgerStore
from ..data.settlement_store import Cursor, SettlementStore
from ..domain import EntryKind, LedgerEntry, Money, Reading, format_kwh, low_credit_alerts
from ..domain.calendar import local_midnight
from .alerts import Alert, Notifier
from .charging import SettlementPlan, plan_settlement
from .context import BusContext, MeterContext
from .control import MeterState, from_ms, ms


@dataclass(frozen=True)
class Settled:
    plan: SettlementPlan
    balance_minor: int
    applied: bool


def period_index(at: datetime, period_h: float) -> int:
    # Whole seconds, so a fractional period (e.g. 10 s as 1/360 h) has exact boundaries.
    period_s = max(1, round(period_h * 3600))
    return int(at.astimezone(UTC).timestamp() // period_s)


class Settler:
    def __init__(
        self,
        ledger: LedgerStore,
        settlements: SettlementStore,
        notifier: Notifier,
        period_h: float = 6,
    ) -> None:
        self._period_h = period_h
        self._ledger = ledger
        self._settlements = settlements
        self._notifier = notifier

    def ensure_cursor(self, bus: BusContext, ctx: MeterContext, state: MeterState) -> None:
        if ctx.prepaid and not (state.get("acc") == ctx.account_id and "sa" in state):
            self.refresh(bus, ctx, state)

    def refresh(self, bus: BusContext, ctx: MeterContext, state: MeterState) -> None:
        """Reload the cursor and balance snapshot from the account (the authority)."""
        assert ctx.tenancy is not None and ctx.account_id is not None
        account = self._ledger.get_account(bus.company_id, ctx.account_id)
        state.update(acc=ctx.account_id, bal=int(account.balance_minor))
        if account.closed_at is not None:
            state["x"] = 1  # moved out: the catalogue we hold is stale, settle nothing
        else:
            state.pop("x", None)
        if account.settled_at is None:
            # Never settled: consumption counts from the tenancy's opening reading.
            start = local_midnight(date.fromisoformat(ctx.tenancy.starts_on), bus.tz)
            state.update(sk=str(ctx.tenancy.opening_kwh), sa=ms(start), use=None, new=1)
        else:
            state.update(sk=str(account.settled_kwh), sa=ms(account.settled_at), use=account.usage)
            state.pop("new", None)

    def due(self, bus: BusContext, ctx: MeterContext, state: MeterState, reading: Reading) -> bool:
        cursor = Reading(from_ms(int(state["sa"])), state["sk"])
        if reading.at <= cursor.at or ctx.tariff is None or state.get("x"):
            return False
        later_period = period_index(reading.at, self._period_h) > period_index(
            cursor.at, self._period_h
        )
        if later_period or reading.cumulative_kwh < cursor.cumulative_kwh:
            return True
        plan = plan_settlement(ctx.tariff, bus.tz, cursor, state.get("use"), [reading])
        before = int(state.get("bal", 0))
        after = before - plan.charge.amount_minor
        currency = ctx.tariff.currency
        levels = [t.amount_minor for t in bus.thresholds(currency, ctx.unit)]
        levels += [0, -bus.allowance(currency).amount_minor]
        return any(before > level >= after for level in levels)

    def settle(
        self,
        bus: BusContext,
        ctx: MeterContext,
        state: MeterState,
        readings: Sequence[Reading],
    ) -> Settled | None:
        """Charge the readings after the cursor; None if another writer moved it first."""
        assert ctx.tariff is not None and ctx.account_id is not None
        meter_id = ctx.meter.meter_id
        cursor = Reading(from_ms(int(state["sa"])), state["sk"])
        plan = plan_settlement(ctx.tariff, bus.tz, cursor, state.get("use"), readings)
        if plan.end.at <= cursor.at:
            return None
        entry = None
        if plan.charge.amount_minor > 0:
            entry = LedgerEntry(
                entry_id=f"cons:{meter_id}:{ms(cursor.at)}:{ms(plan.end.at)}",
                account_id=ctx.account_id,
                kind=EntryKind.CONSUMPTION_CHARGE,
                amount=Money(-plan.charge.amount_minor, plan.charge.currency),
                occurred_at=plan.end.at,
                memo=f"{format_kwh(plan.energy_kwh)} kWh",
                refs={
                    "meter": meter_id,
                    "from_kwh": format_kwh(cursor.cumulative_kwh),
                    "to_kwh": format_kwh(plan.end.cumulative_kwh),
                    "tariff": ctx.tariff.tariff_id,
                },
            )
        expected = None if state.get("new") else cursor.at
        new_cursor = Cursor(format_kwh(plan.end.cumulative_kwh), plan.end.at, plan.usage)
        try:
            applied = self._settlements.settle(
                bus.company_id, ctx.account_id, expected, new_cursor, entry
            )
        except CursorMovedError:
            self.refresh(bus, ctx, state)
            return None
        balance = int(self._ledger.get_account(bus.company_id, ctx.account_id).balance_minor)
        state.update(bal=balance, sk=new_cursor.kwh, sa=ms(plan.end.at), use=plan.usage)
        state.pop("new", None)
        self._alerts(bus, ctx, plan, balance)
        return Settled(plan, balance, applied)

    def _alerts(
        self, bus: BusContext, ctx: MeterContext, plan: SettlementPlan, balance: int
    ) -> None:
        assert ctx.tariff is not None
        currency = ctx.tariff.currency
        tenant = ctx.tenancy.tenant_sub if ctx.tenancy else None
        unit_ref = f"unit:{ctx.unit.unit_id}" if ctx.unit else f"meter:{ctx.meter.meter_id}"
        before = Money(balance + plan.charge.amount_minor, currency)
        for threshold in low_credit_alerts(
            before, Money(balance, currency), bus.thresholds(currency, ctx.unit)
        ):
            self._notifier.notify(
                Alert(
                    bus.company_id,
                    "low_credit",
                    f"{unit_ref}:{threshold.amount_minor}",
                    plan.end.at,
                    "tenant",
                    tenant,
                    {
                        "balance_minor": balance,
                        "threshold_minor": threshold.amount_minor,
                        "currency": currency,
                    },
                )
            )
        if "backwards" in plan.flags:
            self._notifier.notify(
                Alert(
                    bus.company_id,
                    "reading_backwards",
                    f"meter:{ctx.meter.meter_id}",
                    plan.end.at,
                    "staff",
                    None,
                    {"reading_kwh": format_kwh(plan.end.cumulative_kwh)},
                )
            )
