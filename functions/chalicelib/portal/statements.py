"""Read models of bills, prepaid statements and the notifications page.

Every figure is carried as stored (integer minor units, kWh as Decimal) and
with what it came from, so pages, CSV files and the JSON API show the same
numbers and each one can be traced back:

- a bill line names its readings (opening and closing, with times) and its
  tariff position (season and tier bound, or time-of-use band, or fixed
  charge); the lines add up to the stored total, which the page checks;
- a statement starts from the stored balance and walks back over the entries
  since the month began, so opening + entries = closing exactly, and for the
  current month closing = the stored balance;
- notifications are the company's outbox, newest first, one bounded page.

Requests are bounded whatever the company's size (see docs/portal.md).
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist

from ..api.services import services
from ..auth.principal import Principal, Role
from ..data import keys
from ..data.errors import InvalidIdentifierError, NotFoundError
from ..data.models import (
    Bill,
    Gateway,
    LedgerEntryItem,
    Meter,
    Notification,
    Property,
    Tenancy,
    Unit,
)
from ..domain.money import Money
from .cursors import decode_cursor, encode_cursor
from .scope import visible_unit
from .statement_errors import (
    InvalidMonthError,
    MonthOutOfRangeError,
    StatementBusyError,
    StatementTooLargeError,
)

MAX_TENANCIES = 20  # a unit's tenancies whose bills staff see (newest first)
MAX_BILLS_PER_ACCOUNT = 36  # three years of monthly bills
MAX_BILL_LINES = 500
MAX_STATEMENT_ENTRIES = 5_000  # entries read from the month's start up to now
STATEMENT_ATTEMPTS = 3
NOTIFICATION_PAGE = 25
MAX_NOTIFICATION_PAGE = 50
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
BILL_ID = re.compile(r"^(?P<account>[A-Za-z0-9_.:@+=/-]{1,128}):(?P<start>\d{4}-\d{2}-\d{2})$")
CHARGE_ID = re.compile(r"^cons:[^:]+:(?P<from_ms>\d{1,15}):(?P<to_ms>\d{1,15})$")


# --- bills ---


@dataclass(frozen=True)
class MeterReadingRef:
    """A reading a bill is computed from: when it was taken and the register value."""

    at: datetime | None
    cumulative_kwh: Decimal
    ref: str


@dataclass(frozen=True)
class BillLineView:
    number: int
    code: str  # energy | fixed | tax
    quantity: Decimal  # kWh (energy), days (fixed), taxable base in major units (tax)
    unit: str
    unit_price: Decimal  # per kWh, per day/period, or the tax rate
    amount_minor: int
    season: str | None = None
    segment: str | None = None
    tier: int | None = None
    tier_upto_kwh: Decimal | None = None  # None: the open-ended top tier
    band: str | None = None
    fixed_code: str | None = None
    per: str | None = None
    prorate: str | None = None
    tax_base: str | None = None
    refs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BillSummary:
    bill_id: str
    account_id: str
    period_start: date
    period_end: date  # first day not billed
    total_minor: int
    currency: str
    status: str

    @builtins.property
    def last_day(self) -> date:
        return self.period_end - timedelta(days=1)


@dataclass(frozen=True)
class BillDetail:
    unit: Unit
    property: Property
    summary: BillSummary
    tariff_id: str
    tariff_kind: str  # flat | tiered | tou
    opening: MeterReadingRef | None
    closing: MeterReadingRef | None
    lines: tuple[BillLineView, ...]

    @builtins.property
    def currency(self) -> str:
        return self.summary.currency

    @builtins.property
    def subtotal_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.code != "tax")

    @builtins.property
    def tax_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.code == "tax")

    @builtins.property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.tax_minor

    @builtins.property
    def adds_up(self) -> bool:
        """The lines sum to the stored total (a bill item edited by hand would not)."""
        return self.total_minor == self.summary.total_minor

    @builtins.property
    def metered_kwh(self) -> Decimal | None:
        if self.opening is None or self.closing is None:
            return None
        return self.closing.cumulative_kwh - self.opening.cumulative_kwh

    @builtins.property
    def billed_kwh(self) -> Decimal:
        return sum((line.quantity for line in self.lines if line.code == "energy"), Decimal("0"))


def bill_id_of(account_id: str, period_start: str) -> str:
    return f"{account_id}:{period_start}"


def bill_accounts(p: Principal, unit: Unit) -> list[str]:
    """Accounts whose bills the caller may see on this unit: a tenant only the
    current tenancy's (``visible_unit`` made sure it is theirs); staff every
    tenancy's of the unit, newest first (one Query, pattern 12)."""
    if p.role is Role.TENANT:
        return [unit.account_id] if unit.account_id else []
    accounts: list[str] = []
    if unit.account_id:
        accounts.append(unit.account_id)
    for tenancy in Tenancy.gsi1.query(
        keys.tenancies_of_unit_gsi1pk(p.company_id, unit.unit_id),
        scan_index_forward=False,
        limit=MAX_TENANCIES,
    ):
        if isinstance(tenancy, Tenancy) and tenancy.account_id not in accounts:
            accounts.append(str(tenancy.account_id))
    return accounts[:MAX_TENANCIES]


