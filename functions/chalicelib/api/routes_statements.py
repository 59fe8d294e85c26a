"""Bills, statements and notifications as JSON: the read models of the pages.

Money is integer minor units with the currency beside it (as everywhere in the
API); kWh and prices are decimal strings, so no float carries a figure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from ..application.bills import BillDetail, BillLineView, BillSummary, MeterReadingRef
from ..application.notifications_view import NOTIFICATION_PAGE
from ..application.statements import Statement, StatementLine
from ..routing.access import ANY_SIGNED_IN, STAFF, current_principal, route
from ..routing.dependencies import deps
from .shapes import statements as shapes

bp = Blueprint(__name__)


class StatementQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    month: str | None = Field(
        default=None,
        max_length=10,
        description="the unit's billing period: YYYY-MM (the one starting in, or running "
        "through, that month) or YYYY-MM-DD (the one holding that day); default the current "
        "period in the property's time zone",
    )


class NotificationsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cursor: str | None = Field(
        default=None, min_length=1, max_length=1024, description="next_cursor of the page before"
    )
    limit: int = Field(default=NOTIFICATION_PAGE, ge=1, le=NOTIFICATION_PAGE)


@route(bp, "/v1/units/{unit_id}/bills", ANY_SIGNED_IN, response=shapes.Bills)
def list_bills(unit_id: str) -> dict[str, Any]:
    """The unit's bills, newest first (a tenant: their current tenancy's only)."""
    p = current_principal(bp, ANY_SIGNED_IN)
    unit, _, bills = deps().bills.bills_of_unit(p, unit_id)
    return {"unit_id": unit.unit_id, "bills": [_summary(b) for b in bills]}


@route(bp, "/v1/units/{unit_id}/bills/{bill_id}", ANY_SIGNED_IN, response=shapes.BillView)
def get_bill(unit_id: str, bill_id: str) -> dict[str, Any]:
    """One bill: every line with its quantity, rate, amount, readings and tariff position."""
    p = current_principal(bp, ANY_SIGNED_IN)
    return _bill(deps().bills.bill_of_unit(p, unit_id, bill_id))


@route(
    bp,
    "/v1/units/{unit_id}/statement",
    ANY_SIGNED_IN,
    query=StatementQuery,
    response=shapes.StatementView,
    errors=(409, 422),
)
def get_statement(unit_id: str) -> dict[str, Any]:
    """The current account over one billing period of the unit's cycle (`?month=YYYY-MM`
    or `YYYY-MM-DD`, default the current period in the property's zone): opening balance,
    every entry, closing balance."""
    p = current_principal(bp, ANY_SIGNED_IN)
    q = StatementQuery.model_validate(dict(bp.current_request.query_params or {}))
    return _statement(deps().statements.statement(p, unit_id, q.month, datetime.now(UTC)))


@route(bp, "/v1/notifications", STAFF, query=NotificationsQuery, response=shapes.Notifications)
def list_notifications() -> dict[str, Any]:
    """The company's alerts, newest first, one page (`?cursor=`, `?limit=` up to 50);
    managers and landlords see their properties' only."""
    p = current_principal(bp, STAFF)
    q = NotificationsQuery.model_validate(dict(bp.current_request.query_params or {}))
    found = deps().notifications.page(p, q.cursor, q.limit)
    return {
        "notifications": [
            {
                "notification_id": n.item.notification_id,
                "topic": n.item.topic,
                "created_at": n.item.created_at.isoformat(),
                "subject_ref": n.item.subject_ref,
                "unit_id": n.unit_id,
                "property_id": n.property_id,
                "audience": n.audience,
                "details": dict(n.details),
                "delivery": {"sent": n.delivered, "failed": n.failed},
            }
            for n in found.items
        ],
        "next_cursor": found.next_cursor,
    }


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": int(amount_minor), "currency": currency}


def _summary(b: BillSummary) -> dict[str, Any]:
    return {
        "bill_id": b.bill_id,
        "account_id": b.account_id,
        "period_start": b.period_start.isoformat(),
        "period_end": b.period_end.isoformat(),
        "total": _money(b.total_minor, b.currency),
        "status": b.status,
    }


def _reading(r: MeterReadingRef | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "at": r.at.isoformat() if r.at else None,
        "cumulative_kwh": str(r.cumulative_kwh),
        "ref": r.ref,
    }


def _line(line: BillLineView, currency: str) -> dict[str, Any]:
    return {
        "line": line.number,
        "code": line.code,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "amount": _money(line.amount_minor, currency),
        "season": line.season,
        "tier": line.tier,
        "tier_upto_kwh": str(line.tier_upto_kwh) if line.tier_upto_kwh is not None else None,
        "band": line.band,
        "fixed_charge": line.fixed_code,
        "prorate": line.prorate,
        "refs": line.refs,
    }


def _bill(b: BillDetail) -> dict[str, Any]:
    return {
        **_summary(b.summary),
        "unit_id": b.unit.unit_id,
        "tariff": {"tariff_id": b.tariff_id, "kind": b.tariff_kind},
        "opening_reading": _reading(b.opening),
        "closing_reading": _reading(b.closing),
        "metered_kwh": str(b.metered_kwh) if b.metered_kwh is not None else None,
        "billed_kwh": str(b.billed_kwh),
        "lines": [_line(line, b.currency) for line in b.lines],
        "subtotal": _money(b.subtotal_minor, b.currency),
        "tax": _money(b.tax_minor, b.currency),
        "total": _money(b.total_minor, b.currency),
        "adds_up": b.adds_up,
    }


def _statement_line(line: StatementLine, currency: str) -> dict[str, Any]:
    e = line.entry
    return {
        "entry_id": e.entry_id,
        "kind": e.entry_kind,
        "occurred_at": e.occurred_at.isoformat(),
        "memo": e.memo,
        "amount": _money(int(e.amount_minor), currency),
        "balance_after": _money(line.balance_after_minor, currency),
        "reading_window": {
            "from": line.window_start.isoformat() if line.window_start else None,
            "to": line.window_end.isoformat() if line.window_end else None,
            "from_kwh": str(line.from_kwh) if line.from_kwh is not None else None,
            "to_kwh": str(line.to_kwh) if line.to_kwh is not None else None,
            "energy_kwh": str(line.energy_kwh) if line.energy_kwh is not None else None,
        }
        if line.energy_kwh is not None
        else None,
        "bill_id": line.bill_id,
    }


def _statement(s: Statement) -> dict[str, Any]:
    return {
        "unit_id": s.unit.unit_id,
        "account_id": s.account_id,
        "month": s.month,
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "opening_balance": _money(s.opening_minor, s.currency),
        "entries": [_statement_line(line, s.currency) for line in s.lines],
        "closing_balance": _money(s.closing_minor, s.currency),
        "balance_now": _money(s.balance_now_minor, s.currency),
        "months": {"first": s.first_month, "last": s.last_month},
    }
