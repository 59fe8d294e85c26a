"""Move-in and move-out pages: the forms (linked from the unit page), the move-out
confirmation with the settlement worked out, and the tenancy statement.

The form fields become the same request models as the JSON API's
(``portal/move_requests.py``) and go through the same services.
"""

from __future__ import annotations

import secrets
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from ..application import move_errors
from ..application.errors import InvalidTopUpError
from ..application.move_requests import MoveInRequest, MoveOutRequest
from ..data.errors import NotFoundError
from ..data.models import Unit
from ..domain.calendar import zone
from ..domain.tariff_versions import parse_timeline
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page
from .routes_staff import parse_amount_minor

bp = Blueprint(__name__)

TRANSFER_CHOICES = 50  # occupied units of the same property offered as transfer targets

# Which message a refusal shows, most specific first (the service's own text follows it).
_MESSAGES: tuple[tuple[type[Exception], str], ...] = (
    (move_errors.UnitOccupiedError, "move_err_occupied"),
    (move_errors.TenancyNotCurrentError, "move_err_not_current"),
    (move_errors.MoveInKeyReusedError, "move_err_conflict"),
    (move_errors.MoveOutConflictError, "move_err_conflict"),
    (move_errors.MoveNeedsMeterError, "move_err_no_meter"),
    (move_errors.OpeningReadingError, "move_err_opening"),
    (move_errors.FinalReadingBelowCursorError, "move_err_below_cursor"),
    (move_errors.FinalReadingError, "move_err_final"),
    (move_errors.MoveDateError, "move_err_date"),
    (move_errors.TransferTargetError, "move_err_transfer"),
    (move_errors.ExistingLoginNeedsConfirmationError, "move_err_existing_login"),
    (move_errors.UnverifiedLoginError, "move_err_unverified_login"),
    (move_errors.TenantLoginConflictError, "move_err_login"),
    (move_errors.MoveOutContendedError, "move_err_retry"),
)
_CONFLICTS = (
    move_errors.UnitOccupiedError,
    move_errors.TenancyNotCurrentError,
    move_errors.MoveInKeyReusedError,
    move_errors.MoveOutConflictError,
    move_errors.TenantLoginConflictError,
    move_errors.MoveOutContendedError,
)


def _refusal(ctx: PageContext, exc: Exception) -> tuple[int, str]:
    if isinstance(exc, ValidationError | InvalidTopUpError):
        fields = sorted(
            {str(e["loc"][0]) for e in exc.errors()}
            if isinstance(exc, ValidationError)
            else {"opening_credit"}
        )
        listed = ctx.tr.t("move_err_form", fields=", ".join(ctx.tr.t("field_" + f) for f in fields))
        # the amount parser's reason (what is wrong with the typed opening credit)
        return 400, listed if isinstance(exc, ValidationError) else f"{listed} ({exc})"
    key = next((k for cls, k in _MESSAGES if isinstance(exc, cls)), "move_err_form")
    status = 409 if isinstance(exc, _CONFLICTS) else 422
    return status, f"{ctx.tr.t(key)} ({exc})"


# --- move-in ---


@page(bp, "/portal/units/{unit_id}/move-in", STAFF)
def move_in_form(ctx: PageContext, unit_id: str) -> Response:
    return _move_in_page(ctx, unit_id)


def _move_in_page(
    ctx: PageContext, unit_id: str, status: int = 200, error: str | None = None
) -> Response:
    assert ctx.principal is not None
    unit, premises, latest = deps().move_ins.form(ctx.principal, unit_id)
    form = ctx.form if ctx.request.method == "POST" else {}
    return ctx.render(
        "move_in.html",
        status=status,
        unit=unit,
        premises=premises,
        latest=latest,
        currency=parse_timeline(unit.tariff).currency,
        today=ctx.now.astimezone(zone(premises.time_zone)).date().isoformat(),
        idempotency_key=form.get("idempotency_key") or secrets.token_urlsafe(18),
        form=form,
        error=error,
    )


@page(bp, "/portal/units/{unit_id}/move-in", STAFF, methods=("POST",))
def move_in(ctx: PageContext, unit_id: str) -> Response:
    assert ctx.principal is not None
    unit = deps().scope.visible_unit(ctx.principal, unit_id)
    try:
        req = _move_in_request(ctx, unit)
        result = deps().move_ins.move_in(ctx.principal, unit_id, req, ctx.now)
    except (ValidationError, InvalidTopUpError, move_errors.MoveError) as exc:
        status, message = _refusal(ctx, exc)
        return _move_in_page(ctx, unit_id, status, message)
    return ctx.redirect(
        f"/portal/units/{unit_id}/tenancies/{result.tenancy.tenancy_id}", done="moved_in"
    )


