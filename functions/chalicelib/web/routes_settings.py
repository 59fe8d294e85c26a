"""Settings pages: a property's friendly hours, holidays, emergency credit and
low-credit thresholds; the company's thresholds (a unit's tariff has its own editor,
``routes_tariff.py``). Same
use case as the JSON API (``application/settings_edit.py``); the form is read by
``settings_forms.py``, and a form that cannot be saved comes back with each error next
to its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from ..application.settings_edit import CompanyThresholds, PropertySettings
from ..routing.access import COMPANY_ADMINS, STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page
from .settings_forms import (
    COMPANY_FIELDS,
    PROPERTY_FIELDS,
    attempt,
    company_form,
    company_update,
    property_form,
    property_update,
)

bp = Blueprint(__name__)

PROPERTY_PAGE = "/portal/properties/{property_id}/settings"
COMPANY_PAGE = "/portal/company/settings"


def _property_page(ctx: PageContext, s: PropertySettings, **shown: Any) -> Response:
    return _editor(ctx, "property_settings.html", property_form(s), s=s, **shown)


@page(bp, PROPERTY_PAGE, STAFF, methods=("GET", "POST"))
def property_settings(ctx: PageContext, property_id: str) -> Response:
    p, editor = ctx.signed_in, deps().settings_editor
    return _edit(
        ctx,
        lambda: editor.property_settings(p, property_id),
        _property_page,
        property_update,
        lambda update: editor.save_property_settings(p, property_id, update, ctx.now),
        PROPERTY_FIELDS,
        PROPERTY_PAGE.format(property_id=property_id),
    )


def _company_page(ctx: PageContext, s: CompanyThresholds, **shown: Any) -> Response:
    currency = _company_currency(ctx)
    return _editor(
        ctx, "company_settings.html", company_form(s, currency), s=s, currency=currency, **shown
    )


def _company_currency(ctx: PageContext) -> str:
    """The company's thresholds are minor units of each property's own currency; the form
    reads and shows them in the brand's (docs/portal.md, "The company's thresholds")."""
    return ctx.brand.config.currency


@page(bp, COMPANY_PAGE, COMPANY_ADMINS, methods=("GET", "POST"))
def company_settings(ctx: PageContext) -> Response:
    p, editor = ctx.signed_in, deps().settings_editor
    return _edit(
        ctx,
        lambda: editor.company_thresholds(p),
        _company_page,
        company_update,
        lambda update: editor.save_company_thresholds(p, update, ctx.now),
        COMPANY_FIELDS,
        COMPANY_PAGE,
        currency=_company_currency(ctx),
    )


def _edit(
    ctx: PageContext,
    read: Callable[[], Any],
    show: Callable[..., Response],
    update_of: Callable[[dict[str, str], str], Any],
    save: Callable[[Any], Any],
    fields: dict[str, str],
    done_url: str,
    currency: str | None = None,
) -> Response:
    """GET: the editor with what is stored. POST: save the form's request model (amounts
    in ``currency``, else the property's); on errors the editor again (re-read) with
    them: the stored values on a conflict, the typed ones otherwise; else back to the
    editor, done."""
    current = read()  # 404 before the form is looked at
    if ctx.request.method == "GET":
        return show(ctx, current)
    currency = currency or str(current.premises.currency)
    outcome = attempt(ctx, lambda: update_of(ctx.form, currency), save, fields)
    if outcome.errors is None:
        return ctx.redirect(done_url, done="1")
    if outcome.conflict:  # show what is stored now; the editor re-applies the change
        return show(ctx, read(), errors=outcome.errors, status=409)
    return show(ctx, read(), form=dict(ctx.form), errors=outcome.errors, status=400)


def _editor(
    ctx: PageContext,
    template: str,
    stored: dict[str, str],
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    return ctx.render(
        template,
        status=status,
        form=form or stored,
        errors=errors or {},
        done=ctx.query.get("done") == "1",
        **context,
    )
