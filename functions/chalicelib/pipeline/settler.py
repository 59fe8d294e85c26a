"""Settle consumption into the ledger: on the hour, on a threshold, on demand.

Not per reading: a meter is settled when its latest reading is in a later
settlement period (``settlement_period_h``, aligned on the property's wall clock, so
with a period dividing 24 h every block ends on a local midnight and no block holds the
end of one local day and the start of the next: a cycle boundary is always a block
boundary) than the cursor, when the unsettled charge would take the
balance across a low-credit threshold, zero or the emergency allowance
(threshold), and whenever a top-up or a bill asks (on demand).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..data.control_state import (
    CANONICAL_KWH_TEXT,
    UNTIL_MARK,
    DueMark,
    MeterControlState,
    from_ms,
    ms,
)
from ..data.control_state import KWH_TEXT as _KWH_TEXT
from ..data.errors import InvalidControlStateError
from ..data.ledger_store import LedgerStore
from ..data.settlement_store import Cursor, Moved, SettlementStore, Settling
from ..domain import EntryKind, LedgerEntry, Money, Reading, format_kwh, kwh
from ..domain.calendar import local_midnight, zone
from .alerts import Alert
from .context import BusContext, MeterContext
from .memo import BoundedMemo
from .settle_due import mark_basis, meter_digest, work_out_bound, work_out_mark

# Pricing (charging.py, the tariff models) is imported by the first settlement that
# prices, not with ingest (docs/deploy.md, "Cold start").
if TYPE_CHECKING:
    from ..data.models import Account
    from .charging import SettlementPlan


@dataclass(frozen=True)
class Settled:
    plan: SettlementPlan
    balance_minor: int
    applied: bool  # False: this exact settlement was already in the ledger (a replay)
    # Low credit, reading backwards: for the caller to send once (pipeline/effects.py).
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """One meter's settlement, priced and not yet sent (``Settler.prepare``)."""

    meter_ctx: MeterContext
    state: MeterControlState
    plan: SettlementPlan
    settling: Settling


def period_index(at: datetime, period_h: float, tz: str = "UTC") -> int:
    """The settlement block holding ``at``: blocks are aligned on the wall clock of ``tz``.

    Counting local wall-clock seconds (the local time read as if it were UTC) puts block
    boundaries on local hours; in Taipei, UTC alignment ended the month's last 6-hour block
    at 02:00 on the 1st, charging the month's last hours in the next month's tiers."""
    # The zone and the block's length, made once per (period, zone); the instant itself is
    # not cached: every reading of a fleet is a new instant, and an LRU miss (hashing an
    # aware datetime, evicting) cost more than the sum below (~8 us against ~2.5, x32
    # meters a message: issue 19, CPU).
    found = _BLOCKS.get((period_h, tz))
    if found is None:
        # Whole seconds, so a fractional period (e.g. 10 s as 1/360 h) has exact boundaries.
        found = _BLOCKS[(period_h, tz)] = (
            zone(tz),
            timedelta(seconds=max(1, round(period_h * 3600))),
        )
    tzinfo, block = found
    # The wall clock as the instant plus its zone's offset then, in whole microseconds
    # (the local time relabelled UTC, without building it: ~4x cheaper).
    offset = at.astimezone(tzinfo).utcoffset()
    assert offset is not None
    return (at - _EPOCH + offset) // block


# (period_h, tz) -> the zone and the block: a container knows a few settings and zones.
_BLOCKS: dict[tuple[float, str], tuple[tzinfo, timedelta]] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CursorFacts:
    """What the steady check needs of a stored cursor (unix ms): its time, the ms
    ``mark_basis`` writes for it (``ms`` of that time, which a float round trip may put
    a millisecond off the stored value) and its settlement period."""

    at: datetime
    basis_ms: int
    period: int


def cursor_facts(cursor_ms: int, period_h: float, tz: str) -> CursorFacts:
    """``CursorFacts`` of a stored cursor, kept per container: a cursor stays put for a
    settlement period (hours) and a container meets a bus's meters again within it, so
    the steady check of 32 meters makes no datetime of its own (issue 19, CPU)."""
    key = (cursor_ms, period_h, tz)
    found = _CURSORS.get(key)
    if found is None:
        at = from_ms(cursor_ms)
        found = _CURSORS.remember(key, CursorFacts(at, ms(at), period_index(at, period_h, tz)))
    return found


MAX_CACHED_CURSORS = 65_536  # ~32 meters x 2,000 buses a container sees in a period
_CURSORS: BoundedMemo[tuple[int, float, str], CursorFacts] = BoundedMemo(MAX_CACHED_CURSORS)


