"""The billing-cycle page of a unit: the cycle in force, the change waiting for the next
boundary, and a form to ask for one (``application/cycle_schedule.py``, the same use case
as the JSON API). A change asked mid-cycle is stored as pending with its effective day
shown; it is never applied mid-cycle."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..application.cycle_schedule import CycleChangeRequest, CycleSchedule
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page
from .routes_statements import Formats
from .settings_forms import FormErrors, FormFieldError, FormReader, attempt, read_version

bp = Blueprint(__name__)

CYCLE_PAGE = "/portal/units/{unit_id}/cycle"
WITHDRAW_CYCLE = "/portal/units/{unit_id}/cycle/withdraw"
CYCLE_FIELDS = {
    "version": "version",
    "cycle.months": "months",
    "cycle.anchor_day": "anchor_day",
    "cycle.anchor_month": "anchor_month",
    "cycle.change": "form",
    "cycle": "form",
}


@page(bp, CYCLE_PAGE, STAFF, methods=("GET", "POST"))
def unit_cycle(ctx: PageContext, unit_id: str) -> Response:
    """GET: the cycle; POST: schedule the form's cycle from the next boundary."""
    p, scheduler = ctx.signed_in, deps().cycle_scheduler
    current = scheduler.schedule_of(p, unit_id, ctx.now)  # 404 before the form is looked at
    if ctx.request.method == "GET":
        return _page(ctx, current)

    def schedule(request: CycleChangeRequest) -> None:
        scheduler.schedule(p, unit_id, request, ctx.now)

    outcome = attempt(ctx, lambda: cycle_request(ctx.form), schedule, CYCLE_FIELDS)
    if outcome.errors is None:
        return ctx.redirect(CYCLE_PAGE.format(unit_id=unit_id), done="1")
    fresh = scheduler.schedule_of(p, unit_id, ctx.now)
    if outcome.conflict:
        return _page(ctx, fresh, errors=outcome.errors, status=409)
    return _page(ctx, fresh, form=dict(ctx.form), errors=outcome.errors, status=400)


@page(bp, WITHDRAW_CYCLE, STAFF, methods=("POST",))
def withdraw_cycle(ctx: PageContext, unit_id: str) -> Response:
    """Withdraw the change waiting for the next boundary; errors on the cycle page."""
    p, scheduler = ctx.signed_in, deps().cycle_scheduler
    scheduler.schedule_of(p, unit_id, ctx.now)  # 404 before the form is looked at

    def withdraw(version: int) -> None:
        scheduler.withdraw(p, unit_id, version, ctx.now)

    fields = {"version": "form", "cycle.change": "form"}
    outcome = attempt(ctx, lambda: _version(ctx.form), withdraw, fields)
    if outcome.errors is None:
        return ctx.redirect(CYCLE_PAGE.format(unit_id=unit_id), done="1")
    status = 409 if outcome.conflict else 400
    return _page(
        ctx, scheduler.schedule_of(p, unit_id, ctx.now), errors=outcome.errors, status=status
    )


def cycle_request(form: dict[str, str]) -> CycleChangeRequest:
    """The request of the form; every unreadable number is reported against its field."""
    reader = FormReader()
    version = reader.read(read_version, form)
    numbers = {
        name: reader.read(_whole, form, name) for name in ("months", "anchor_day", "anchor_month")
    }
    reader.check()
    return CycleChangeRequest.model_validate({"version": version, "cycle": numbers})


def _version(form: dict[str, str]) -> int:
    try:
        return read_version(form)
    except FormFieldError as exc:
        raise FormErrors({exc.field: str(exc)}) from exc


def _whole(form: dict[str, str], name: str) -> int:
    text = form.get(name, "").strip()
    if not text.isdigit() or len(text) > 2:
        raise FormFieldError(name, f"{name}: a whole number")
    return int(text)


def _page(
    ctx: PageContext,
    s: CycleSchedule,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    shown: Any = s.as_json()
    wanted = shown["change"]["cycle"] if shown["change"] else shown["cycle"]
    stored = {k: str(wanted[k]) for k in ("months", "anchor_day", "anchor_month")}
    return ctx.render(
        "unit_cycle.html",
        status=status,
        fmt=Formats(ctx.tr),
        s=s,
        c=shown,
        form=form or stored,
        errors=errors or {},
        done=ctx.query.get("done") == "1",
    )