def _move_in_request(ctx: PageContext, unit: Unit) -> MoveInRequest:
    f = ctx.form
    credit = f.get("opening_credit", "").strip()
    data: dict[str, Any] = {
        "idempotency_key": f.get("idempotency_key", ""),
        "starts_on": f.get("starts_on", ""),
        "tenant_email": f.get("tenant_email", "").strip(),
        "tenant_name": f.get("tenant_name", "").strip(),
        "locale": f.get("locale", "en"),
        "opening_kwh": f.get("opening_kwh", "").strip() or None,
        "never_disconnect": f.get("never_disconnect") == "yes",
        "link_existing_login": f.get("link_existing_login") == "yes",
        "opening_credit_minor": (
            parse_amount_minor(credit, parse_timeline(unit.tariff).currency) if credit else 0
        ),
    }
    return MoveInRequest.model_validate(data)


# --- move-out ---


@page(bp, "/portal/units/{unit_id}/move-out", STAFF)
def move_out_form(ctx: PageContext, unit_id: str) -> Response:
    return _move_out_page(ctx, unit_id)


def _move_out_page(
    ctx: PageContext,
    unit_id: str,
    status: int = 200,
    error: str | None = None,
    preview: dict[str, Any] | None = None,
) -> Response:
    assert ctx.principal is not None
    p = ctx.principal
    f = deps().move_outs.form(p, unit_id, TRANSFER_CHOICES)
    return ctx.render(
        "move_out.html",
        status=status,
        unit=f.unit,
        premises=f.premises,
        tenancy=f.tenancy,
        account=f.account,
        latest=f.latest,
        targets=f.targets,
        today=ctx.now.astimezone(zone(f.premises.time_zone)).date().isoformat(),
        form=ctx.form if ctx.request.method == "POST" else {},
        error=error,
        preview=preview,
    )


@page(bp, "/portal/units/{unit_id}/move-out", STAFF, methods=("POST",))
def move_out(ctx: PageContext, unit_id: str) -> Response:
    """Without the confirmation box: work the settlement out and show it (nothing is
    written). With it: carry it out and show the statement."""
    assert ctx.principal is not None
    deps().scope.visible_unit(ctx.principal, unit_id)
    confirmed = ctx.form.get("confirm") == "yes"
    try:
        req = _move_out_request(ctx, dry_run=not confirmed)
        result = deps().move_outs.move_out(ctx.principal, unit_id, req, ctx.now)
    except (ValidationError, move_errors.MoveError) as exc:
        status, message = _refusal(ctx, exc)
        return _move_out_page(ctx, unit_id, status, message)
    if result.dry_run:
        return _move_out_page(ctx, unit_id, preview=result.plan)
    return ctx.redirect(
        f"/portal/units/{unit_id}/tenancies/{result.tenancy.tenancy_id}", done="moved_out"
    )


def _move_out_request(ctx: PageContext, dry_run: bool) -> MoveOutRequest:
    f = ctx.form
    disposition = f.get("disposition", "")
    data: dict[str, Any] = {
        "tenancy_id": f.get("tenancy_id", ""),
        "ends_on": f.get("ends_on", ""),
        "disposition": disposition,
        "final_kwh": f.get("final_kwh", "").strip() or None,
        "transfer_to_unit_id": (f.get("transfer_to_unit_id") or None)
        if disposition == "transfer"
        else None,
        "dry_run": dry_run,
    }
    return MoveOutRequest.model_validate(data)


# --- the statement ---


@page(bp, "/portal/units/{unit_id}/tenancies/{tenancy_id}", STAFF)
def statement(ctx: PageContext, unit_id: str, tenancy_id: str) -> Response:
    assert ctx.principal is not None
    s = deps().move_outs.statement(ctx.principal, unit_id, tenancy_id)
    target = None
    if s.plan and s.plan.get("to_unit"):
        try:
            target = deps().scope.visible_unit(ctx.principal, s.plan["to_unit"])
        except NotFoundError:
            target = None
    return ctx.render("tenancy_statement.html", s=s, target=target, done=ctx.query.get("done"))
