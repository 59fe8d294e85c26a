"""The resale check of a property: per unit and per period, what the tenant was charged
against what the same energy costs at the utility tariff the landlord pays.

The landlord enters the utility tariff as a packaged template (domain/templates.py: the
Taipower and Ofgem timelines); each period is priced with the template's version(s) in
force on its days, by the same pricing every bill uses (``domain.postpaid_bill``) on the
same readings: a postpaid bill's opening and closing, a prepaid period's first and last
charged readings (its consumption charges, read as the statement reads them). The
comparison and the cap rule per market are pure (domain/resale.py).

Bounded reads: at most ``UNITS_CHECKED`` units, a postpaid unit's ``BILLS_CHECKED`` newest
bills, a prepaid unit's current and previous period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from ..auth.principal import Principal
from ..data.bills import BillStore
from ..data.catalogue import Catalogue
from ..data.models import Bill, Property, Unit
from ..data.settings_store import SettingsStore, expect_version
from ..domain import BillingPeriod, Reading, postpaid_bill
from ..domain.errors import DomainError, InvalidTemplateError
from ..domain.ledger import EntryKind
from ..domain.resale import ResaleCap, ResaleComparison, cap_of, compare
from ..domain.templates import TariffTemplate, all_templates, template
from .scope import UnitScope
from .settings_errors import InvalidSettingsError
from .statement_errors import StatementBusyError, StatementTooLargeError
from .statements import Statement, Statements

UNITS_CHECKED = 50
BILLS_CHECKED = 6


class UtilityTariffRequest(BaseModel):
    """The template of the utility tariff the landlord pays (null: none)."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(strict=True, ge=0)]
    template_id: Annotated[str, Field(max_length=64)] | None


@dataclass(frozen=True)
class ResaleRow:
    unit: Unit
    comparison: ResaleComparison | None
    period: BillingPeriod
    charged_minor: int
    problem: str | None = None  # why the period could not be priced at the utility tariff


@dataclass(frozen=True)
class ResaleView:
    premises: Property
    utility: TariffTemplate | None
    cap: ResaleCap | None
    rows: list[ResaleRow]
    version: int
    choices: tuple[TariffTemplate, ...]  # the templates in the property's currency

    @property
    def warnings(self) -> int:
        return sum(1 for r in self.rows if r.comparison is not None and r.comparison.over_cap)


@dataclass(frozen=True)
class ResaleCheck:
    _catalogue: Catalogue
    _bills: BillStore
    _store: SettingsStore
    _scope: UnitScope
    _statements: Statements

    def of_property(self, p: Principal, property_id: str, now: datetime) -> ResaleView:
        premises = self._scope.visible_property(p, property_id)
        utility = utility_of(premises)
        rows: list[ResaleRow] = []
        if utility is not None:
            units = self._catalogue.list_units_of_property(p.company_id, property_id, UNITS_CHECKED)
            for unit in sorted(units, key=lambda u: str(u.name)):
                if not unit.account_id:
                    continue
                if unit.billing_mode == "postpaid":
                    rows += self._postpaid(p, premises, unit, utility)
                else:
                    rows += self._prepaid(p, premises, unit, utility, now)
        return ResaleView(
            premises,
            utility,
            cap_of(str(premises.country)),
            rows,
            int(premises.settings_version or 0),
            tuple(t for t in all_templates() if t.timeline.currency == premises.currency),
        )

    def set_utility(
        self, p: Principal, property_id: str, request: UtilityTariffRequest, now: datetime
    ) -> None:
        """Store the template (400 naming ``template_id``: unknown, or another currency)."""
        premises = self._scope.visible_property(p, property_id)
        chosen = None
        if request.template_id:
            try:
                found = template(request.template_id)
            except InvalidTemplateError as exc:
                raise InvalidSettingsError("template_id", str(exc)) from exc
            if found.timeline.currency != premises.currency:
                raise InvalidSettingsError(
                    "template_id",
                    f"prices in {found.timeline.currency}; the property bills in "
                    f"{premises.currency}",
                )
            chosen = {"template_id": found.template_id}
        version = int(premises.settings_version or 0)
        expect_version(request.version, version, f"property {property_id}")
        self._store.update_property_utility_tariff(
            p.company_id,
            property_id,
            version,
            utility_tariff=chosen,
            actor=f"user:{p.user_sub}",
            detail={"utility_tariff": chosen, "by": p.email},
            at=now,
        )

    def _postpaid(
        self, p: Principal, premises: Property, unit: Unit, utility: TariffTemplate
    ) -> list[ResaleRow]:
        rows = []
        for bill in self._bills.of_account(p.company_id, str(unit.account_id), BILLS_CHECKED):
            period = BillingPeriod(
                date.fromisoformat(str(bill.period_start)), date.fromisoformat(str(bill.period_end))
            )
            readings = _bill_readings(bill)
            if readings is None:
                rows.append(ResaleRow(unit, None, period, int(bill.total_minor), "no_readings"))
                continue
            move_in = date.fromisoformat(str(bill.billed_start)) if bill.billed_start else None
            rows.append(
                _row(premises, unit, utility, period, readings, int(bill.total_minor), move_in)
            )
        return rows

    def _prepaid(
        self,
        p: Principal,
        premises: Property,
        unit: Unit,
        utility: TariffTemplate,
        now: datetime,
    ) -> list[ResaleRow]:
        """The current period and the one before, from the account's consumption charges."""
        try:
            current = self._statements.statement(p, str(unit.unit_id), None, now)
            before = current.previous_month
            periods = [current]
            if before is not None:
                periods.append(self._statements.statement(p, str(unit.unit_id), before, now))
        except (StatementTooLargeError, StatementBusyError):
            return []  # a busy or very large account: its statement page says why
        rows = []
        zone = ZoneInfo(str(premises.time_zone))
        for st in periods:
            charged, readings = _charged(st)
            if readings is None:
                continue
            opened = readings[0].at.astimezone(zone).date()
            move_in = opened if opened > st.period.start else None
            rows.append(_row(premises, unit, utility, st.period, readings, charged, move_in))
        return rows