def bills_of_unit(p: Principal, unit_id: str) -> tuple[Unit, Property, list[BillSummary]]:
    """The unit's bills, newest first: one Query per account (pattern 19)."""
    unit = visible_unit(p, unit_id)
    prop = services().catalogue.get_property(p.company_id, unit.property_id)
    bills: list[BillSummary] = []
    for account_id in bill_accounts(p, unit):
        for item in Bill.query(
            keys.account_pk(p.company_id, account_id),
            Bill.sk.startswith(keys.BILL_PREFIX),
            scan_index_forward=False,
            limit=MAX_BILLS_PER_ACCOUNT,
        ):
            if isinstance(item, Bill):
                bills.append(_summary(item))
    bills.sort(key=lambda b: (b.period_start, b.account_id), reverse=True)
    return unit, prop, bills


def _summary(item: Bill) -> BillSummary:
    return BillSummary(
        bill_id=bill_id_of(str(item.account_id), str(item.period_start)),
        account_id=str(item.account_id),
        period_start=date.fromisoformat(str(item.period_start)),
        period_end=date.fromisoformat(str(item.period_end)),
        total_minor=int(item.total_minor),
        currency=str(item.currency),
        status=str(item.status),
    )


def bill_of_unit(p: Principal, unit_id: str, bill_id: str) -> BillDetail:
    """One bill of the unit; a bill of another unit, tenant or company answers 404."""
    unit = visible_unit(p, unit_id)
    found = BILL_ID.fullmatch(bill_id or "")
    if not found:
        raise NotFoundError("bill not found")
    account_id, start = found.group("account"), found.group("start")
    if account_id not in bill_accounts(p, unit):
        raise NotFoundError("bill not found")
    try:
        item = Bill.get(keys.account_pk(p.company_id, account_id), keys.bill_sk(start))
    except DoesNotExist as exc:
        raise NotFoundError("bill not found") from exc
    prop = services().catalogue.get_property(p.company_id, unit.property_id)
    raw_lines = list(item.lines or [])[:MAX_BILL_LINES]
    lines = tuple(_line(n, raw) for n, raw in enumerate(raw_lines, start=1))
    refs = next((line.refs for line in lines if "opening_kwh" in line.refs), {})
    return BillDetail(
        unit=unit,
        property=prop,
        summary=_summary(item),
        tariff_id=next((line.refs["tariff_id"] for line in lines if "tariff_id" in line.refs), ""),
        tariff_kind=_tariff_kind(lines),
        opening=_reading(refs, "opening"),
        closing=_reading(refs, "closing"),
        lines=lines,
    )


def _line(number: int, raw: dict[str, Any]) -> BillLineView:
    refs = {str(k): str(v) for k, v in dict(raw.get("refs") or {}).items()}
    upto = refs.get("tier_upto_kwh")
    base = refs.get("base")
    return BillLineView(
        number=number,
        code=str(raw["code"]),
        quantity=Decimal(str(raw["quantity"])),
        unit=str(raw["unit"]),
        unit_price=Decimal(str(raw["unit_price"])),
        amount_minor=int(raw["amount_minor"]),
        season=refs.get("season"),
        segment=refs.get("segment"),
        tier=int(refs["tier"]) if "tier" in refs else None,
        tier_upto_kwh=Decimal(upto) if upto not in (None, "none") else None,
        band=refs.get("band"),
        fixed_code=refs.get("fixed"),
        per=refs.get("per"),
        prorate=refs.get("prorate"),
        tax_base=base,
        refs=refs,
    )


def _tariff_kind(lines: tuple[BillLineView, ...]) -> str:
    if any(line.band for line in lines):
        return "tou"
    tiers = {(line.tier, line.tier_upto_kwh) for line in lines if line.tier is not None}
    if tiers <= {(0, None)}:
        return "flat"  # one open-ended tier: a single price per kWh
    return "tiered"


