"""Services the portal and API call: top-up, and manual disconnect/restore.

Both end the same way as ingest: re-apply the policy to the meter and write
its shadow if the desired state changed. The gateway's control state is
versioned; a concurrent ingest makes us re-read and plan again (bounded), and
the shadow, the command and the messages follow only the plan that was stored
(pipeline/contention.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from ..data import keys
from ..data.audit import AuditLog, audit_event
from ..data.catalogue import Catalogue
from ..data.control_state import MeterControlState
from ..data.errors import LedgerEntryConflictError, NotFoundError
from ..data.ledger_store import LedgerStore
from ..data.receipts import REF as RECEIPT_REF
from ..data.receipts import ReceiptNumbers
from ..data.telemetry_store import TelemetryStore
from ..domain import EntryKind, LedgerEntry, Money
from ..domain.text_rules import has_refused_characters
from .alerts import Alert, Notifier
from .contention import MeterChange, update_meter_state
from .context import BusContext, BusDirectory, MeterContext
from .control import Controller, ControlOutcome, new_command_id
from .errors import (
    InvalidManualEndError,
    InvalidTopUpError,
    ManualReasonRequiredError,
    NoAccountError,
)
from .settler import Settler
from .unsettled import unsettled_readings

MAX_STATE_ATTEMPTS = 6
MAX_TOP_UP_MINOR = 10**9
MAX_REASON_CHARS = 500
# "On until": never indefinitely. A chosen end within a month; "until the next top-up"
# ends at the top-up or, failing one, a week later (the gateway knows no top-ups offline).
MAX_ON_UNTIL = timedelta(days=31)
ON_UNTIL_TOPUP_BACKSTOP = timedelta(days=7)
# The audit action and the tenant's alert of each manual change.
MANUAL_TOPICS = {"off": "manual_disconnect", "on": "manual_restore", None: "manual_auto"}
MAX_TOP_UP_NOTE_CHARS = 200


def clean_top_up_note(note: str | None) -> str | None:
    """A top-up note as stored: stripped, at most 200 characters, printable; None if empty."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidTopUpError("note must be text")
    note = note.strip()
    if len(note) > MAX_TOP_UP_NOTE_CHARS:
        raise InvalidTopUpError(f"note longer than {MAX_TOP_UP_NOTE_CHARS} characters")
    if has_refused_characters(note):  # receipts, CSV exports, the tenant's page
        raise InvalidTopUpError("note has control characters, line breaks or bidi controls")
    return note or None


def top_up_memo(note: str | None, actor: str) -> str:
    return note if note else f"top-up by {actor}"


@dataclass(frozen=True)
class TopUpResult:
    entry_id: str
    applied: bool  # False: this client key was already used (a replay)
    balance_minor: int
    power: str
    command_id: str | None


@dataclass(frozen=True)
class ManualResult:
    power: str
    reason: str
    command_id: str | None