def _kwh_text(text: str) -> tuple[bool, Decimal | None]:
    """A stored kWh text (a cursor's ``sk``, a mark's kWh) as (canonical, value): value
    None unless it is a kWh text (``KWH_TEXT``), canonical when it is also the text of
    that value (``CANONICAL_KWH_TEXT``). Kept per container: a meter's texts stay put for
    its settlement period, so the steady check of 32 meters matches and parses none of
    them again (~2 us a meter; issue 19, CPU)."""
    found = _TEXTS.get(text)
    if found is None:
        value = Decimal(text) if _KWH_TEXT.fullmatch(text) else None
        canonical = value is not None and CANONICAL_KWH_TEXT.fullmatch(text) is not None
        found = _TEXTS.remember(text, (canonical, value))
    return found


_TEXTS: BoundedMemo[str, tuple[bool, Decimal | None]] = BoundedMemo(MAX_CACHED_CURSORS)


def _instant(at_ms: int) -> datetime:
    """A stored mark's ``until`` (unix ms) as the time ``decode_meter`` reads, per
    container: a band edge is shared by the bus's time-of-use meters for hours."""
    found = _INSTANTS.get(at_ms)
    if found is None:
        found = _INSTANTS.remember(at_ms, from_ms(at_ms))
    return found


_INSTANTS: BoundedMemo[int, datetime] = BoundedMemo(MAX_CACHED_CURSORS)
# The bases (``mark_basis``) for which ``work_out_mark`` keeps no mark (a period that does
# not divide the day, a cursor with no millisecond before a band edge): the answer is a function of the basis, and the
# search that finds it (a tenure's band pieces) cost ~1 ms a meter on each message. A basis
# with ``UNTIL_MARK`` after it: no bound past the band edge (``work_out_bound`` None).
_UNMARKED: BoundedMemo[str, bool] = BoundedMemo(MAX_CACHED_CURSORS)