def _reading(refs: dict[str, str], which: str) -> MeterReadingRef | None:
    value = refs.get(f"{which}_kwh")
    if value is None:
        return None
    ref = refs.get(f"{which}_reading", "")
    try:
        at: datetime | None = datetime.fromisoformat(ref)
    except ValueError:
        at = None  # a reading id rather than a time
    try:
        return MeterReadingRef(at, Decimal(value), ref)
    except InvalidOperation:
        return None


# --- prepaid statements ---


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntryItem
    balance_after_minor: int
    window_start: datetime | None = None  # the readings a consumption charge settles
    window_end: datetime | None = None
    from_kwh: Decimal | None = None
    to_kwh: Decimal | None = None
    bill_id: str | None = None

    @builtins.property
    def energy_kwh(self) -> Decimal | None:
        if self.from_kwh is None or self.to_kwh is None:
            return None
        return self.to_kwh - self.from_kwh


@dataclass(frozen=True)
class Statement:
    unit: Unit
    property: Property
    account_id: str
    currency: str
    month: str  # YYYY-MM
    start: datetime  # local midnight of the first day, property's zone
    end: datetime  # local midnight of the next month's first day
    opening_minor: int
    lines: tuple[StatementLine, ...]
    closing_minor: int
    balance_now_minor: int
    first_month: str
    last_month: str

    @builtins.property
    def credits_minor(self) -> int:
        return sum(int(x.entry.amount_minor) for x in self.lines if int(x.entry.amount_minor) > 0)

    @builtins.property
    def debits_minor(self) -> int:
        return sum(int(x.entry.amount_minor) for x in self.lines if int(x.entry.amount_minor) < 0)

    @builtins.property
    def previous_month(self) -> str | None:
        prev = _month_text(self.start.date() - timedelta(days=1))
        return prev if prev >= self.first_month else None

    @builtins.property
    def next_month(self) -> str | None:
        following = _month_text(self.end.date())
        return following if following <= self.last_month else None


def _month_text(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: str | None, tz: str, now: datetime) -> tuple[datetime, datetime]:
    """[local midnight of the 1st, local midnight of the next 1st) in the property's zone;
    no month = the current month there."""
    zone = ZoneInfo(tz)
    if not text:
        today = now.astimezone(zone).date()
        year, month = today.year, today.month
    else:
        found = MONTH.fullmatch(text.strip())
        if not found:
            raise InvalidMonthError(f"month {text[:16]!r} must be written YYYY-MM")
        year, month = int(found.group(1)), int(found.group(2))
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def statement(p: Principal, unit_id: str, month: str | None, now: datetime) -> Statement:
    """The unit's current account over one month of the property's calendar."""
    svc = services()
    unit = visible_unit(p, unit_id)
    if not unit.account_id:
        raise NotFoundError("the unit has no account")
    prop = svc.catalogue.get_property(p.company_id, unit.property_id)
    start, end = parse_month(month, prop.time_zone, now)
    for _ in range(STATEMENT_ATTEMPTS):
        account = svc.ledger.get_account(p.company_id, unit.account_id)
        first = _month_text(account.created_at.astimezone(ZoneInfo(prop.time_zone)).date())
        last = _month_text(now.astimezone(ZoneInfo(prop.time_zone)).date())
        asked = _month_text(start.date())
        if not first <= asked <= last:
            raise MonthOutOfRangeError(
                f"month {asked} is outside {first}..{last} (the account's months so far)",
                first,
                last,
            )
        since = _entries_since(p.company_id, unit.account_id, start)
        again = svc.ledger.get_account(p.company_id, unit.account_id)
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
        property=prop,
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
    )


