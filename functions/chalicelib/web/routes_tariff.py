"""The tariff editor: a unit's tariff as a form of seasons, tiers, bands, charges,
rounding and tax, with a preview of the bill it would make; and its versions.

One page, four things a POST can ask, so it all works without JavaScript:

- ``save`` (the default): the form's document replaces the tariff now, or with a day in
  ``effective_from`` is scheduled as the next version (``application/tariff_schedule.py``);
- ``preview``: the page again, with the bill of the unit's last cycle priced by the
  form's document (``application/tariff_preview.py``); nothing is stored;
- ``template``: the form filled from a published tariff (``domain/templates.py``),
  marked up or not; nothing is stored;
- ``remove=<group>:<index>`` (a row's Remove button): the page again without that row,
  with its preview; nothing is stored (with the script the row goes in the page instead).

``/preview`` answers only the preview's fragment, for the page's script to refresh it
as the form changes. Errors of the document are put next to the row and input they
concern (``tariff_errors.py``), in the same words for all three.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from ..application.settings_edit import UnitTariff
from ..application.settings_errors import InvalidSettingsError
from ..application.tariff_preview import PreviewRequest, TariffPreview
from ..domain.calendar import zone
from ..domain.errors import AmountTextError, DomainError, InvalidTemplateError
from ..domain.money_text import parse_decimal
from ..domain.templates import all_templates, marked_up, template
from ..routing.access import PUBLIC, STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page
from .render import branding_dir, static_asset
from .settings_forms import FormFieldError, attempt, read_version
from .tariff_errors import field_of, labelled
from .tariff_forms import (
    MAX_TARIFF_FORM_BYTES,
    MAX_TARIFF_FORM_FIELDS,
    SCHEDULE_FIELDS,
    compact,
    count_rows,
    document_form,
    preview_request,
    schedule_request,
    schedules,
    tariff_form,
    tariff_update,
    without_row,
)

bp = Blueprint(__name__)

TARIFF_PAGE = "/portal/units/{unit_id}/tariff"
PREVIEW = "/portal/units/{unit_id}/tariff/preview"
WITHDRAW_VERSION = "/portal/units/{unit_id}/tariff/versions/withdraw"
EDITOR_SCRIPT = "/static/tariff_editor.js"
LIMITS = (MAX_TARIFF_FORM_FIELDS, MAX_TARIFF_FORM_BYTES)
# The editor's page may run its own script (served from this app) and ask for the preview.
EDITOR_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
KEPT_FIELDS = ("version", "thresholds", *SCHEDULE_FIELDS)
MARKUP_DECIMALS = 2


@page(bp, TARIFF_PAGE, STAFF, methods=("GET", "POST"), form_limits=LIMITS)
def unit_tariff(ctx: PageContext, unit_id: str) -> Response:
    p, editor = ctx.signed_in, deps().settings_editor
    current = editor.unit_tariff(p, unit_id)  # 404 before the form is looked at
    if ctx.request.method == "GET":
        return _show(ctx, current, tariff_form(current))
    if "remove" in ctx.form:  # before ``action``: a Remove button posts no action
        return _remove(ctx, current, ctx.form)
    form = compact(ctx.form)
    action = form.get("action", "save")
    if action == "template":
        return _from_template(ctx, current, form)
    if action == "preview":
        preview, errors = _preview(ctx, current, form)
        return _show(ctx, current, form, errors=errors, preview=preview, status=_status(errors))
    return _save(ctx, current, form)


@page(bp, PREVIEW, STAFF, methods=("POST",), form_limits=LIMITS)
def tariff_preview(ctx: PageContext, unit_id: str) -> Response:
    """The preview fragment of the posted form (400 with the errors when it is invalid)."""
    current = deps().settings_editor.unit_tariff(ctx.signed_in, unit_id)
    form = compact(ctx.form)
    preview, errors = _preview(ctx, current, form)
    return ctx.render(
        "_tariff_preview.html",
        status=_status(errors),
        preview=preview,
        errors=errors,
        currency=current.premises.currency,
    )


@page(bp, EDITOR_SCRIPT, PUBLIC)
def tariff_editor_script(ctx: PageContext) -> Response:
    script = static_asset(str(branding_dir(ctx.settings)), "tariff_editor.js")
    return Response(
        body=script,
        status_code=200,
        headers={"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "max-age=300"},
    )


@page(bp, WITHDRAW_VERSION, STAFF, methods=("POST",))
def withdraw_version(ctx: PageContext, unit_id: str) -> Response:
    """Withdraw a scheduled version (one not yet in force); errors on the tariff page."""
    p, editor, scheduler = ctx.signed_in, deps().settings_editor, deps().tariff_scheduler
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
    errors = outcome.errors if outcome.conflict else labelled(outcome.errors, ctx.tr)
    return _show(ctx, fresh, tariff_form(fresh), errors=errors, status=status)


def _save(ctx: PageContext, current: UnitTariff, form: dict[str, str]) -> Response:
    p, unit_id = ctx.signed_in, current.unit.unit_id
    currency = str(current.premises.currency)
    build: Callable[[], Any]
    save: Callable[[Any], Any]
    if schedules(form):
        scheduler = deps().tariff_scheduler
        build = lambda: schedule_request(form, currency)  # noqa: E731
        save = lambda request: scheduler.schedule(p, unit_id, request, ctx.now)  # noqa: E731
    else:
        editor = deps().settings_editor
        build = lambda: tariff_update(form, currency)  # noqa: E731
        save = lambda update: editor.save_unit_tariff(p, unit_id, update, ctx.now)  # noqa: E731
    outcome = attempt(ctx, build, save, {}, _describe(form))
    if outcome.errors is None:
        return ctx.redirect(TARIFF_PAGE.format(unit_id=unit_id), done="1")
    fresh = deps().settings_editor.unit_tariff(p, unit_id)
    if outcome.conflict:  # show what is stored now; the editor re-applies the change
        return _show(ctx, fresh, tariff_form(fresh), errors=outcome.errors, status=409)
    return _show(ctx, fresh, form, errors=labelled(outcome.errors, ctx.tr), status=400)


def _preview(
    ctx: PageContext, current: UnitTariff, form: dict[str, str]
) -> tuple[TariffPreview | None, dict[str, str]]:
    """The form's document priced over the unit's last cycle, or the errors that stop it."""
    currency = str(current.premises.currency)
    shown: list[TariffPreview] = []

    def price(request: PreviewRequest) -> None:
        shown.append(
            deps().tariff_previewer.preview(
                ctx.signed_in, current.unit.unit_id, request.tariff, ctx.now
            )
        )

    outcome = attempt(
        ctx,
        lambda: preview_request(form, currency),
        price,
        {},
        _describe(form),
    )
    if outcome.errors is not None:
        return None, labelled(outcome.errors, ctx.tr)
    return shown[0], {}


def _remove(ctx: PageContext, current: UnitTariff, posted: dict[str, str]) -> Response:
    """The form without the row a Remove button names (the rows after it move up), and
    the preview of what is left; its errors are shown, but a removal is not a refusal."""
    rest = {k: v for k, v in posted.items() if k not in ("remove", "action")}
    try:
        kept, row = without_row(rest, posted["remove"])
    except FormFieldError:
        errors = {"form": ctx.tr.t("editor_remove_unknown")}
        return _show(ctx, current, compact(rest), errors=errors, status=400)
    form = compact(kept)
    preview, errors = _preview(ctx, current, form)
    said = _REMOVED[row[0]](ctx.tr, *row[1:])
    return _show(ctx, current, form, errors=errors, preview=preview, removed=said)


_REMOVED: dict[str, Callable[..., str]] = {
    "season": lambda tr, n: tr.t("editor_removed", row=tr.t("editor_season_n", n=n)),
    "tier": lambda tr, s, t: tr.t(
        "editor_removed", row=tr.t("editor_season_tier", season=s, tier=t)
    ),
    "band": lambda tr, n: tr.t("editor_removed", row=tr.t("editor_band_n", n=n)),
    "fixed": lambda tr, n: tr.t("editor_removed", row=tr.t("editor_fixed_n", n=n)),
}


def _from_template(ctx: PageContext, current: UnitTariff, form: dict[str, str]) -> Response:
    """The form filled from the chosen template's version in force today, its energy
    prices raised by the markup; what the form held for the version and the thresholds
    is kept. Nothing is stored until it is saved."""
    try:
        chosen = template(form.get("template", ""))
    except InvalidTemplateError:
        return _show(
            ctx, current, form, errors={"template": ctx.tr.t("editor_choose_template")}, status=400
        )
    try:
        markup = parse_decimal(form.get("markup_percent", "").strip() or "0", MARKUP_DECIMALS)
        today = ctx.now.astimezone(zone(str(current.premises.time_zone))).date()
        first = chosen.timeline.versions[0]
        version = first if today < first.effective_from else chosen.timeline.version_on(today)
        base = version.tariff
        suffix = f"-m{format(markup.normalize(), 'f')}" if markup else ""
        tariff = marked_up(base, markup, f"{base.tariff_id}{suffix}")
    except (AmountTextError, InvalidTemplateError) as exc:
        return _show(
            ctx, current, form, errors=labelled({"markup_percent": str(exc)}, ctx.tr), status=400
        )
    if tariff.currency != current.premises.currency:
        message = ctx.tr.t(
            "editor_template_currency", currency=tariff.currency, account=current.premises.currency
        )
        return _show(ctx, current, form, errors={"template": message}, status=400)
    filled = document_form(tariff.model_dump(mode="json"))
    filled |= {k: form.get(k, "") for k in KEPT_FIELDS}
    filled |= {"template": chosen.template_id, "markup_percent": form.get("markup_percent", "")}
    if not filled.get("source") and version.source:
        filled["source"] = version.source
    preview, errors = _preview(ctx, current, filled)
    return _show(ctx, current, filled, errors=errors, preview=preview)


def _describe(form: dict[str, str]) -> Callable[[str, str], tuple[str, str]]:
    return lambda path, message: field_of(path, message, form)


def _status(errors: dict[str, str]) -> int:
    return 400 if errors else 200


def _show(
    ctx: PageContext,
    t: UnitTariff,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    preview: TariffPreview | None = None,
    status: int = 200,
    removed: str | None = None,
) -> Response:
    """The editor: the tariff in force, its versions, the form and the preview (of the
    stored tariff when none was asked for and the form has no errors)."""
    p = ctx.signed_in
    if preview is None and not errors:
        preview = _stored_preview(ctx, t)
    schedule = deps().tariff_scheduler.schedule_of(p, t.unit.unit_id, ctx.now)
    response = ctx.render(
        "unit_tariff.html",
        status=status,
        ut=t,
        form=form,
        rows=count_rows(form),
        errors=errors or {},
        done=ctx.query.get("done") == "1",
        tariff=t.tariff.model_dump(mode="json"),
        tax_percent=str((t.tariff.tax_rate * 100).normalize()),
        schedule=schedule.as_json(),
        preview=preview,
        currency=t.premises.currency,
        templates=all_templates(),
        removed=removed,
    )
    response.headers["Content-Security-Policy"] = EDITOR_CSP
    return response


def _stored_preview(ctx: PageContext, t: UnitTariff) -> TariffPreview | None:
    try:
        return deps().tariff_previewer.preview(ctx.signed_in, t.unit.unit_id, t.tariff, ctx.now)
    except (DomainError, InvalidSettingsError):
        return None  # a stored tariff of another currency: the form says why on preview


def _form_version(text: str) -> int:
    try:
        return read_version({"version": text})
    except FormFieldError as exc:
        raise InvalidSettingsError("version", str(exc)) from exc
