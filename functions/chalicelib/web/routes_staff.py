"""Landlord and manager pages: dashboard, unit (with how many readings are held), add credit
(with receipt), power control."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response

from ..application.chart import sparkline_svg
from ..application.errors import (
    IdempotencyKeyReusedError,
    InvalidPowerEndError,
    InvalidRelayRequestError,
    InvalidTopUpError,
    InvalidTopUpNoteError,
)
from ..data.models import Unit
from ..domain.errors import AmountTextError, UnknownCurrencyError
from ..domain.meter_models import meter_models
from ..domain.money import Currency
from ..domain.money_text import parse_major
from ..domain.usage_periods import InvalidChartPeriodError
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .alert_text import where
from .consumption_view import bad_chart_request, unit_panel
from .pages import PageContext, page

bp = Blueprint(__name__)
ALERT_DONE = ("acknowledge", "resolve")
DEFAULT_ON_FOR = timedelta(days=1)  # what the "on until" field offers first


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
        groups=deps().notifications.open_groups(ctx.principal),
        where=functools.partial(where, ctx.tr),
        done=ctx.query.get("done", "") if ctx.query.get("done") in ALERT_DONE else "",
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
    health = (
        deps().bus_health.of_meter(ctx.principal.company_id, detail.meter, ctx.now)
        if detail.meter is not None
        else None
    )
    return ctx.render(
        "unit.html",
        status=status,
        d=detail,
        consumption=consumption,
        health=health,
        models=meter_models(),
        health_spark=(
            sparkline_svg(health.failures_per_hour, ctx.tr.t("bus_failures_per_hour"), "bus-spark")
            if health
            else ""
        ),
        held=deps().reading_review.pending(ctx.principal, detail.unit),
        idempotency_key=secrets.token_urlsafe(18),
        done=ctx.query.get("done"),
        topup_error=errors.get("topup_error"),
        relay_error=errors.get("relay_error"),
        form=ctx.form if ctx.request.method == "POST" else {},
        # the "on until" field's first value and floor: a day from now, on the property's clock
        until_default=_local_minute(ctx.now + DEFAULT_ON_FOR, detail.premises.time_zone),
        until_min=_local_minute(ctx.now, detail.premises.time_zone),
    )


def _local_minute(at: datetime, time_zone: str) -> str:
    """A ``datetime-local`` input's value: the property's wall clock, to the minute."""
    return at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%M")


def parse_amount_minor(text: str, currency: str) -> int:
    """An amount typed in major units as integer minor units, by the domain's parser
    (domain/money_text.py) and the domain's exponent for the currency."""
    try:
        return parse_major(text, currency).amount_minor
    except AmountTextError as exc:
        raise InvalidTopUpError(str(exc)) from exc


def unit_currency(unit: Unit) -> str:
    """The currency of the unit's tariff, as the domain knows it. No default: money typed
    for a unit whose currency is missing or unknown would be stored in a guessed unit."""
    currency = (unit.tariff or {}).get("currency")
    if not isinstance(currency, str):
        raise UnknownCurrencyError("the unit's tariff names no currency")
    return Currency.of(currency).code


@page(bp, "/portal/units/{unit_id}/top-up", STAFF, methods=("POST",))
def top_up(ctx: PageContext, unit_id: str) -> Response:
    assert ctx.principal is not None
    unit = deps().scope.visible_unit(ctx.principal, unit_id)
    try:
        currency = unit_currency(unit)
    except UnknownCurrencyError as exc:
        error = f"{ctx.tr.t('currency_unknown')} ({exc})"
        return _unit(ctx, unit_id, status=422, topup_error=error)
    try:
        amount_minor = parse_amount_minor(ctx.form.get("amount", ""), currency)
    except InvalidTopUpError as exc:
        error = f"{ctx.tr.t('amount_invalid')} ({exc})"
        return _unit(ctx, unit_id, status=400, topup_error=error)
    try:
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
    _, entry, balance_after = deps().views.entry_of_unit(ctx.principal, unit_id, entry_id)
    return ctx.render(
        "receipt.html",
        d=detail,
        entry=entry,
        balance_after=balance_after,
        back=f"/portal/units/{unit_id}",
    )


@page(bp, "/portal/units/{unit_id}/relay", STAFF, methods=("POST",))
def relay(ctx: PageContext, unit_id: str) -> Response:
    """The one power form: automatic, off by hand, or on by hand until a time or the next
    top-up; a reason and a confirmation, whichever the mode."""
    assert ctx.principal is not None
    unit = deps().scope.visible_unit(ctx.principal, unit_id)
    if ctx.form.get("confirm") != "yes":
        return _unit(ctx, unit_id, status=400, relay_error=ctx.tr.t("confirm_required"))
    power = ctx.form.get("power", "")
    # the end fields count for "on" only (the form keeps them whichever mode is chosen)
    until_kind = ctx.form.get("until_kind", "") if power == "on" else ""
    try:
        deps().credit.set_power(
            ctx.principal,
            unit,
            power,
            ctx.form.get("reason", ""),
            ctx.now,
            until=ctx.form.get("until_at", "") if until_kind == "time" else None,
            until_topup=power == "on" and until_kind == "topup",
        )
    except InvalidPowerEndError:
        return _unit(ctx, unit_id, status=400, relay_error=ctx.tr.t("power_end_required"))
    except InvalidRelayRequestError:
        return _unit(ctx, unit_id, status=400, relay_error=ctx.tr.t("reason_required"))
    return ctx.redirect(f"/portal/units/{unit_id}", done=power)
