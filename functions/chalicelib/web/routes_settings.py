"""Settings pages: a property's friendly hours, holidays, emergency credit and
low-credit thresholds; a unit's tariff. Same use case as the JSON API
(``application/settings_edit.py``); the forms are read by ``settings_forms.py`` and
``tariff_forms.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from ..application import settings_edit
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page
from .settings_forms import (
    FormReader,
    attempt,
    format_weekly,
    major,
    parse_dates,
    parse_minor,
    parse_thresholds,
    parse_weekly,
    read_version,
)
from .tariff_forms import tariff_document, tariff_fields, tariff_form

bp = Blueprint(__name__)


# --- property settings ---


def _form_of_property(s: settings_edit.PropertySettings) -> dict[str, str]:
    currency = str(s.premises.currency)
    shadow = s.friendly.to_shadow()
    return {
        "version": str(s.version),
        "weekly": format_weekly(shadow["weekly"]),  # type: ignore[arg-type]
        "holidays": "\n".join(shadow["holidays"]),  # type: ignore[arg-type]
        "emergency_credit": major(s.emergency_credit_minor, currency),
        "thresholds": ", ".join(major(t, currency) for t in s.thresholds_minor or []),
    }


def _property_page(
    ctx: PageContext,
    s: settings_edit.PropertySettings,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return ctx.render(
        "property_settings.html",
        status=status,
        s=s,
        form=form or _form_of_property(s),
        errors=errors or {},
        done=ctx.query.get("done") == "1",
    )


@page(bp, "/portal/properties/{property_id}/settings", STAFF)
def property_settings(ctx: PageContext, property_id: str) -> Response:
    assert ctx.principal is not None
    return _property_page(ctx, deps().settings_editor.property_settings(ctx.principal, property_id))


@page(bp, "/portal/properties/{property_id}/settings", STAFF, methods=("POST",))
def save_property_settings(ctx: PageContext, property_id: str) -> Response:
    assert ctx.principal is not None
    current = deps().settings_editor.property_settings(ctx.principal, property_id)
    form, currency = ctx.form, str(current.premises.currency)

    def build() -> settings_edit.PropertySettingsUpdate:
        r = FormReader()
        body = {
            "version": r.read(read_version, form),
            "friendly_hours": {
                "weekly": r.read(parse_weekly, form.get("weekly", ""), default=[]),
                "holidays": parse_dates(form.get("holidays", "")),
            },
            "emergency_credit_minor": r.read(
                parse_minor, form.get("emergency_credit", ""), currency, "emergency_credit"
            ),
            "low_credit_thresholds_minor": r.read(
                parse_thresholds, form.get("thresholds", ""), currency
            ),
        }
        r.check()
        return settings_edit.PropertySettingsUpdate.model_validate(body)

    def save(update: settings_edit.PropertySettingsUpdate) -> None:
        deps().settings_editor.save_property_settings(ctx.principal, property_id, update, ctx.now)  # type: ignore[arg-type]

    return _submit(
        ctx,
        build,
        save,
        PROPERTY_FIELDS,
        _property_page,
        lambda: deps().settings_editor.property_settings(ctx.principal, property_id),  # type: ignore[arg-type]
        f"/portal/properties/{property_id}/settings",
    )


# request model field -> form field
PROPERTY_FIELDS = {
    "version": "version",
    "friendly_hours.weekly": "weekly",
    "friendly_hours.holidays": "holidays",
    "friendly_hours": "weekly",
    "emergency_credit_minor": "emergency_credit",
    "low_credit_thresholds_minor": "thresholds",
}


# --- unit tariff ---


def _tariff_page(
    ctx: PageContext,
    t: settings_edit.UnitTariff,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return ctx.render(
        "unit_tariff.html",
        status=status,
        ut=t,
        tariff=t.tariff.model_dump(mode="json"),
        tax_percent=str((t.tariff.tax_rate * 100).normalize()),
        form=form or tariff_form(t),
        errors=errors or {},
        done=ctx.query.get("done") == "1",
    )


@page(bp, "/portal/units/{unit_id}/tariff", STAFF)
def unit_tariff(ctx: PageContext, unit_id: str) -> Response:
    assert ctx.principal is not None
    return _tariff_page(ctx, deps().settings_editor.unit_tariff(ctx.principal, unit_id))


@page(bp, "/portal/units/{unit_id}/tariff", STAFF, methods=("POST",))
def save_unit_tariff(ctx: PageContext, unit_id: str) -> Response:
    assert ctx.principal is not None
    current = deps().settings_editor.unit_tariff(ctx.principal, unit_id)
    form, currency = ctx.form, str(current.premises.currency)

    def build() -> settings_edit.UnitTariffUpdate:
        r = FormReader()
        body = {
            "version": r.read(read_version, form),
            "tariff": r.read(tariff_document, form, currency),
            "low_credit_thresholds_minor": r.read(
                parse_thresholds, form.get("thresholds", ""), currency
            ),
        }
        r.check()
        return settings_edit.UnitTariffUpdate.model_validate(body)

    def save(update: settings_edit.UnitTariffUpdate) -> None:
        deps().settings_editor.save_unit_tariff(ctx.principal, unit_id, update, ctx.now)  # type: ignore[arg-type]

    return _submit(
        ctx,
        build,
        save,
        tariff_fields(form.get("kind", "")),
        _tariff_page,
        lambda: deps().settings_editor.unit_tariff(ctx.principal, unit_id),  # type: ignore[arg-type]
        f"/portal/units/{unit_id}/tariff",
    )


def _submit(
    ctx: PageContext,
    build: Callable[[], Any],
    save: Callable[[Any], None],
    fields: dict[str, str],
    show: Callable[..., Response],
    reload: Callable[[], Any],
    done_url: str,
) -> Response:
    """Save the form's request model; on errors show the editor again with them (the
    stored values on a conflict, the typed ones otherwise), else go back to it, done."""
    outcome = attempt(ctx, build, save, fields)
    if outcome.errors is None:
        return ctx.redirect(done_url, done="1")
    if outcome.conflict:  # show what is stored now; the editor re-applies the change
        return show(ctx, reload(), errors=outcome.errors, status=409)
    return show(ctx, reload(), form=dict(ctx.form), errors=outcome.errors, status=400)