def _entries_since(company_id: str, account_id: str, start: datetime) -> list[LedgerEntryItem]:
    """Entries that occurred at or after ``start``, oldest first (gsi2, pattern 17)."""
    found = [
        e
        for e in LedgerEntryItem.gsi2.query(
            keys.account_pk(company_id, account_id),
            LedgerEntryItem.gsi2sk >= keys.ledger_time_bound_gsi2sk(start),
            scan_index_forward=True,
            limit=MAX_STATEMENT_ENTRIES + 1,
        )
        if isinstance(e, LedgerEntryItem)
    ]
    if len(found) > MAX_STATEMENT_ENTRIES:
        raise StatementTooLargeError(
            f"more than {MAX_STATEMENT_ENTRIES} entries since this month began; "
            "choose a later month"
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


def major(amount_minor: int, currency: str) -> Decimal:
    """Minor units to a Decimal in major units with the currency's own decimals."""
    return Money(int(amount_minor), currency).to_decimal()


# --- notifications ---


@dataclass(frozen=True)
class NotificationView:
    item: Notification
    subject_kind: str  # unit | meter | gateway | account
    subject_id: str
    unit_id: str | None
    property_id: str | None
    time_zone: str
    audience: str
    details: tuple[tuple[str, str], ...]
    delivered: int
    failed: int


@dataclass(frozen=True)
class NotificationsPage:
    items: list[NotificationView]
    next_cursor: str | None


def notifications(
    p: Principal, cursor: str | None = None, page_size: int = NOTIFICATION_PAGE
) -> NotificationsPage:
    """The company's outbox, newest first (pattern 23), one page.

    A manager or landlord sees the alerts of their properties' units, meters
    and gateways only; what cannot be placed in a property (an account's
    balance check) is for company admins. A filtered page may come out short;
    the cursor goes on from the last item read, like the dashboard's.
    """
    pk = keys.notifications_pk(p.company_id)
    start = decode_cursor(cursor, "pk", pk) if cursor else None
    result = Notification.query(
        pk,
        scan_index_forward=False,
        limit=max(1, min(int(page_size), MAX_NOTIFICATION_PAGE)),
        last_evaluated_key=start,
    )
    items = [n for n in result if isinstance(n, Notification)]
    last = result.last_evaluated_key
    views = _place(p.company_id, items)
    if p.role is not Role.COMPANY_ADMIN:
        views = [v for v in views if v.property_id and p.may_see_property(v.property_id)]
    return NotificationsPage(views, encode_cursor(last) if last else None)


def _subject(ref: str) -> tuple[str, str]:
    kind, _, rest = str(ref).partition(":")
    return kind, rest.split(":", 1)[0]


def _place(company_id: str, items: list[Notification]) -> list[NotificationView]:
    """Units, meters and gateways named by a page of alerts: one BatchGet each, at most."""
    subjects = [_subject(n.subject_ref) for n in items]
    meters = _batch(
        Meter,
        company_id,
        {i for k, i in subjects if k == "meter"},
        keys.meter_sk,
    )
    unit_ids = {i for k, i in subjects if k == "unit"} | {
        str(m.unit_id) for m in meters.values() if m.unit_id
    }
    units = _batch(Unit, company_id, unit_ids, keys.unit_sk)
    gateway_ids = {i for k, i in subjects if k == "gateway"} | {
        str(m.gateway_id) for m in meters.values()
    }
    gateways = _batch(Gateway, company_id, gateway_ids, keys.gateway_sk)
    zones = {x.property_id: x.time_zone for x in services().catalogue.list_properties(company_id)}
    out = []
    for item, (kind, ident) in zip(items, subjects, strict=True):
        unit_id = property_id = None
        if kind == "unit" and ident in units:
            unit_id, property_id = ident, units[ident].property_id
        elif kind == "meter" and ident in meters:
            meter = meters[ident]
            unit_id = str(meter.unit_id) if meter.unit_id else None
            owner = units.get(unit_id or "") or gateways.get(str(meter.gateway_id))
            property_id = owner.property_id if owner is not None else None
        elif kind == "gateway" and ident in gateways:
            property_id = gateways[ident].property_id
        payload = dict(item.payload or {})
        delivery = dict(item.delivery or {})
        out.append(
            NotificationView(
                item=item,
                subject_kind=kind,
                subject_id=ident,
                unit_id=unit_id,
                property_id=str(property_id) if property_id else None,
                time_zone=zones.get(str(property_id), "UTC"),
                audience=str(payload.pop("audience", "staff")),
                details=tuple(sorted((str(k), str(v)) for k, v in payload.items()))[:20],
                delivered=sum(1 for v in delivery.values() if v == "sent"),
                failed=sum(1 for v in delivery.values() if str(v).startswith("failed")),
            )
        )
    return out


def _batch(cls: Any, company_id: str, ids: set[str], sort_key: Any) -> dict[str, Any]:
    wanted = set()
    for ident in ids:
        try:
            wanted.add((keys.company_pk(company_id), sort_key(ident)))
        except InvalidIdentifierError:
            continue  # an odd reference in an old alert is shown unplaced, not looked up
    if not wanted:
        return {}
    found = list(cls.batch_get(sorted(wanted)))
    id_attr = {Meter: "meter_id", Unit: "unit_id", Gateway: "gateway_id"}[cls]
    return {str(getattr(x, id_attr)): x for x in found}
