"""The resale check page of a property: the utility tariff the landlord pays (a template)
and, per unit and per period, what the tenant was charged against what the same energy
costs at it, with a warning where the market caps resale
(``application/resale_check.py``; the comparison and the caps are domain/resale.py)."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..application.resale_check import ResaleView, UtilityTariffRequest
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page
from .routes_statements import Formats
from .settings_forms import FormErrors, FormFieldError, attempt, read_version

bp = Blueprint(__name__)

RESALE_PAGE = "/portal/properties/{property_id}/resale"


@page(bp, RESALE_PAGE, STAFF, methods=("GET", "POST"))
def resale_check(ctx: PageContext, property_id: str) -> Response:
    """GET: the check; POST: the utility tariff the landlord pays (a template, or none)."""
    p, check = ctx.signed_in, deps().resale_check
    current = check.of_property(p, property_id, ctx.now)  # 404 before the form is looked at
    if ctx.request.method == "GET":
        return _page(ctx, current)

    def save(request: UtilityTariffRequest) -> None:
        check.set_utility(p, property_id, request, ctx.now)

    fields = {"version": "version", "template_id": "template_id"}
    outcome = attempt(ctx, lambda: utility_request(ctx.form), save, fields)
    if outcome.errors is None:
        return ctx.redirect(RESALE_PAGE.format(property_id=property_id), done="1")
    status = 409 if outcome.conflict else 400
    return _page(ctx, check.of_property(p, property_id, ctx.now), outcome.errors, status)


def utility_request(form: dict[str, str]) -> UtilityTariffRequest:
    try:
        version = read_version(form)
    except FormFieldError as exc:
        raise FormErrors({exc.field: str(exc)}) from exc
    if "template_id" not in form:
        raise FormErrors({"template_id": "template_id: choose a tariff, or none"})
    chosen = form["template_id"].strip()
    return UtilityTariffRequest.model_validate({"version": version, "template_id": chosen or None})


def _page(
    ctx: PageContext, v: ResaleView, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    return ctx.render(
        "resale_check.html",
        status=status,
        v=v,
        fmt=Formats(ctx.tr),
        errors=errors or {},
        done=ctx.query.get("done") == "1",
    )
