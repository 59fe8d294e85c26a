"""Tenant pages: remaining credit and days left, power and why, consumption,
every credit added with its receipt."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..auth.principal import Role
from ..domain.usage_periods import InvalidChartPeriodError
from ..routing.dependencies import deps
from .consumption_view import bad_chart_request, unit_panel
from .pages import PageContext, page

bp = Blueprint(__name__)

TENANT = frozenset({Role.TENANT})
CREDIT_KINDS = frozenset({"top_up", "transfer_in", "emergency_credit"})


@page(bp, "/tenant", TENANT, audience="tenant")
def tenant_home(ctx: PageContext) -> Response:
    assert ctx.principal is not None
    details = [
        deps().views.unit_detail(ctx.principal, u.unit_id, ctx.now, with_usage=False)
        for u in deps().views.tenant_units(ctx.principal)
    ]
    try:
        panels = {
            d.unit.unit_id: unit_panel(ctx, d, "/tenant", f"chart-{i}")
            for i, d in enumerate(details)
        }
    except InvalidChartPeriodError as exc:
        return bad_chart_request(ctx, exc)
    return ctx.render("tenant_home.html", details=details, panels=panels, credit_kinds=CREDIT_KINDS)


@page(bp, "/tenant/units/{unit_id}/receipts/{entry_id}", TENANT, audience="tenant")
def tenant_receipt(ctx: PageContext, unit_id: str, entry_id: str) -> Response:
    assert ctx.principal is not None
    detail = deps().views.unit_detail(ctx.principal, unit_id, ctx.now)
    _, entry, balance_after = deps().views.entry_of_unit(ctx.principal, unit_id, entry_id)
    return ctx.render(
        "receipt.html", d=detail, entry=entry, balance_after=balance_after, back="/tenant"
    )