class MeterControlService:
    def __init__(
        self,
        catalogue: Catalogue,
        buses: BusDirectory,
        telemetry: TelemetryStore,
        ledger: LedgerStore,
        settler: Settler,
        controller: Controller,
        notifier: Notifier,
        audit: AuditLog | None = None,
        receipts: ReceiptNumbers | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._audit = audit or AuditLog()  # stateless, like the catalogue
        self._receipts = receipts or ReceiptNumbers()
        self._buses = buses
        self._telemetry = telemetry
        self._ledger = ledger
        self._settler = settler
        self._controller = controller
        self._notifier = notifier

    # --- top-up ---

    def top_up(
        self,
        company_id: str,
        unit_id: str,
        amount_minor: int,
        client_key: str,
        actor: str,
        now: datetime | None = None,
        memo: str | None = None,
    ) -> TopUpResult:
        """Credit the unit's account once per client key, then re-apply the policy.

        ``memo``: the person's note (<= 200 characters, no control characters), stored
        as the entry's memo and shown on the receipt; without one the memo names the
        actor. The same key with another amount or another note is refused."""
        now = now or datetime.now(UTC)
        note = clean_top_up_note(memo)
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
            raise InvalidTopUpError("amount_minor must be an integer")
        if not 0 < amount_minor <= MAX_TOP_UP_MINOR:
            raise InvalidTopUpError(f"amount_minor must be in 1..{MAX_TOP_UP_MINOR}")
        bus, meter_ctx = self._buses.fresh_for_unit(company_id, unit_id)
        if not meter_ctx.account_id or meter_ctx.tariff is None:
            raise NoAccountError(f"unit {unit_id} has no current tenancy account")
        entry_id = f"topup:{keys.check_id(client_key, 'client_key')}"
        currency = meter_ctx.tariff.currency
        applied = self._append_top_up(
            company_id, meter_ctx.account_id, entry_id, amount_minor, currency, actor, now, note
        )
        outcome = self._reapply(
            bus,
            meter_ctx,
            now,
            actor="top-up",
            note=f"{entry_id} by {actor}",
            settle=True,
            mutate=_end_on_until_top_up,
        )
        balance = self._ledger.balance_minor(company_id, meter_ctx.account_id)
        # Low-credit alerts of the thresholds the credit is now above have cleared.
        self._notifier.resolve_any(
            company_id,
            [
                ("low_credit", f"unit:{unit_id}:{t.amount_minor}")
                for t in bus.thresholds(currency, meter_ctx.unit)
                if balance > t.amount_minor
            ],
            now,
        )
        return TopUpResult(entry_id, applied, balance, outcome.decision.power, outcome.command_id)

    def _append_top_up(
        self,
        company_id: str,
        account_id: str,
        entry_id: str,
        amount_minor: int,
        currency: str,
        actor: str,
        now: datetime,
        note: str | None = None,
    ) -> bool:
        try:
            existing = self._ledger.get_entry(company_id, account_id, entry_id)
        except NotFoundError:
            existing = None
        if existing is None:
            # a number people can quote on the receipt, per company (data/receipts.py)
            number = self._receipts.next(company_id)
            entry = LedgerEntry(
                entry_id,
                account_id,
                EntryKind.TOP_UP,
                Money(amount_minor, currency),
                now,
                memo=top_up_memo(note, actor),
                refs={"actor": actor, RECEIPT_REF: str(number)},
            )
            try:
                return self._ledger.append(company_id, entry).applied
            except LedgerEntryConflictError:
                existing = self._ledger.get_entry(company_id, account_id, entry_id)
        # A retry of the same request carries a new time; same key and amount = replay.
        if int(existing.amount_minor) != amount_minor or existing.currency != currency:
            raise InvalidTopUpError(f"client key {entry_id} was used for another amount")
        # The fingerprint covers the time too, so a replay is recognised by content: the
        # note is content (the memo), the actor of a retry may differ without a note.
        first_actor = str((existing.refs or {}).get("actor", actor))
        if (existing.memo or "") != top_up_memo(note, first_actor):
            raise InvalidTopUpError(f"client key {entry_id} was used with another note")
        return False

    # --- manual disconnect / restore ---

    def set_manual(
        self,
        company_id: str,
        unit_id: str,
        power: Literal["off", "on"] | None,
        reason: str,
        actor_sub: str,
        now: datetime | None = None,
        *,
        until: datetime | None = None,
        until_topup: bool = False,
    ) -> ManualResult:
        """``off``: disconnect; ``on``: on *until* a time or the next top-up (never
        indefinitely: the next top-up has a backstop of ``MAX_ON_UNTIL``); None: back to
        the policy. Reason required; who, why and until when are stored with it."""
        now = now or datetime.now(UTC)
        if not isinstance(reason, str) or not reason.strip():
            raise ManualReasonRequiredError("a manual disconnect or restore needs a reason")
        reason = reason.strip()[:MAX_REASON_CHARS]
        if power not in {"on", "off", None}:
            raise ValueError(f"power must be 'on', 'off' or None, not {power!r}")
        until = _manual_end(power, until, until_topup, now)
        bus, meter_ctx = self._buses.fresh_for_unit(company_id, unit_id)
        actor = f"user:{actor_sub}"

        def mutate(mstate: MeterControlState) -> MeterControlState:
            # A manual change is always a new command, even if the relay is already there.
            if power is None:
                return replace(mstate.automatic(), reason=None)
            return replace(
                mstate,
                manual=power,
                manual_until=until,
                manual_until_topup=power == "on" and until_topup,
                manual_by=actor,
                manual_note=reason,
                manual_at=now,
                reason=None,
            )

        outcome = self._reapply(
            bus, meter_ctx, now, actor=actor, note=reason, mutate=mutate, announce=False
        )
        ends = {"until": until.isoformat() if until else None, "until_topup": until_topup}
        self._audit.record(
            audit_event(
                company_id,
                outcome.command_id or new_command_id(now),
                actor,
                MANUAL_TOPICS[power],
                f"unit:{unit_id}",
                {"reason": reason, "power": outcome.decision.power, "override": power, **ends},
                now,
            )
        )
        self._notifier.notify(
            Alert(
                company_id,
                MANUAL_TOPICS[power],
                f"unit:{unit_id}",
                now,
                "tenant",
                meter_ctx.tenancy.tenant_sub if meter_ctx.tenancy else None,
                {
                    "reason": reason,
                    "power": outcome.decision.power,
                    "mode": power or "auto",
                    **ends,
                },
            )
        )
        return ManualResult(outcome.decision.power, outcome.decision.reason, outcome.command_id)

    # --- shared ---

    def _reapply(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        now: datetime,
        *,
        actor: str,
        note: str | None,
        mutate: Callable[[MeterControlState], MeterControlState] | None = None,
        announce: bool = True,
        settle: bool = False,
    ) -> ControlOutcome:
        """Plan the meter's control step against a fresh read of its state; the shadow
        write, the command record and the tenant's message follow the stored state."""

        def change(mstate: MeterControlState) -> MeterChange[ControlOutcome]:
            if mutate:
                mstate = mutate(mstate)
            alerts: tuple[Alert, ...] = ()
            if meter_ctx.prepaid:
                mstate = self._settler.refresh(bus, meter_ctx, mstate)
                if settle:
                    mstate, alerts = self._settle_unsettled(bus, meter_ctx, mstate, now)
            control = self._controller.plan(
                bus, meter_ctx, mstate, now, actor=actor, note=note, announce=announce
            )
            return MeterChange(control.state, control.outcome, control.effects, alerts)

        outcome = update_meter_state(
            self._telemetry,
            bus,
            meter_ctx.meter.meter_id,
            now,
            change,
            MAX_STATE_ATTEMPTS,
            self._controller.perform,
        )
        assert outcome is not None  # the control step always answers
        return outcome

    def _settle_unsettled(
        self, bus: BusContext, meter_ctx: MeterContext, mstate: MeterControlState, now: datetime
    ) -> tuple[MeterControlState, tuple[Alert, ...]]:
        """Charge what the meter used since the cursor before weighing a top-up: otherwise the
        policy compares the credit with a stale balance and hands the gateway a cutoff the
        meter has already passed (the relay stays open, or closes for one cycle)."""
        if meter_ctx.tariff is None or mstate.settled_at is None:
            return mstate, ()
        readings = unsettled_readings(self._telemetry, bus, meter_ctx, mstate.settled_at, now)
        if not readings:
            return mstate, ()
        mstate, settled = self._settler.settle(bus, meter_ctx, mstate, readings)
        return mstate, settled.alerts if settled else ()


def _manual_end(
    power: str | None, until: datetime | None, until_topup: bool, now: datetime
) -> datetime | None:
    """When a manual 'on' ends (None for 'off' and automatic): a time after now and
    within ``MAX_ON_UNTIL``, or the next top-up with its backstop."""
    if power != "on":
        if until is not None or until_topup:
            raise InvalidManualEndError("only a manual 'on' has an end")
        return None
    if until_topup:
        if until is not None:
            raise InvalidManualEndError("end at a time or at the next top-up, not both")
        return now + ON_UNTIL_TOPUP_BACKSTOP
    if until is None:
        raise InvalidManualEndError("a manual 'on' needs an end: a time or the next top-up")
    if until.utcoffset() is None:
        raise InvalidManualEndError("the end must carry its time zone")
    if not now < until <= now + MAX_ON_UNTIL:
        raise InvalidManualEndError(
            f"the end must be after now and within {MAX_ON_UNTIL.days} days"
        )
    return until


def _end_on_until_top_up(mstate: MeterControlState) -> MeterControlState:
    """A top-up ends an 'on until the next top-up': the credit decides again."""
    return mstate.automatic() if mstate.manual == "on" and mstate.manual_until_topup else mstate