class Settler:
    """Moves an account's cursor; the meter's control state keeps a snapshot of it.

    Methods take the meter's state and answer the new one: nothing here writes the
    state item or tells anyone, so a caller may plan again after a lost state write.
    The ledger write itself is safe to repeat (``settle``)."""

    def __init__(
        self,
        ledger: LedgerStore,
        settlements: SettlementStore,
        period_h: float = 6,
    ) -> None:
        self._period_h = period_h
        self._ledger = ledger
        self._settlements = settlements
        self._message: tuple[BusContext, Mapping[str, MeterControlState]] | None = None
        self._prefetched: dict[str, Account] | None = None

    def begin(self, bus: BusContext, known: Mapping[str, MeterControlState]) -> None:
        """A message of ``bus`` is planned against the meters' states ``known``: nothing is
        read now (the steady message reads no account); the first ``ensure_cursor`` that
        must reload an account reads every account the bus's states lack, in one
        BatchGetItem (a bus's first message: 32 GetItems before, issue 19)."""
        self._message = (bus, known)
        self._prefetched = None

    def _needing_reload(self, bus: BusContext) -> dict[str, Account]:
        """The accounts of the message's meters whose state lacks its account's cursor."""
        if self._prefetched is None:
            message_bus, known = self._message or (None, {})
            wanted = []
            if message_bus is bus:
                for meter_id, meter_ctx in bus.meters.items():
                    try:
                        state = known.get(meter_id) or MeterControlState()
                    except InvalidControlStateError:
                        continue  # raised when (if) its own meter takes the full path
                    if (
                        meter_ctx.prepaid
                        and meter_ctx.account_id
                        and not _has_own_cursor(meter_ctx, state)
                    ):
                        wanted.append(meter_ctx.account_id)
            # one account alone is read as before (a tenancy that changed: no batch)
            self._prefetched = (
                self._settlements.accounts(bus.company_id, wanted) if len(wanted) > 1 else {}
            )
        return self._prefetched

    def ensure_cursor(
        self, bus: BusContext, meter_ctx: MeterContext, state: MeterControlState
    ) -> MeterControlState:
        if meter_ctx.prepaid and not _has_own_cursor(meter_ctx, state):
            assert meter_ctx.account_id is not None
            # read once for this message: taken, so a later reload reads the account again
            account = self._needing_reload(bus).pop(meter_ctx.account_id, None)
            return self.refresh(bus, meter_ctx, state, account)
        return state

    def refresh(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        state: MeterControlState,
        account: Account | None = None,
    ) -> MeterControlState:
        """Reload the cursor and balance snapshot from the account (the authority; read
        now unless ``account`` was, consistently, for this message)."""
        assert meter_ctx.tenancy is not None and meter_ctx.account_id is not None
        if account is None:
            account = self._ledger.get_account(bus.company_id, meter_ctx.account_id)
        # closed: moved out, the catalogue we hold is stale: settle nothing
        state = replace(
            state,
            account_id=meter_ctx.account_id,
            balance_minor=int(account.balance_minor),
            closed=account.closed_at is not None,
        )
        if account.settled_at is None:
            # Never settled: consumption counts from the tenancy's opening reading.
            start = local_midnight(date.fromisoformat(meter_ctx.tenancy.starts_on), bus.tz)
            return replace(
                state,
                settled_kwh=kwh(meter_ctx.tenancy.opening_kwh),
                settled_at=from_ms(ms(start)),
                tariff_position=None,
                never_settled=True,
            )
        return replace(
            state,
            settled_kwh=kwh(account.settled_kwh),
            settled_at=from_ms(ms(account.settled_at)),
            tariff_position=account.usage,
            never_settled=False,
        )

    def with_due_mark(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        state: MeterControlState,
        at: datetime | None = None,
        *,
        settled: bool = False,
    ) -> MeterControlState:
        """The state with the mark of its cursor and balance (worked out only when they,
        or the meter's context, moved since the mark was made). ``at``: the time of the
        reading it is for; past the band edge a time-of-use mark holds until, the mark
        becomes the period's bound (``work_out_bound``), once: the readings after it are
        steady again instead of each priced until the period settles (issue 19, CPU).
        ``settled``: the state is a settlement's of this context (``settle_all``'s answer),
        whose pricing the mark reuses (``work_out_mark``)."""
        if meter_ctx.tariff is None or state.settled_at is None or state.closed:
            return state
        mark, period_h = state.due, self._period_h
        basis = mark_basis(bus, meter_ctx, state, period_h)
        worked: DueMark | None
        if mark is not None and mark.basis == basis:
            if mark.until is None or at is None or at < mark.until:
                return state
            worked = mark  # the reading is past the band edge the mark held until
        elif basis in _UNMARKED:
            worked = None
        else:
            worked = work_out_mark(bus, meter_ctx, state, period_h, settled=settled)
            if worked is None:
                _UNMARKED.remember(basis, True)
        edge = basis + UNTIL_MARK
        if (
            worked is not None
            and worked.until is not None
            and at is not None
            and at >= worked.until
            and edge not in _UNMARKED
        ):
            # the period's bound instead, worked out once (None: none can be made, and
            # every reading past the edge is priced, as before)
            bound = work_out_bound(bus, meter_ctx, state, period_h)
            if bound is None:
                _UNMARKED.remember(edge, True)
            else:
                worked = bound
        if worked is mark:
            # Nothing to keep, as before: the state read stays the plan (no copy, so the
            # message writes nothing and compares no 32 records with the state read).
            return state
        return replace(state, due=worked)

    def due(
        self, bus: BusContext, meter_ctx: MeterContext, state: MeterControlState, reading: Reading
    ) -> bool:
        cursor_at = state.settled_at
        assert cursor_at is not None, "ensure_cursor first"
        if reading.at <= cursor_at or meter_ctx.tariff is None or state.closed:
            return False
        if state.settled_kwh < 0:
            _cursor(state)  # refused as a reading (the cursor is only built to price)
        tz = bus.tz
        later_period = period_index(reading.at, self._period_h, tz) > period_index(
            cursor_at, self._period_h, tz
        )
        if later_period or reading.cumulative_kwh < state.settled_kwh:
            return True
        mark = state.due
        if (
            mark is not None
            and (mark.until is None or reading.at < mark.until)
            and mark.basis == mark_basis(bus, meter_ctx, state, self._period_h)
        ):
            # worked out when the cursor or balance last moved (settle_due.py): exact
            # (past a time-of-use band edge it says nothing: priced)
            if mark.due_kwh is None or reading.cumulative_kwh < mark.due_kwh:
                return False
            if mark.exact:
                return True
        plan = _plan(bus, meter_ctx, _cursor(state), state.tariff_position, [reading])
        before = state.balance_minor
        after = before - plan.charge.amount_minor
        levels = bus.levels_minor(meter_ctx.tariff.currency, meter_ctx.unit)
        return any(before > level >= after for level in levels)

    def steady(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        stored: Mapping[str, Any],
        reading_at: datetime,
        reading_kwh: Decimal,
    ) -> bool:
        """True only if, for a prepaid meter's usable reading, ``ensure_cursor``,
        ``with_due_mark`` and ``due`` would leave its state as stored (``stored``: its
        object in the state item, short keys) and answer not due: the account is the
        context's, the cursor read, the mark made for this cursor, balance and context,
        and the reading after the cursor in its settlement period, at or above it and
        below the mark. Worked out from the stored form, so the steady message decodes
        no state (issue 19, CPU); anything else (an unexpected value included) answers
        False, and the caller takes the full path, which decides (and refuses) as ever."""
        account, cursor_ms = stored.get("acc"), stored.get("sa")
        if type(account) is not str or account != meter_ctx.account_id:
            return False  # ensure_cursor would reload the account
        if type(cursor_ms) is not int or reading_kwh < 0:
            return False
        if not meter_ctx.has_tariff or stored.get("x"):
            return True  # no mark is kept, and nothing is settled
        mark, balance, settled = stored.get("due"), stored.get("bal"), stored.get("sk")
        if (
            type(mark) is not list
            or len(mark) != 3
            or type(balance) is not int
            or type(settled) is not str
        ):
            return False
        canonical, settled_kwh = _kwh_text(settled)
        if not canonical or settled_kwh is None:
            return False
        due_kwh, basis, _exact = mark
        until_ms = None
        if type(basis) is str and UNTIL_MARK in basis:
            # a time-of-use band edge inside the period (encode_meter): at or past it the
            # reading is priced
            basis, _, until_text = basis.partition(UNTIL_MARK)
            if not (until_text.isascii() and until_text.isdigit()):
                return False
            until_ms = int(until_text)
        period_h, tz = self._period_h, bus.tz
        cursor = cursor_facts(cursor_ms, period_h, tz)
        # mark_basis's text, from the stored text itself: a canonical kWh text is the
        # text of the Decimal it parses to, so no Decimal is made for the comparison
        digest = meter_digest(bus, meter_ctx, period_h)
        if basis != f"{digest}:{balance}:{cursor.basis_ms}:{settled}":
            return False  # with_due_mark would work the mark out again
        if reading_at <= cursor.at:
            return True  # due: not after the cursor
        if settled_kwh < 0 or reading_kwh < settled_kwh:
            return False
        if period_index(reading_at, period_h, tz) > cursor.period:
            return False  # a later settlement period: due
        if until_ms is not None and reading_at >= _instant(until_ms):
            return False
        if due_kwh is None:
            return True  # no reading in the period can cross a level
        if not isinstance(due_kwh, str):
            return False
        due_at = _kwh_text(due_kwh)[1]
        return due_at is not None and reading_kwh < due_at

    def settle(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        state: MeterControlState,
        readings: Sequence[Reading],
        correction: str | None = None,
    ) -> tuple[MeterControlState, Settled | None]:
        """Charge the readings after the cursor: the meter's state after, and the
        settlement (None if there was nothing to charge, or another writer moved the
        cursor first: the state is then reloaded from the account).

        Safe to repeat with the same state (a retried attempt after a lost state write):
        the entry id is the cursor read plus the reading charged up to, so the same
        settlement meets its own entry and is a replay (``applied`` False, no charge);
        one that reaches further meets the moved cursor (``Moved``) and charges
        nothing; the energy after the account's cursor is charged by a later settlement."""
        planned = self.prepare(bus, meter_ctx, state, readings, correction)
        if planned is None:
            return state, None
        return self.settle_all(bus, [planned])[0]

    def prepare(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        state: MeterControlState,
        readings: Sequence[Reading],
        correction: str | None = None,
    ) -> Prepared | None:
        """``settle``'s pricing and entry, nothing written (None: nothing after the
        cursor to charge): a settling message prepares every meter's, then sends them
        together (``settle_all``)."""
        assert meter_ctx.tariff is not None and meter_ctx.account_id is not None
        meter_id = meter_ctx.meter.meter_id
        cursor = _cursor(state)
        plan = _plan(bus, meter_ctx, cursor, state.tariff_position, readings)
        if plan.end.at <= cursor.at:
            return None
        entry = None
        if plan.charge.amount_minor > 0:
            entry = LedgerEntry(
                entry_id=f"cons:{meter_id}:{ms(cursor.at)}:{ms(plan.end.at)}",
                account_id=meter_ctx.account_id,
                kind=EntryKind.CONSUMPTION_CHARGE,
                amount=Money(-plan.charge.amount_minor, plan.charge.currency),
                occurred_at=plan.end.at,
                # A person's correction (a meter exchange, an accepted or estimated
                # reading) is named, so the tenant's statement says why the figure is what it is.
                memo=f"{format_kwh(plan.energy_kwh)} kWh"
                + (f" ({correction})" if correction else ""),
                refs={
                    "meter": meter_id,
                    "from_kwh": format_kwh(cursor.cumulative_kwh),
                    "to_kwh": format_kwh(plan.end.cumulative_kwh),
                    "tariff": meter_ctx.tariff.tariff_id,
                    **({"versions": ",".join(plan.versions)} if plan.versions else {}),
                    **({"correction": correction} if correction else {}),
                },
            )
        # The state's balance is the account's as of its last settlement or reload: the
        # write asks for it, so the balance after needs no read (settlement_store.py).
        settling = Settling(
            meter_ctx.account_id,
            None if state.never_settled else cursor.at,
            state.balance_minor,
            Cursor(format_kwh(plan.end.cumulative_kwh), plan.end.at, plan.usage),
            entry,
        )
        return Prepared(meter_ctx, state, plan, settling)

    def settle_all(
        self, bus: BusContext, planned: Sequence[Prepared]
    ) -> list[tuple[MeterControlState, Settled | None]]:
        """Send the ``planned`` settlements of one bus together (as few transactions as
        DynamoDB allows, ``SettlementStore.settle_all``): each meter's state after, and its
        settlement, in the order given, as ``settle`` answers them one by one."""
        done = self._settlements.settle_all(bus.company_id, [p.settling for p in planned])
        answers: list[tuple[MeterControlState, Settled | None]] = []
        for one, outcome in zip(planned, done, strict=True):
            meter_ctx, state, plan = one.meter_ctx, one.state, one.plan
            if isinstance(outcome, Moved):
                # reloaded from the account as the refusal returned it (gone: read, and
                # the read says so)
                answers.append((self.refresh(bus, meter_ctx, state, outcome.account), None))
                continue
            balance = outcome.balance_minor
            state = replace(
                state,
                balance_minor=balance,
                settled_kwh=plan.end.cumulative_kwh,
                settled_at=from_ms(ms(plan.end.at)),
                tariff_position=plan.usage,
                never_settled=False,
            )
            alerts = self._alerts(bus, meter_ctx, plan, balance)
            answers.append((state, Settled(plan, balance, outcome.applied, alerts)))
        return answers

    def _alerts(
        self, bus: BusContext, meter_ctx: MeterContext, plan: SettlementPlan, balance: int
    ) -> tuple[Alert, ...]:
        from ..domain.prepaid import low_credit_alerts

        assert meter_ctx.tariff is not None
        currency = meter_ctx.tariff.currency
        tenant = meter_ctx.tenancy.tenant_sub if meter_ctx.tenancy else None
        unit_ref = (
            f"unit:{meter_ctx.unit.unit_id}"
            if meter_ctx.unit
            else f"meter:{meter_ctx.meter.meter_id}"
        )
        before = Money(balance + plan.charge.amount_minor, currency)
        alerts = [
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
            for threshold in low_credit_alerts(
                before, Money(balance, currency), bus.thresholds(currency, meter_ctx.unit)
            )
        ]
        if "backwards" in plan.flags:
            alerts.append(
                Alert(
                    bus.company_id,
                    "reading_backwards",
                    f"meter:{meter_ctx.meter.meter_id}",
                    plan.end.at,
                    "staff",
                    None,
                    {"reading_kwh": format_kwh(plan.end.cumulative_kwh)},
                )
            )
        return tuple(alerts)


def _plan(
    bus: BusContext,
    meter_ctx: MeterContext,
    cursor: Reading,
    position: Mapping[str, Any] | None,
    readings: Sequence[Reading],
) -> SettlementPlan:
    """Price readings on the unit's cycle, tariff timeline and occupied days."""
    from .charging import plan_settlement

    assert meter_ctx.tariff is not None
    tenancy = meter_ctx.tenancy
    return plan_settlement(
        meter_ctx.timeline or meter_ctx.tariff,
        bus.tz,
        cursor,
        position,
        readings,
        cycle=meter_ctx.cycle,
        move_in=date.fromisoformat(tenancy.starts_on) if tenancy else None,
    )


def _has_own_cursor(meter_ctx: MeterContext, state: MeterControlState) -> bool:
    """The state holds the cursor of the meter's current account (else it is reloaded)."""
    return state.account_id == meter_ctx.account_id and state.has_cursor


def _cursor(state: MeterControlState) -> Reading:
    assert state.settled_at is not None, "ensure_cursor first"
    return Reading(state.settled_at, state.settled_kwh)
