"""Move-out: final reading, settlement, refund or transfer, then the tenancy closes.

The settlement is the domain's ``settle_move_out`` (pure); this module feeds it and
posts what it returns. It is written down first: the plan (inputs, figures and the
exact ledger entries) is recorded on the tenancy before any money moves, then
carried out in stages, each idempotent:

1. ``charged``: the final consumption charge is posted *and* the account's settlement
   cursor moved to the final reading in one transaction, on condition that the cursor
   is where the plan read it (``SettlementStore.settle``). If ingest settled readings
   in between, nothing was posted: the plan is dropped and made again from the new
   cursor (at most ``MAX_PLANS`` times).
2. ``closed``: the tenancy gets its end date and closing reading, and the unit no
   longer points at it (so the tenant no longer sees the unit, and ingest treats the
   meter as vacant).
3. ``done``: the refund, or the transfer out and in, appended through the ledger store.

Entry ids come from the tenancy id (``settle:<tenancy>:...``) and the entries are
rebuilt from the recorded plan, so a retry, a double submit or a resumed failure
posts nothing twice; a retry with other figures is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..auth.principal import Principal
from ..data.bus_item import BusItems
from ..data.catalogue import Catalogue
from ..data.errors import CursorMovedError, NotFoundError
from ..data.ledger_store import LedgerStore
from ..data.models import Account, Property, Tenancy, Unit
from ..data.settlement_store import Cursor, SettlementStore
from ..data.tenancies import TenancyStore
from ..domain import (
    EntryKind,
    LedgerEntry,
    Money,
    Reading,
    format_kwh,
    kwh,
    settle_move_out,
)
from ..domain.calendar import local_midnight, zone
from ..domain.tariff_versions import parse_timeline, tariff_in_force
from ..pipeline.charging import plan_settlement, tariff_position
from ..pipeline.context import cycle_of_unit
from .latest_reading import LatestReadings, StoredReading
from .move_errors import (
    FinalReadingBelowCursorError,
    FinalReadingError,
    MoveDateError,
    MoveOutConflictError,
    MoveOutContendedError,
    TenancyNotCurrentError,
    TransferTargetError,
)
from .move_requests import MoveOutRequest
from .scope import UnitScope

MAX_FINAL_AHEAD_KWH = Decimal("100.000")
MAX_PLANS = 3
# Read at move-out to re-derive the balance (pattern #18); a busier account is refused
# rather than settled on a partial sum.
MAX_LEDGER_ENTRIES_READ = 20_000
PLAN_VERSION = 1
STAGES = ("planned", "charged", "closed", "done")


@dataclass(frozen=True)
class MoveOutResult:
    tenancy: Tenancy
    plan: dict[str, Any]
    applied: bool  # False: nothing new was written (a replay, or a dry run)
    dry_run: bool


@dataclass(frozen=True)
class MoveOutForm:
    unit: Unit
    premises: Property
    tenancy: Tenancy | None
    account: Account | None
    latest: StoredReading | None
    targets: list[Unit]  # occupied units of the property that can receive a transfer


@dataclass(frozen=True)
class MoveOuts:
    _catalogue: Catalogue
    _ledger: LedgerStore
    _settlements: SettlementStore
    _tenancies: TenancyStore
    _scope: UnitScope
    _latest: LatestReadings
    _buses: BusItems

    def move_out(
        self, p: Principal, unit_id: str, req: MoveOutRequest, now: datetime
    ) -> MoveOutResult:
        unit = self._scope.visible_unit(p, unit_id)
        tenancy = self._tenancy_of(p.company_id, unit, req.tenancy_id)
        for _ in range(MAX_PLANS):
            if tenancy.move_out:
                plan = dict(tenancy.move_out)
                _check_same(plan, req)
                if req.dry_run or plan["stage"] == "done":
                    return MoveOutResult(tenancy, plan, False, req.dry_run)
            else:
                if unit.tenancy_id != tenancy.tenancy_id:
                    raise TenancyNotCurrentError("this tenancy is not the unit's current one")
                plan = self.make_plan(p, unit, tenancy, req, now)
                if req.dry_run:
                    return MoveOutResult(tenancy, plan, False, True)
                if not self._tenancies.record_move_out(
                    tenancy, plan
                ):  # a concurrent submit recorded its plan first
                    tenancy = self._catalogue.get_tenancy(p.company_id, tenancy.tenancy_id)
                    continue
            try:
                plan = self._carry_out(p.company_id, tenancy, plan)
            except CursorMovedError:
                # readings were settled after the plan read the cursor; nothing was posted
                self._tenancies.drop_move_out(tenancy)
                tenancy = self._catalogue.get_tenancy(p.company_id, tenancy.tenancy_id)
                unit = self._scope.visible_unit(p, unit_id)
                continue
            tenancy = self._catalogue.get_tenancy(p.company_id, tenancy.tenancy_id)
            return MoveOutResult(tenancy, plan, True, False)
        raise MoveOutContendedError("meter readings kept arriving while settling: try again")

    def form(self, p: Principal, unit_id: str, max_targets: int) -> MoveOutForm:
        unit = self._scope.visible_unit(p, unit_id)
        premises = self._catalogue.get_property(p.company_id, unit.property_id)
        tenancy = account = latest = None
        if unit.tenancy_id:
            tenancy = self._catalogue.get_tenancy(p.company_id, unit.tenancy_id)
            account = self._ledger.get_account(p.company_id, tenancy.account_id)
        if unit.meter_id:
            meter = self._catalogue.get_meter(p.company_id, unit.meter_id)
            latest = self._latest.of(p.company_id, meter)
        targets = [
            u
            for u in self._catalogue.list_units_of_property(
                p.company_id, unit.property_id, limit=max_targets
            )
            if u.account_id and u.unit_id != unit.unit_id
        ]
        return MoveOutForm(unit, premises, tenancy, account, latest, targets)

    def _tenancy_of(self, company_id: str, unit: Unit, tenancy_id: str) -> Tenancy:
        tenancy = self._catalogue.get_tenancy(company_id, tenancy_id)
        if tenancy.unit_id != unit.unit_id:
            raise NotFoundError("tenancy not found")
        return tenancy

    def make_plan(
        self, p: Principal, unit: Unit, tenancy: Tenancy, req: MoveOutRequest, now: datetime
    ) -> dict[str, Any]:
        premises = self._catalogue.get_property(p.company_id, unit.property_id)
        timeline = parse_timeline(unit.tariff)
        tariff = tariff_in_force(unit.tariff, req.ends_on)
        tz = premises.time_zone
        account = self._ledger.get_account(p.company_id, tenancy.account_id)
        if account.settled_at is not None and account.settled_kwh is not None:
            from_kwh, from_at = str(account.settled_kwh), account.settled_at
            usage = account.usage
        else:  # never settled: consumption counts from the opening reading (as the settler does)
            start = datetime.fromisoformat(tenancy.starts_on).date()
            from_kwh, from_at, usage = str(tenancy.opening_kwh), _midnight(start, tz), None
        final_kwh, final_source, final_read_at = self._final_reading(p, unit, req, from_kwh)
        _check_end(tenancy, req, now, tz)
        at = max(_to_ms(now), from_at + timedelta(milliseconds=1))
        to_account = self._transfer_account(p, unit, req, tariff.currency)
        last_settled = Reading(from_at, kwh(from_kwh))
        final = Reading(at, kwh(final_kwh), f"move-out:{final_source}")
        # The final energy priced on the unit's cycle with the tier bounds of the days
        # occupied: what a postpaid bill of those days would charge (docs/tariffs.md).
        move_in = date.fromisoformat(tenancy.starts_on)
        cycle = cycle_of_unit(unit, premises)
        priced = plan_settlement(
            timeline,
            tz,
            last_settled,
            usage if account.settled_at is not None else None,
            [final],
            cycle=cycle,
            move_in=move_in,
            move_out=req.ends_on if req.ends_on > move_in else None,
        )
        settlement = settle_move_out(
            tenancy_id=tenancy.tenancy_id,
            account_id=tenancy.account_id,
            account_entries=self._entries_checked(p.company_id, account),
            position=tariff_position(timeline, tz, at, usage, cycle=cycle, move_in=move_in),
            last_settled=last_settled,
            final_reading=final,
            moved_out_at=at,
            disposition=req.disposition,
            transfer_to_account_id=to_account,
            consumption=priced.charge,
        )
        return {
            "v": PLAN_VERSION,
            "stage": "planned",
            "ends_on": req.ends_on.isoformat(),
            "at": at.isoformat(),
            "disposition": req.disposition,
            "to_unit": req.transfer_to_unit_id if to_account else None,
            "to_account": to_account,
            "from_kwh": format_kwh(kwh(from_kwh)),
            "from_at": from_at.isoformat(),
            "expected_at": account.settled_at.isoformat() if account.settled_at else None,
            "final_kwh": final_kwh,
            "final_source": final_source,
            "final_read_at": final_read_at.isoformat() if final_read_at else None,
            "ends_at": _end_instant(tenancy, req.ends_on, final_read_at or at, tz),
            "tariff_id": tariff.tariff_id,
            "tariff_kind": tariff.kind,
            "currency": tariff.currency,
            "energy_kwh": format_kwh(settlement.final_energy_kwh),
            "balance_before_minor": settlement.balance_before.amount_minor,
            "remaining_minor": settlement.remaining.amount_minor,
            "flags": sorted(settlement.flags),
            "usage": priced.usage,
            "entries": [_entry_doc(e) for e in settlement.entries],
            "actor": p.email or p.user_sub,
        }

    def _final_reading(
        self, p: Principal, unit: Unit, req: MoveOutRequest, from_kwh: str
    ) -> tuple[str, str, datetime | None]:
        meter = self._catalogue.get_meter(p.company_id, unit.meter_id) if unit.meter_id else None
        latest = self._latest.of(p.company_id, meter) if meter is not None else None
        if req.final_kwh is None:
            if latest is None:
                raise FinalReadingError("the meter has no stored reading: type the final reading")
            value, source, read_at = kwh(latest.cumulative_kwh), latest.source, latest.at
        else:
            value, source, read_at = kwh(req.final_kwh), "typed", None
            if latest is not None and value - kwh(latest.cumulative_kwh) > MAX_FINAL_AHEAD_KWH:
                raise FinalReadingError(
                    f"final reading {format_kwh(value)} is more than {MAX_FINAL_AHEAD_KWH} kWh "
                    f"above the latest reading {latest.cumulative_kwh}"
                )
        if value < kwh(from_kwh):
            raise FinalReadingBelowCursorError(
                f"final reading {format_kwh(value)} is below {format_kwh(kwh(from_kwh))}, "
                "the reading the account is already charged up to"
            )
        return format_kwh(value), source, read_at

    def _transfer_account(
        self, p: Principal, unit: Unit, req: MoveOutRequest, currency: str
    ) -> str | None:
        if req.disposition != "transfer":
            return None
        target_id = req.transfer_to_unit_id
        if not target_id or target_id == unit.unit_id:
            raise TransferTargetError("choose another occupied unit to transfer the credit to")
        try:
            target = self._scope.visible_unit(p, target_id)
        except NotFoundError as exc:  # same answer for units of others and units that do not exist
            raise TransferTargetError(f"no occupied unit {target_id} that you manage") from exc
        if not target.account_id:
            raise TransferTargetError(f"unit {target_id} has no tenancy to receive the credit")
        if parse_timeline(target.tariff).currency != currency:
            raise TransferTargetError(f"unit {target_id} is billed in another currency")
        return str(target.account_id)

    def _entries_checked(self, company_id: str, account: Account) -> list[LedgerEntry]:
        """Every entry of the account (consistent), checked against the stored balance."""
        items = self._ledger.all_entries(
            company_id, account.account_id, MAX_LEDGER_ENTRIES_READ + 1
        )
        if len(items) > MAX_LEDGER_ENTRIES_READ:
            raise MoveOutContendedError("the account's ledger is too long to settle here")
        if sum(int(i.amount_minor) for i in items) != int(account.balance_minor):
            # an append in flight, or a drift reconciliation has to look at: do not pay out on it
            raise MoveOutContendedError("the account's balance is changing: try again")
        return [
            LedgerEntry(
                str(i.entry_id),
                str(i.account_id),
                EntryKind(i.entry_kind),
                Money(int(i.amount_minor), str(i.currency)),
                i.occurred_at,
                str(i.memo or ""),
                {str(k): str(v) for k, v in dict(i.refs or {}).items()},
            )
            for i in items
        ]

    def _advance(self, tenancy: Tenancy, plan: dict[str, Any], stage: str) -> dict[str, Any]:
        plan = {**plan, "stage": stage}
        self._tenancies.advance_move_out(tenancy, plan)
        return plan

    def _carry_out(self, company_id: str, tenancy: Tenancy, plan: dict[str, Any]) -> dict[str, Any]:
        entries = plan_entries(plan)
        charges = [e for e in entries if e.kind is EntryKind.CONSUMPTION_CHARGE]
        payouts = [e for e in entries if e.kind is not EntryKind.CONSUMPTION_CHARGE]
        stage = STAGES.index(plan["stage"])
        if stage < STAGES.index("charged"):
            self._charge(company_id, tenancy, plan, charges[0] if charges else None)
            plan = self._advance(tenancy, plan, "charged")
        if stage < STAGES.index("closed"):
            self._close(company_id, tenancy, plan)
            plan = self._advance(tenancy, plan, "closed")
        for entry in payouts:
            self._ledger.append(company_id, entry)  # a replay of an entry id is a no-op
        return self._advance(tenancy, plan, "done")

    def _charge(
        self, company_id: str, tenancy: Tenancy, plan: dict[str, Any], charge: LedgerEntry | None
    ) -> None:
        at = datetime.fromisoformat(plan["at"])
        expected = datetime.fromisoformat(plan["expected_at"]) if plan["expected_at"] else None
        cursor = Cursor(plan["final_kwh"], at, plan["usage"])
        try:
            self._settlements.settle(
                company_id, tenancy.account_id, expected, cursor, charge, close=True
            )
        except CursorMovedError:
            account = self._ledger.get_account(company_id, tenancy.account_id)
            if account.settled_at == at and account.settled_kwh == plan["final_kwh"]:
                return  # our own move of the cursor, by an earlier attempt
            raise

    def _close(self, company_id: str, tenancy: Tenancy, plan: dict[str, Any]) -> None:
        ends_at = plan.get("ends_at")  # absent from plans recorded before instants
        self._tenancies.close(
            company_id,
            tenancy,
            plan["ends_on"],
            plan["final_kwh"],
            datetime.fromisoformat(ends_at) if ends_at else None,
        )
        # ingest reads the bus's stored context: it must stop charging this tenancy now
        unit = self._catalogue.get_unit(company_id, str(tenancy.unit_id))
        if unit.meter_id:
            meter = self._catalogue.get_meter(company_id, str(unit.meter_id))
            self._buses.bump(company_id, str(meter.gateway_id))

    def statement(self, p: Principal, unit_id: str, tenancy_id: str) -> TenancyStatement:
        unit = self._scope.visible_unit(p, unit_id)
        tenancy = self._tenancy_of(p.company_id, unit, tenancy_id)
        premises = self._catalogue.get_property(p.company_id, unit.property_id)
        account = self._ledger.get_account(p.company_id, tenancy.account_id)
        try:
            email: str | None = str(
                self._catalogue.get_membership(p.company_id, tenancy.tenant_sub).email
            )
        except NotFoundError:
            email = None
        plan = dict(tenancy.move_out) if tenancy.move_out else None
        return TenancyStatement(unit, premises, tenancy, account, plan, email)


def _check_same(plan: dict[str, Any], req: MoveOutRequest) -> None:
    same = (
        plan["ends_on"] == req.ends_on.isoformat()
        and plan["disposition"] == req.disposition
        and plan.get("to_unit")
        == (req.transfer_to_unit_id if req.disposition == "transfer" else None)
        and (req.final_kwh is None or kwh(req.final_kwh) == kwh(plan["final_kwh"]))
    )
    if not same:
        raise MoveOutConflictError(
            f"this tenancy's move-out was already recorded (ends {plan['ends_on']}, "
            f"final reading {plan['final_kwh']} kWh, {plan['disposition']})"
        )


# --- planning (reads only) ---


def _check_end(tenancy: Tenancy, req: MoveOutRequest, now: datetime, tz: str) -> None:
    today = now.astimezone(zone(tz)).date()
    if req.ends_on > today:
        raise MoveDateError("a move-out is recorded on the day or after it, not ahead")
    if req.ends_on.isoformat() < tenancy.starts_on:
        raise MoveDateError(f"the tenancy started on {tenancy.starts_on}")


def _end_instant(tenancy: Tenancy, ends_on: date, read_at: datetime, tz: str) -> str | None:
    """When the tenancy ends (domain/tenancy_window.py): the final reading's timestamp
    (or, for a typed one, the instant staff record it) when that is on the last day,
    never before the tenancy's start; None (the end of the day) for a back-dated one."""
    if read_at.astimezone(zone(tz)).date() != ends_on:
        return None
    at = _to_ms(read_at)
    if tenancy.starts_at is not None:
        at = max(at, _to_ms(tenancy.starts_at))
    return at.isoformat()


