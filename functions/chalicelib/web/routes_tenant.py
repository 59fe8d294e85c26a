"""Tenant pages: remaining credit and days left, power and why, consumption,
every credit added with its receipt."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..auth.principal import Role
from ..portal import views
from .pages import PageContext, page
from .routes_staff import usage_chart

bp = Blueprint(__name__)

TENANT = frozenset({Role.TENANT})
CREDIT_KINDS = frozenset({"top_up", "transfer_in", "emergency_credit"})


@page(bp, "/tenant", TENANT, audience="tenant")
def tenant_home(ctx: PageContext) -> Response:
    assert ctx.principal is not None
    details = [
        views.unit_detail(ctx.principal, u.unit_id, ctx.now)
        for u in views.tenant_units(ctx.principal)
    ]
    charts = {d.unit.unit_id: usage_chart(ctx, d) for d in details}
    return ctx.render("tenant_home.html", details=details, charts=charts, credit_kinds=CREDIT_KINDS)


@page(bp, "/tenant/units/{unit_id}/receipts/{entry_id}", TENANT, audience="tenant")
def tenant_receipt(ctx: PageContext, unit_id: str, entry_id: str) -> Response:
    assert ctx.principal is not None
    detail = views.unit_detail(ctx.principal, unit_id, ctx.now)
    _, entry = views.entry_of_unit(ctx.principal, unit_id, entry_id)
    return ctx.render("receipt.html", d=detail, entry=entry, back="/tenant")
