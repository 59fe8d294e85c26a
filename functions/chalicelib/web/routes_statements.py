"""Bills and statements (HTML and CSV), for staff and tenants.

Handlers are thin: the read models are ``portal.statements``, the files
``portal.csv_export``; the same figures go to the JSON API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_percent
from chalice import Blueprint, Response

from ..application import csv_export
from ..application.statement_errors import (
    InvalidExportFormatError,
    InvalidMonthError,
    MonthOutOfRangeError,
    StatementBusyError,
    StatementTooLargeError,
)
from ..auth.principal import Role
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .i18n import Translator
from .pages import PageContext, page

bp = Blueprint(__name__)

TENANT = frozenset({Role.TENANT})
FORMATS = ("html", "csv")


@dataclass(frozen=True)
class Formats:
    """Babel formats the templates need beyond the translator's: unit prices keep
    all their decimals (a tariff of 0.2450 GBP/kWh is not 0.25), tax rates as
    percentages, a bill's days and a statement's month, and labels chosen by a
    stored code."""

    tr: Translator

    @property
    def language(self) -> str:
        return self.tr.language

    def label(self, group: str, code: str) -> str:
        """A message chosen by a stored code (a topic, a status, a tariff kind)."""
        return self.tr.t(f"{group}_{code}")

    def price(self, value: Decimal, currency: str) -> str:
        return format_currency(
            value, currency, locale=self.language, currency_digits=False, decimal_quantization=False
        )

    def percent(self, rate: Decimal) -> str:
        return format_percent(rate, format="#,##0.##%", locale=self.language)

    def day(self, day: date) -> str:
        return format_date(day, format="medium", locale=self.language)

    def month(self, start: datetime) -> str:
        return format_date(
            start.date(),
            format="MMMM y" if self.language == "en" else "y年M月",
            locale=self.language,
        )


def _render(ctx: PageContext, template: str, **context: Any) -> Response:
    return ctx.render(template, fmt=Formats(ctx.tr), **context)


def _format(ctx: PageContext) -> str:
    fmt = ctx.query.get("format") or "html"
    if fmt not in FORMATS:
        raise InvalidExportFormatError(f"format must be one of {', '.join(FORMATS)}")
    return fmt


def _csv(body: str, name: str) -> Response:
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": csv_export.CONTENT_TYPE,
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


def _home(base: str) -> str:
    """Where "back" goes: the staff unit page, or the tenant's home (tenants have no unit page)."""
    return base if base.startswith("/portal/") else "/tenant"


def _bad_request(ctx: PageContext, text: str) -> Response:
    return ctx.render("error.html", status=400, title=ctx.tr.t("bad_request"), text=text)


def _bills(ctx: PageContext, unit_id: str, base: str) -> Response:
    assert ctx.principal is not None
    unit, prop, bills = deps().bills.bills_of_unit(ctx.principal, unit_id)
    return _render(
        ctx, "bills.html", unit=unit, prop=prop, bills=bills, base=base, home=_home(base)
    )


def _bill(ctx: PageContext, unit_id: str, bill_id: str, base: str) -> Response:
    assert ctx.principal is not None
    bill = deps().bills.bill_of_unit(ctx.principal, unit_id, bill_id)  # 404 before anything else
    try:
        fmt = _format(ctx)
    except InvalidExportFormatError:
        return _bad_request(ctx, ctx.tr.t("format_invalid"))
    if fmt == "csv":
        name = csv_export.filename("bill", unit_id, bill.summary.period_start.isoformat()[:7])
        return _csv(csv_export.bill_csv(bill), name)
    return _render(ctx, "bill.html", b=bill, base=base, home=_home(base))


def _statement(ctx: PageContext, unit_id: str, base: str) -> Response:
    assert ctx.principal is not None
    try:
        st = deps().statements.statement(ctx.principal, unit_id, ctx.query.get("month"), ctx.now)
        fmt = _format(ctx)
    except InvalidExportFormatError:
        return _bad_request(ctx, ctx.tr.t("format_invalid"))
    except InvalidMonthError:
        return _bad_request(ctx, ctx.tr.t("month_invalid"))
    except MonthOutOfRangeError as exc:
        return _bad_request(ctx, ctx.tr.t("month_out_of_range", first=exc.first, last=exc.last))
    except StatementTooLargeError:
        return _bad_request(ctx, ctx.tr.t("statement_too_large"))
    except StatementBusyError:
        return ctx.render(
            "error.html", status=409, title=ctx.tr.t("bad_request"), text=ctx.tr.t("try_again")
        )
    if fmt == "csv":
        return _csv(
            csv_export.statement_csv(st), csv_export.filename("statement", unit_id, st.month)
        )
    return _render(ctx, "statement.html", s=st, base=base, home=_home(base))


# --- staff ---


@page(bp, "/portal/units/{unit_id}/bills", STAFF)
def staff_bills(ctx: PageContext, unit_id: str) -> Response:
    return _bills(ctx, unit_id, f"/portal/units/{unit_id}")


@page(bp, "/portal/units/{unit_id}/bills/{bill_id}", STAFF)
def staff_bill(ctx: PageContext, unit_id: str, bill_id: str) -> Response:
    return _bill(ctx, unit_id, bill_id, f"/portal/units/{unit_id}")


@page(bp, "/portal/units/{unit_id}/statement", STAFF)
def staff_statement(ctx: PageContext, unit_id: str) -> Response:
    return _statement(ctx, unit_id, f"/portal/units/{unit_id}")


# --- tenants: their current tenancy's account only ---


@page(bp, "/tenant/units/{unit_id}/bills", TENANT, audience="tenant")
def tenant_bills(ctx: PageContext, unit_id: str) -> Response:
    return _bills(ctx, unit_id, f"/tenant/units/{unit_id}")


@page(bp, "/tenant/units/{unit_id}/bills/{bill_id}", TENANT, audience="tenant")
def tenant_bill(ctx: PageContext, unit_id: str, bill_id: str) -> Response:
    return _bill(ctx, unit_id, bill_id, f"/tenant/units/{unit_id}")


@page(bp, "/tenant/units/{unit_id}/statement", TENANT, audience="tenant")
def tenant_statement(ctx: PageContext, unit_id: str) -> Response:
    return _statement(ctx, unit_id, f"/tenant/units/{unit_id}")