def _entry_doc(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "account_id": entry.account_id,
        "kind": entry.kind.value,
        "amount_minor": entry.amount.amount_minor,
        "memo": entry.memo,
        "refs": dict(entry.refs),
    }


def plan_entries(plan: dict[str, Any]) -> list[LedgerEntry]:
    """The plan's entries exactly as first computed (same ids, same fingerprints)."""
    at = datetime.fromisoformat(plan["at"])
    return [
        LedgerEntry(
            d["entry_id"],
            d["account_id"],
            EntryKind(d["kind"]),
            Money(int(d["amount_minor"]), plan["currency"]),
            at,
            d["memo"],
            d["refs"],
        )
        for d in plan["entries"]
    ]


def _midnight(day: Any, tz: str) -> datetime:
    return local_midnight(day, tz).astimezone(UTC)


def _to_ms(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)


# --- the statement ---


@dataclass(frozen=True)
class TenancyStatement:
    unit: Unit
    premises: Property
    tenancy: Tenancy
    account: Account
    plan: dict[str, Any] | None  # None: the tenancy is current (an interim statement)
    tenant_email: str | None

    @property
    def from_at(self) -> datetime | None:
        return datetime.fromisoformat(self.plan["from_at"]) if self.plan else None

    @property
    def moved_out_at(self) -> datetime | None:
        return datetime.fromisoformat(self.plan["at"]) if self.plan else None

    @property
    def refund_minor(self) -> int:
        return sum(-e["amount_minor"] for e in self._entries("refund"))

    @property
    def transfer_minor(self) -> int:
        return sum(e["amount_minor"] for e in self._entries("transfer_in"))

    @property
    def charge_minor(self) -> int:
        return sum(-e["amount_minor"] for e in self._entries("consumption_charge"))

    def _entries(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in (self.plan or {}).get("entries", []) if e["kind"] == kind]
