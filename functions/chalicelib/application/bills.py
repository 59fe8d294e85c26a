"""Read models of postpaid bills: every line traceable to its readings and tariff.

A bill line names its readings (opening and closing, with times) and its tariff
position (season and tier bound, or time-of-use band, or fixed charge); the lines add
up to the stored total, which the page checks. Pages, CSV files and the JSON API show
the same numbers. Requests are bounded whatever the company's size (docs/portal.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ..auth.principal import Principal, Role
from ..data.bills import BillStore
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.models import Bill, Property, Unit
from ..data.tenancies import TenancyStore
from ..domain.billing import LineTotals
from .scope import UnitScope

MAX_TENANCIES = 20  # a unit's tenancies whose bills staff see (newest first)
MAX_BILLS_PER_ACCOUNT = 36  # three years of monthly bills
MAX_BILL_LINES = 500
BILL_ID = re.compile(r"^(?P<account>[A-Za-z0-9_.:@+=/-]{1,128}):(?P<start>\d{4}-\d{2}-\d{2})$")


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
    closing_kind: str = "actual"  # actual | interpolated | estimated (docs/pipeline.md)

    @property
    def estimated(self) -> bool:
        return self.closing_kind == "estimated"

    @property
    def last_day(self) -> date:
        return self.period_end - timedelta(days=1)


@dataclass(frozen=True)
class BillDetail(LineTotals):
    unit: Unit
    premises: Property
    summary: BillSummary
    tariff_id: str
    tariff_kind: str  # flat | tiered | tou
    opening: MeterReadingRef | None
    closing: MeterReadingRef | None
    lines: tuple[BillLineView, ...]

    @property
    def currency(self) -> str:
        return self.summary.currency

    @property
    def adds_up(self) -> bool:
        """The lines sum to the stored total (a bill item edited by hand would not)."""
        return self.total_minor == self.summary.total_minor

    @property
    def metered_kwh(self) -> Decimal | None:
        if self.opening is None or self.closing is None:
            return None
        return self.closing.cumulative_kwh - self.opening.cumulative_kwh

    @property
    def billed_kwh(self) -> Decimal:
        return sum((line.quantity for line in self.lines if line.code == "energy"), Decimal("0"))


def bill_id_of(account_id: str, period_start: str) -> str:
    return f"{account_id}:{period_start}"


@dataclass(frozen=True)
class BillQueries:
    _catalogue: Catalogue
    _bills: BillStore
    _tenancies: TenancyStore
    _scope: UnitScope

    def bill_accounts(self, p: Principal, unit: Unit) -> list[str]:
        """Accounts whose bills the caller may see on this unit: a tenant only the
        current tenancy's (``visible_unit`` made sure it is theirs); staff every
        tenancy's of the unit, newest first (one Query, pattern 12)."""
        if p.role is Role.TENANT:
            return [unit.account_id] if unit.account_id else []
        accounts: list[str] = []
        if unit.account_id:
            accounts.append(unit.account_id)
        for tenancy in self._tenancies.of_unit(p.company_id, unit.unit_id, MAX_TENANCIES):
            if tenancy.account_id not in accounts:
                accounts.append(str(tenancy.account_id))
        return accounts[:MAX_TENANCIES]

    def bills_of_unit(self, p: Principal, unit_id: str) -> tuple[Unit, Property, list[BillSummary]]:
        """The unit's bills, newest first: one Query per account (pattern 19)."""
        unit = self._scope.visible_unit(p, unit_id)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        bills = [
            _summary(item)
            for account_id in self.bill_accounts(p, unit)
            for item in self._bills.of_account(p.company_id, account_id, MAX_BILLS_PER_ACCOUNT)
        ]
        bills.sort(key=lambda b: (b.period_start, b.account_id), reverse=True)
        return unit, prop, bills

    def bill_of_unit(self, p: Principal, unit_id: str, bill_id: str) -> BillDetail:
        """One bill of the unit; a bill of another unit, tenant or company answers 404."""
        unit = self._scope.visible_unit(p, unit_id)
        found = BILL_ID.fullmatch(bill_id or "")
        if not found:
            raise NotFoundError("bill not found")
        account_id, start = found.group("account"), found.group("start")
        if account_id not in self.bill_accounts(p, unit):
            raise NotFoundError("bill not found")
        item = self._bills.get(p.company_id, account_id, start)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        raw_lines = list(item.lines or [])[:MAX_BILL_LINES]
        lines = tuple(_line(n, raw) for n, raw in enumerate(raw_lines, start=1))
        # The bill's own readings when it has them (a bill of a corrected over-estimate has
        # no energy line to name them); the first line naming them for older bills.
        refs = next((line.refs for line in lines if "opening_kwh" in line.refs), {})
        refs = {**refs, **_item_readings(item)}
        return BillDetail(
            unit=unit,
            premises=prop,
            summary=_summary(item),
            tariff_id=next(
                (line.refs["tariff_id"] for line in lines if "tariff_id" in line.refs), ""
            ),
            tariff_kind=_tariff_kind(lines),
            opening=_reading(refs, "opening"),
            closing=_reading(refs, "closing"),
            lines=lines,
        )


def _summary(item: Bill) -> BillSummary:
    return BillSummary(
        bill_id=bill_id_of(str(item.account_id), str(item.period_start)),
        account_id=str(item.account_id),
        period_start=date.fromisoformat(str(item.period_start)),
        period_end=date.fromisoformat(str(item.period_end)),
        total_minor=int(item.total_minor),
        currency=str(item.currency),
        status=str(item.status),
        closing_kind=str(item.closing_kind or "actual"),
    )


def _item_readings(item: Bill) -> dict[str, str]:
    found: dict[str, str] = {}
    for which in ("opening", "closing"):
        value, at = getattr(item, f"{which}_kwh"), getattr(item, f"{which}_at")
        if value is not None and at is not None:
            found[f"{which}_kwh"], found[f"{which}_reading"] = str(value), at.isoformat()
    return found


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
