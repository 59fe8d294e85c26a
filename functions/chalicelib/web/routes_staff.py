"""Landlord and manager pages: dashboard, unit, add credit (with receipt), power control."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision
from chalice import Blueprint, Response

from ..application.errors import (
    IdempotencyKeyReusedError,
    InvalidRelayRequestError,
    InvalidTopUpError,
    InvalidTopUpNoteError,
)
from ..domain.usage_periods import InvalidChartPeriodError
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .consumption_view import bad_chart_request, unit_panel
from .pages import PageContext, page

bp = Blueprint(__name__)

MAX_AMOUNT_CHARS = 16


@page(bp, "/portal", STAFF)
def dashboard(ctx: PageContext) -> Response:
    assert ctx.principal is not None
    q = ctx.query
    board = deps().views.dashboard(
        ctx.principal,
        property_id=q.get("property") or None,
        search=q.get("q", ""),
        power=q.get("power") or None,
        cursor=q.get("cursor") or None,
    )
    return ctx.render(
        "dashboard.html",
        board=board,
        q=q.get("q", ""),
        power=q.get("power", ""),
        cursor=q.get("cursor", ""),
    )


@page(bp, "/portal/units/{unit_id}", STAFF)
def unit_page(ctx: PageContext, unit_id: str) -> Response:
    return _unit(ctx, unit_id)


def _unit(ctx: PageContext, unit_id: str, status: int = 200, **errors: str | None) -> Response:
    assert ctx.principal is not None
    detail = deps().views.unit_detail(ctx.principal, unit_id, ctx.now, with_usage=False)
    try:
        consumption = unit_panel(ctx, detail, f"/portal/units/{unit_id}")
    except InvalidChartPeriodError as exc:
        return bad_chart_request(ctx, exc)
    return ctx.render(
        "unit.html",
        status=status,
        d=detail,
        consumption=consumption,
        idempotency_key=secrets.token_urlsafe(18),
        done=ctx.query.get("done"),
        topup_error=errors.get("topup_error"),
        relay_error=errors.get("relay_error"),
        form=ctx.form if ctx.request.method == "POST" else {},
    )


def parse_amount_minor(text: str, currency: str) -> int:
    """A decimal amount in major units, as typed, to integer minor units (no float)."""
    text = text.strip().replace(",", "")
    if not text or len(text) > MAX_AMOUNT_CHARS:
        raise InvalidTopUpError("amount missing")
    try:
        major = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidTopUpError("amount is not a number") from exc
    if not major.is_finite():
        raise InvalidTopUpError("amount is not a number")
    minor = major.scaleb(get_currency_precision(currency))
    if minor != minor.to_integral_value():
        raise InvalidTopUpError("too many decimals for the currency")
    return int(minor)


@page(bp, "/portal/units/{unit_id}/top-up", STAFF, methods=("POST",))
def top_up(ctx: PageContext, unit_id: str) -> Response:
    assert ctx.principal is not None
    unit = deps().scope.visible_unit(ctx.principal, unit_id)
    currency = (unit.tariff or {}).get("currency", "TWD")
    try:
        amount_minor = parse_amount_minor(ctx.form.get("amount", ""), currency)
        receipt = deps().credit.top_up(
            ctx.principal,
            unit,
            amount_minor,
            ctx.form.get("idempotency_key", ""),
            ctx.now,
            note=ctx.form.get("note") or None,
        )
    except InvalidTopUpNoteError:
        return _unit(ctx, unit_id, status=400, topup_error=ctx.tr.t("note_invalid"))
    except (InvalidTopUpError, IdempotencyKeyReusedError):
        return _unit(ctx, unit_id, status=400, topup_error=ctx.tr.t("amount_invalid"))
    return ctx.redirect(f"/portal/units/{unit_id}/receipts/{receipt.entry.entry_id}")


@page(bp, "/portal/units/{unit_id}/receipts/{entry_id}", STAFF)
def receipt(ctx: PageContext, unit_id: str, entry_id: str) -> Response:
    assert ctx.principal is not None
    detail = deps().views.unit_detail(ctx.principal, unit_id, ctx.now)
    _, entry = deps().views.entry_of_unit(ctx.principal, unit_id, entry_id)
    return ctx.render("receipt.html", d=detail, entry=entry, back=f"/portal/units/{unit_id}")


@page(bp, "/portal/units/{unit_id}/relay", STAFF, methods=("POST",))
def relay(ctx: PageContext, unit_id: str) -> Response:
    assert ctx.principal is not None
    unit = deps().scope.visible_unit(ctx.principal, unit_id)
    if ctx.form.get("confirm") != "yes":
        return _unit(ctx, unit_id, status=400, relay_error=ctx.tr.t("confirm_required"))
    try:
        deps().credit.set_power(
            ctx.principal, unit, ctx.form.get("power", ""), ctx.form.get("reason", ""), ctx.now
        )
    except InvalidRelayRequestError:
        return _unit(ctx, unit_id, status=400, relay_error=ctx.tr.t("reason_required"))
    return ctx.redirect(f"/portal/units/{unit_id}", done=ctx.form.get("power", ""))
