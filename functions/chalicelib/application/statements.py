"""Read models of prepaid statements: one account over one billing period of its unit.

A statement covers one cycle of the unit's billing cycle (domain/cycles.py): the calendar
month by default, two months for a Taipower-style unit, the 15th to the 14th for a unit
read on the 15th, so a statement and the bill of the same period cover the same days. It
starts from the stored balance and walks back over the entries since the period began, so
opening + entries = closing exactly, and for the current period closing = the stored
balance. Requests are bounded (docs/portal.md).

A period is asked for as ``YYYY-MM`` (the period that starts in that month, or runs
through it: the one holding its 28th, which every cycle's start month holds since anchor
days stop at 28) or ``YYYY-MM-DD`` (the period holding that day; the pager uses it, so a
short bridging period after a cycle change is reachable too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from ..auth.principal import Principal
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.ledger_store import LedgerStore
from ..data.models import LedgerEntryItem, Property, Tenancy, Unit
from ..domain.cycles import MONTHLY, BillingCycle
from ..domain.periods import BillingPeriod
from ..pipeline.context import cycle_of_unit
from .bills import bill_id_of
from .scope import UnitScope
from .statement_errors import (
    InvalidMonthError,
    MonthOutOfRangeError,
    StatementBusyError,
    StatementTooLargeError,
)

MAX_STATEMENT_ENTRIES = 5_000  # entries read from the month's start up to now
STATEMENT_ATTEMPTS = 3
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])(?:-(\d{2}))?$")
MONTH_DAY = 28  # a month's period: the one holding its 28th (anchor days stop at 28)
CHARGE_ID = re.compile(r"^cons:[^:]+:(?P<from_ms>\d{1,15}):(?P<to_ms>\d{1,15})$")


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntryItem
    balance_after_minor: int
    window_start: datetime | None = None  # the readings a consumption charge settles
    window_end: datetime | None = None
    from_kwh: Decimal | None = None
    to_kwh: Decimal | None = None
    bill_id: str | None = None

    @property
    def energy_kwh(self) -> Decimal | None:
        if self.from_kwh is None or self.to_kwh is None:
            return None
        return self.to_kwh - self.from_kwh


@dataclass(frozen=True)
class Statement:
    unit: Unit
    premises: Property
    account_id: str
    currency: str
    month: str  # YYYY-MM of the period's first day
    start: datetime  # local midnight of the period's first day, property's zone
    end: datetime  # local midnight of the day after its last
    opening_minor: int
    lines: tuple[StatementLine, ...]
    closing_minor: int
    balance_now_minor: int
    first_month: str
    last_month: str
    cycle: BillingCycle = MONTHLY
    # The tenancy the account is of (the unit's current one), for the page to say where
    # it starts: a same-day changeover's second tenant sees the time their share began.
    tenancy: Tenancy | None = None

    @property
    def period(self) -> BillingPeriod:
        return BillingPeriod(self.start.date(), self.end.date())

    @property
    def calendar_month(self) -> bool:
        """The period is one calendar month (named by its month, not its days)."""
        first = self.start.date()
        return first.day == 1 and self.end.date() == _next_month(first)

    @property
    def credits_minor(self) -> int:
        return sum(int(x.entry.amount_minor) for x in self.lines if int(x.entry.amount_minor) > 0)

    @property
    def debits_minor(self) -> int:
        return sum(int(x.entry.amount_minor) for x in self.lines if int(x.entry.amount_minor) < 0)

    @property
    def previous_month(self) -> str | None:
        """The ``month`` to ask for the period before (None before the account's first)."""
        before = self.cycle.cycle_of(self.start.date() - timedelta(days=1))
        if _month_text(before.start) < self.first_month:
            return None
        return _asked(before, self.cycle)

    @property
    def next_month(self) -> str | None:
        after = self.cycle.cycle_of(self.end.date())
        return _asked(after, self.cycle) if _month_text(after.start) <= self.last_month else None


def _month_text(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _asked(period: BillingPeriod, cycle: BillingCycle) -> str:
    """How to ask for ``period``: its month when the month names it, else its first day."""
    month = _month_text(period.start)
    return month if cycle.cycle_of(_day_of(month)) == period else period.start.isoformat()


def _day_of(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), MONTH_DAY)


def parse_month(
    text: str | None, tz: str, now: datetime, cycle: BillingCycle = MONTHLY
) -> tuple[datetime, datetime]:
    """The local midnights [start, end) of the unit's billing period asked for (module
    doc) in the property's zone; nothing asked = the current period there."""
    zone = ZoneInfo(tz)
    if not text:
        day = now.astimezone(zone).date()
    else:
        found = MONTH.fullmatch(text.strip())
        if not found:
            raise InvalidMonthError(f"month {text[:16]!r} must be written YYYY-MM or YYYY-MM-DD")
        try:
            day = date.fromisoformat(found.group(0)) if found.group(3) else _day_of(found.group(0))
        except ValueError:
            raise InvalidMonthError(f"month {text[:16]!r} is not a day of the calendar") from None
    period = cycle.cycle_of(day)
    start = datetime.combine(period.start, time(0), tzinfo=zone)
    return start, datetime.combine(period.end, time(0), tzinfo=zone)


@dataclass(frozen=True)
class Statements:
    _catalogue: Catalogue
    _ledger: LedgerStore
    _scope: UnitScope

    def statement(self, p: Principal, unit_id: str, month: str | None, now: datetime) -> Statement:
        """The unit's current account over one billing period of the unit's cycle."""
        unit = self._scope.visible_unit(p, unit_id)
        if not unit.account_id:
            raise NotFoundError("the unit has no account")
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        cycle = cycle_of_unit(unit, prop)
        start, end = parse_month(month, prop.time_zone, now, cycle)
        zone = ZoneInfo(prop.time_zone)
        for _ in range(STATEMENT_ATTEMPTS):
            account = self._ledger.get_account(p.company_id, unit.account_id)
            opened = account.created_at.astimezone(zone).date()
            first = _month_text(cycle.cycle_of(opened).start)
            last = _month_text(cycle.cycle_of(now.astimezone(zone).date()).start)
            asked = _month_text(start.date())
            if not first <= asked <= last:
                raise MonthOutOfRangeError(
                    f"month {asked} is outside {first}..{last} (the account's months so far)",
                    first,
                    last,
                )
            since = self._entries_since(p.company_id, unit.account_id, start)
            again = self._ledger.get_account(p.company_id, unit.account_id)
            # The balance is read consistently before and after the entries: if it
            # moved in between, the entries and the balance may not belong together.
            same = (again.balance_minor, again.entry_count) == (
                account.balance_minor,
                account.entry_count,
            )
            if same:
                break
        else:
            raise StatementBusyError("the account kept changing; try again")
        balance = int(account.balance_minor)
        opening = balance - sum(int(e.amount_minor) for e in since)
        running = opening
        lines = []
        for entry in since:
            if entry.occurred_at >= end.astimezone(UTC):
                break
            running += int(entry.amount_minor)
            lines.append(_statement_line(entry, running))
        return Statement(
            unit=unit,
            premises=prop,
            account_id=unit.account_id,
            currency=str(account.currency),
            month=_month_text(start.date()),
            start=start,
            end=end,
            opening_minor=opening,
            lines=tuple(lines),
            closing_minor=running,
            balance_now_minor=balance,
            first_month=first,
            last_month=last,
            cycle=cycle,
            tenancy=self._tenancy_of_account(p.company_id, unit),
        )

    def _tenancy_of_account(self, company_id: str, unit: Unit) -> Tenancy | None:
        tenancy = self._scope.current_tenancy(company_id, unit)
        return tenancy if tenancy and tenancy.account_id == unit.account_id else None

    def _entries_since(
        self, company_id: str, account_id: str, start: datetime
    ) -> list[LedgerEntryItem]:
        """Entries that occurred at or after ``start``, oldest first (gsi2, pattern 17)."""
        found = self._ledger.entries_since(company_id, account_id, start, MAX_STATEMENT_ENTRIES + 1)
        if len(found) > MAX_STATEMENT_ENTRIES:
            raise StatementTooLargeError(
                f"more than {MAX_STATEMENT_ENTRIES} entries since this period began; "
                "choose a later period"
            )
        return found


def _statement_line(entry: LedgerEntryItem, balance_after: int) -> StatementLine:
    refs = {str(k): str(v) for k, v in dict(entry.refs or {}).items()}
    window = CHARGE_ID.fullmatch(str(entry.entry_id))
    start = end = None
    if window:
        start = datetime.fromtimestamp(int(window.group("from_ms")) / 1000, UTC)
        end = datetime.fromtimestamp(int(window.group("to_ms")) / 1000, UTC)
    bill = refs.get("bill")
    return StatementLine(
        entry=entry,
        balance_after_minor=balance_after,
        window_start=start,
        window_end=end,
        from_kwh=_decimal(refs.get("from_kwh")),
        to_kwh=_decimal(refs.get("to_kwh")),
        bill_id=bill_id_of(str(entry.account_id), bill) if bill else None,
    )


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