def utility_of(premises: Property) -> TariffTemplate | None:
    """The utility tariff the landlord entered, or None (none entered, or withdrawn)."""
    chosen: Any = premises.utility_tariff
    if not isinstance(chosen, dict) or not chosen.get("template_id"):
        return None
    try:
        return template(str(chosen["template_id"]))
    except InvalidTemplateError:
        return None  # a template since withdrawn from the package: nothing to compare with


def _bill_readings(bill: Bill) -> list[Reading] | None:
    if not (bill.opening_kwh and bill.closing_kwh and bill.opening_at and bill.closing_at):
        return None
    return [
        Reading(bill.opening_at, Decimal(str(bill.opening_kwh))),
        Reading(bill.closing_at, Decimal(str(bill.closing_kwh))),
    ]


def _charged(st: Statement) -> tuple[int, list[Reading] | None]:
    """What the period's consumption charges took, and the readings they were priced on."""
    charges = [
        line
        for line in st.lines
        if line.entry.entry_kind == EntryKind.CONSUMPTION_CHARGE.value
        and line.window_start is not None
        and line.window_end is not None
        and line.from_kwh is not None
        and line.to_kwh is not None
    ]
    if not charges:
        return 0, None
    first, last = charges[0], charges[-1]
    assert first.window_start and last.window_end and first.from_kwh is not None
    assert last.to_kwh is not None
    charged = -sum(int(line.entry.amount_minor) for line in charges)
    readings = [Reading(first.window_start, first.from_kwh), Reading(last.window_end, last.to_kwh)]
    if readings[1].at <= readings[0].at:
        return charged, None
    return charged, readings


def _row(
    premises: Property,
    unit: Unit,
    utility: TariffTemplate,
    period: BillingPeriod,
    readings: list[Reading],
    charged_minor: int,
    move_in: date | None,
) -> ResaleRow:
    try:
        priced = postpaid_bill(
            utility.timeline, period, readings, tz=str(premises.time_zone), move_in=move_in
        )
    except DomainError as exc:
        return ResaleRow(unit, None, period, charged_minor, f"not_priced: {exc}")
    comparison = compare(
        period,
        priced.energy_kwh,
        str(premises.currency),
        charged_minor,
        priced.total_minor,
        str(premises.country),
        priced.versions,
    )
    return ResaleRow(unit, comparison, period, charged_minor)
