"""Settings pages: a property's friendly hours, holidays, emergency credit and
low-credit thresholds; a unit's tariff. Same use case as the JSON API
(``application/settings_edit.py``); the forms are read by ``settings_forms.py`` and
``tariff_forms.py``, and a form that cannot be saved comes back with each error next
to its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from ..application.settings_edit import PropertySettings, UnitTariff
from ..application.settings_errors import InvalidSettingsError
from ..auth.principal import Principal
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page
from .settings_forms import (
    PROPERTY_FIELDS,
    FormFieldError,
    attempt,
    property_form,
    property_update,
    read_version,
)
from .tariff_forms import (
    SCHEDULE_FIELDS,
    schedule_request,
    schedules,
    tariff_fields,
    tariff_form,
    tariff_update,
)

bp = Blueprint(__name__)

PROPERTY_PAGE = "/portal/properties/{property_id}/settings"
TARIFF_PAGE = "/portal/units/{unit_id}/tariff"
WITHDRAW_VERSION = "/portal/units/{unit_id}/tariff/versions/withdraw"


def _property_page(ctx: PageContext, s: PropertySettings, **shown: Any) -> Response:
    return _editor(ctx, "property_settings.html", property_form(s), s=s, **shown)


def _tariff_page(ctx: PageContext, t: UnitTariff, **shown: Any) -> Response:
    tax_percent = str((t.tariff.tax_rate * 100).normalize())
    schedule = deps().tariff_scheduler.schedule_of(_staff(ctx), t.unit.unit_id, ctx.now)
    return _editor(
        ctx,
        "unit_tariff.html",
        {**tariff_form(t), "effective_from": "", "source": "", "note": ""},
        ut=t,
        tariff=t.tariff.model_dump(mode="json"),
        tax_percent=tax_percent,
        schedule=schedule.as_json(),
        **shown,
    )


@page(bp, PROPERTY_PAGE, STAFF, methods=("GET", "POST"))
def property_settings(ctx: PageContext, property_id: str) -> Response:
    p, editor = _staff(ctx), deps().settings_editor
    return _edit(
        ctx,
        lambda: editor.property_settings(p, property_id),
        _property_page,
        property_update,
        lambda update: editor.save_property_settings(p, property_id, update, ctx.now),
        PROPERTY_FIELDS,
        PROPERTY_PAGE.format(property_id=property_id),
    )


@page(bp, TARIFF_PAGE, STAFF, methods=("GET", "POST"))
def unit_tariff(ctx: PageContext, unit_id: str) -> Response:
    """Replace the tariff now, or, with a day in ``effective_from``, schedule it as the
    next version from that day."""
    p, editor, scheduler = _staff(ctx), deps().settings_editor, deps().tariff_scheduler
    fields = tariff_fields(ctx.form.get("kind", "")) if ctx.request.method == "POST" else {}
    if ctx.request.method == "POST" and schedules(ctx.form):
        return _edit(
            ctx,
            lambda: editor.unit_tariff(p, unit_id),
            _tariff_page,
            schedule_request,
            lambda request: scheduler.schedule(p, unit_id, request, ctx.now),
            fields | SCHEDULE_FIELDS,
            TARIFF_PAGE.format(unit_id=unit_id),
        )
    return _edit(
        ctx,
        lambda: editor.unit_tariff(p, unit_id),
        _tariff_page,
        tariff_update,
        lambda update: editor.save_unit_tariff(p, unit_id, update, ctx.now),
        fields,
        TARIFF_PAGE.format(unit_id=unit_id),
    )


@page(bp, WITHDRAW_VERSION, STAFF, methods=("POST",))
def withdraw_version(ctx: PageContext, unit_id: str) -> Response:
    """Withdraw a scheduled version (one not yet in force); errors on the tariff page."""
    p, editor, scheduler = _staff(ctx), deps().settings_editor, deps().tariff_scheduler
    current = editor.unit_tariff(p, unit_id)  # 404 before the form is looked at

    def withdraw(version: str) -> None:
        scheduler.withdraw(p, unit_id, ctx.form.get("day", ""), _form_version(version), ctx.now)

    outcome = attempt(
        ctx,
        lambda: ctx.form.get("version", ""),
        withdraw,
        {"effective_from": "withdraw", "version": "withdraw"},
    )
    if outcome.errors is None:
        return ctx.redirect(TARIFF_PAGE.format(unit_id=unit_id), done="1")
    status = 409 if outcome.conflict else 400
    fresh = current if outcome.conflict is False else editor.unit_tariff(p, unit_id)
    return _tariff_page(ctx, fresh, errors=outcome.errors, status=status)


def _form_version(text: str) -> int:
    try:
        return read_version({"version": text})
    except FormFieldError as exc:
        raise InvalidSettingsError("version", str(exc)) from exc


def _staff(ctx: PageContext) -> Principal:
    assert ctx.principal is not None  # the page's session check ran
    return ctx.principal


def _edit(
    ctx: PageContext,
    read: Callable[[], Any],
    show: Callable[..., Response],
    update_of: Callable[[dict[str, str], str], Any],
    save: Callable[[Any], Any],
    fields: dict[str, str],
    done_url: str,
) -> Response:
    """GET: the editor with what is stored. POST: save the form's request model; on
    errors the editor again (re-read) with them: the stored values on a conflict, the
    typed ones otherwise; else back to the editor, done."""
    current = read()  # 404 before the form is looked at
    if ctx.request.method == "GET":
        return show(ctx, current)
    currency = str(current.premises.currency)
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
