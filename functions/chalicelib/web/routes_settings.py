"""Settings pages: a property's friendly hours, holidays, emergency credit and
low-credit thresholds; a unit's tariff. Same service as the JSON API
(``portal/settings_edit.py``); this module only turns phone-friendly form
fields (one line per window, amounts in major units) into its request models
and shows errors next to the field they concern."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision
from chalice import Blueprint, Response
from pydantic import ValidationError

from ..application import settings_edit
from ..application.settings_errors import InvalidSettingsError
from ..data.settings_store import SettingsVersionConflictError
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page

bp = Blueprint(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZH_DAYS = ("一", "二", "三", "四", "五", "六", "日")
EVERY_DAY = {"daily", "everyday", "每天", "每日"}
MAX_LINES = 100
MAX_AMOUNT_CHARS = 16
MAX_DOCUMENT_CHARS = 2_000  # the form's field limit (web/pages.py)
TARIFF_KINDS = ("flat", "tiered", "tou", "json")
LINE = re.compile(r"^\s*(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


class FormFieldError(ValueError):
    """A form field that cannot be read; ``field`` is the form field's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class FormErrors(ValueError):
    """Every unreadable field of one form, so all are shown at once."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class FormReader:
    """Reads fields one by one and collects the failures instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def read(self, parse: Callable[..., Any], *args: Any, default: Any = None) -> Any:
        try:
            return parse(*args)
        except FormFieldError as exc:
            self.errors.setdefault(exc.field, str(exc))
            return default

    def check(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


# --- reading the phone-friendly fields ---


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
    if len(lines) > MAX_LINES:
        raise ValueError(f"at most {MAX_LINES} lines")
    return lines


def _day(token: str) -> int:
    token = token.strip().lower().removeprefix("週").removeprefix("周")
    if token[:3] in DAYS and len(token) >= 3:
        return DAYS.index(token[:3])
    if token in ZH_DAYS:
        return ZH_DAYS.index(token)
    if token.isdigit() and int(token) < 7:
        return int(token)
    raise ValueError(f"unknown day {token!r} (use Mon..Sun)")


def parse_days(spec: str) -> list[int]:
    """``Mon``, ``Mon-Fri``, ``Sat,Sun``, ``daily`` (also 週一-週五) as weekday numbers."""
    if spec.lower() in EVERY_DAY:
        return list(range(7))
    days: list[int] = []
    for part in re.split(r"[,、]", spec):
        first, _, last = part.partition("-")
        start, end = _day(first), _day(last) if last else _day(first)
        run = range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)]
        days.extend(d for d in run if d not in days)
    return days


def parse_weekly(text: str) -> list[dict[str, Any]]:
    windows: list[dict[str, Any]] = []
    for number, line in enumerate(_lines(text), start=1):
        found = LINE.match(line)
        if not found:
            raise FormFieldError("weekly", f"line {number}: write e.g. Mon-Fri 22:00-24:00")
        try:
            days = parse_days(found["days"])
        except ValueError as exc:
            raise FormFieldError("weekly", f"line {number}: {exc}") from exc
        start, end = (t.zfill(5) for t in (found["start"], found["end"]))
        windows.extend({"weekday": d, "start": start, "end": end} for d in days)
    return windows


def _runs(days: list[int]) -> str:
    """Weekday numbers as Mon-Fri,Sun (consecutive days as a range)."""
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        DAYS[r[0]].title() if len(r) == 1 else f"{DAYS[r[0]].title()}-{DAYS[r[-1]].title()}"
        for r in runs
    )


def _day_spec(kinds: list[str]) -> str:
    """A TOU window's day kinds as typed in the form: mon-fri, sat-sun,holiday."""
    spec = _runs([DAYS.index(k) for k in kinds if k in DAYS]).lower()
    return ",".join(p for p in (spec, "holiday" if "holiday" in kinds else "") if p)


def format_weekly(weekly: list[list[Any]]) -> str:
    """Windows with the same hours on consecutive days as one line (Mon-Fri 00:00-08:00)."""
    by_hours: dict[tuple[str, str], list[int]] = {}
    for day, start, end in weekly:
        by_hours.setdefault((start, end), []).append(int(day))
    lines = []
    for (start, end), days in sorted(by_hours.items(), key=lambda kv: (min(kv[1]), kv[0])):
        lines.append(f"{'Daily' if len(set(days)) == 7 else _runs(days)} {start}-{end}")
    return "\n".join(lines)


def parse_dates(text: str) -> list[str]:
    return [d for d in re.split(r"[\s,]+", text.strip()) if d][: MAX_LINES * 4]


def parse_minor(text: str, currency: str, field: str) -> int:
    """An amount in major units as typed (``100``, ``1,000.50``) to integer minor units."""
    text = text.strip().replace(",", "")
    if not text or len(text) > MAX_AMOUNT_CHARS:
        raise FormFieldError(field, "enter an amount")
    try:
        major = Decimal(text)
    except InvalidOperation as exc:
        raise FormFieldError(field, f"{text!r} is not a number") from exc
    if not major.is_finite() or major < 0:
        raise FormFieldError(field, "enter zero or a positive amount")
    minor = major.scaleb(get_currency_precision(currency))
    if minor != minor.to_integral_value():
        raise FormFieldError(field, f"too many decimals for {currency}")
    return int(minor)


def parse_thresholds(text: str, currency: str) -> list[int] | None:
    """Empty: inherit. Else amounts separated by commas or spaces."""
    parts = [p for p in re.split(r"[\s,、]+", text.strip()) if p]
    if not parts:
        return None
    return [parse_minor(p, currency, "thresholds") for p in parts]


def major(amount_minor: int, currency: str) -> str:
    return str(Decimal(int(amount_minor)).scaleb(-get_currency_precision(currency)))


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
            "version": r.read(_version, form),
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

    outcome = _attempt(ctx, build, save, PROPERTY_FIELDS)
    if outcome.errors is not None:
        fresh = deps().settings_editor.property_settings(ctx.principal, property_id)
        if outcome.conflict:  # show what is stored now; the editor re-applies the change
            return _property_page(ctx, fresh, errors=outcome.errors, status=409)
        return _property_page(ctx, fresh, form=dict(form), errors=outcome.errors, status=400)
    return ctx.redirect(f"/portal/properties/{property_id}/settings", done="1")


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


def _tariff_form(t: settings_edit.UnitTariff) -> dict[str, str]:
    tariff = t.tariff.model_dump(mode="json")
    currency = tariff["currency"]
    form = {
        "version": str(t.version),
        "kind": tariff["kind"],
        "tariff_id": tariff["tariff_id"],
        "tax_percent": str((Decimal(tariff["tax_rate"]) * 100).normalize()),
        "fixed_charges": "\n".join(
            f"{c['code']} {major(c['amount_minor'], currency)} {c['per']}"
            for c in tariff["fixed_charges"]
        ),
        "thresholds": ", ".join(major(x, currency) for x in t.thresholds_minor or []),
        "document": _document_text(tariff),
        "price": "",
        "tiers": "",
        "bands": "",
        "windows": "",
        "tou_holidays": "",
    }
    if tariff["kind"] == "flat":
        form["price"] = tariff["price_per_kwh"]
    elif tariff["kind"] == "tiered" and len(tariff["seasons"]) == 1:
        form["tiers"] = "\n".join(
            f"{x['upto_kwh'] or '-'} {x['price_per_kwh']}" for x in tariff["seasons"][0]["tiers"]
        )
    elif tariff["kind"] == "tou":
        form["bands"] = "\n".join(f"{b['name']} {b['price_per_kwh']}" for b in tariff["bands"])
        form["windows"] = "\n".join(
            f"{_day_spec(w['days'])} {w['start']}-{w['end']} {w['band']}" for w in tariff["windows"]
        )
        form["tou_holidays"] = "\n".join(tariff["holidays"])
    else:  # several seasons: only the JSON editor shows all of it
        form["kind"] = "json"
    return form


def _document_text(tariff: dict[str, Any]) -> str:
    """Readable if it fits the form's field limit, else compact; empty if even that is too
    long (such a tariff is edited through the JSON API)."""
    for indent in (1, None):
        text = json.dumps(tariff, ensure_ascii=False, indent=indent)
        if len(text) <= MAX_DOCUMENT_CHARS:
            return text
    return ""


def _pairs(text: str, field: str, example: str) -> list[list[str]]:
    rows = []
    for number, line in enumerate(_lines(text), start=1):
        parts = line.split()
        if len(parts) != len(example.split()):
            raise FormFieldError(field, f"line {number}: write e.g. {example}")
        rows.append(parts)
    return rows


def tariff_document(form: dict[str, str], currency: str) -> Any:
    """The tariff document the form describes (validated afterwards by the domain)."""
    kind = form.get("kind", "")
    if kind == "json":
        try:
            return json.loads(form.get("document", ""))
        except ValueError as exc:
            raise FormFieldError("document", f"not valid JSON: {exc}") from exc
    if kind not in TARIFF_KINDS:
        raise FormFieldError("kind", "choose a kind of tariff")
    try:
        tax = str(Decimal(form.get("tax_percent", "0").strip() or "0") / 100)
    except InvalidOperation as exc:
        raise FormFieldError("tax_percent", "enter a percentage such as 5") from exc
    doc: dict[str, Any] = {
        "kind": kind,
        "tariff_id": form.get("tariff_id", "").strip(),
        "currency": currency,
        "tax_rate": tax,
        "fixed_charges": [
            {
                "code": code,
                "amount_minor": parse_minor(amount, currency, "fixed_charges"),
                "per": per,
            }
            for code, amount, per in _pairs(
                form.get("fixed_charges", ""), "fixed_charges", "standing 0.53 day"
            )
        ],
    }
    if kind == "flat":
        doc["price_per_kwh"] = form.get("price", "").strip()
    elif kind == "tiered":
        tiers = _pairs(form.get("tiers", ""), "tiers", "120 1.68")
        doc["seasons"] = [
            {
                "name": "all",
                "start": "01-01",
                "end": "12-31",
                "tiers": [
                    {"upto_kwh": None if upto in {"-", "*"} else upto, "price_per_kwh": price}
                    for upto, price in tiers
                ],
            }
        ]
    else:
        doc["bands"] = [
            {"name": name, "price_per_kwh": price}
            for name, price in _pairs(form.get("bands", ""), "bands", "peak 6.20")
        ]
        windows = []
        for days, hours, band in _pairs(
            form.get("windows", ""), "windows", "mon-fri 07:30-22:30 peak"
        ):
            start, _, end = hours.partition("-")
            windows.append({"days": _tou_days(days), "start": start, "end": end, "band": band})
        doc["windows"] = windows
        doc["holidays"] = parse_dates(form.get("tou_holidays", ""))
    return doc


def _tou_days(spec: str) -> list[str]:
    names: list[str] = []
    for part in spec.lower().split(","):
        if part == "holiday":
            names.append("holiday")
            continue
        try:
            names.extend(DAYS[d] for d in parse_days(part) if DAYS[d] not in names)
        except ValueError as exc:
            raise FormFieldError("windows", str(exc)) from exc
    return names


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
        form=form or _tariff_form(t),
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
            "version": r.read(_version, form),
            "tariff": r.read(tariff_document, form, currency),
            "low_credit_thresholds_minor": r.read(
                parse_thresholds, form.get("thresholds", ""), currency
            ),
        }
        r.check()
        return settings_edit.UnitTariffUpdate.model_validate(body)

    def save(update: settings_edit.UnitTariffUpdate) -> None:
        deps().settings_editor.save_unit_tariff(ctx.principal, unit_id, update, ctx.now)  # type: ignore[arg-type]

    outcome = _attempt(ctx, build, save, tariff_fields(form.get("kind", "")))
    if outcome.errors is not None:
        fresh = deps().settings_editor.unit_tariff(ctx.principal, unit_id)
        if outcome.conflict:
            return _tariff_page(ctx, fresh, errors=outcome.errors, status=409)
        return _tariff_page(ctx, fresh, form=dict(form), errors=outcome.errors, status=400)
    return ctx.redirect(f"/portal/units/{unit_id}/tariff", done="1")


def tariff_fields(kind: str) -> dict[str, str]:
    """Request model paths -> the form field an error is shown next to."""
    fields = {
        "version": "version",
        "low_credit_thresholds_minor": "thresholds",
        "tariff": "document" if kind == "json" else "kind",
    }
    if kind == "json":
        return fields
    for k in ("flat", "tiered", "tou"):
        fields |= {
            f"tariff.{k}.tariff_id": "tariff_id",
            f"tariff.{k}.tax_rate": "tax_percent",
            f"tariff.{k}.fixed_charges": "fixed_charges",
        }
    return fields | {
        "tariff.tariff_id": "tariff_id",
        "tariff.currency": "kind",
        "tariff.flat.price_per_kwh": "price",
        "tariff.tiered.seasons": "tiers",
        "tariff.tou": "windows",
        "tariff.tou.bands": "bands",
        "tariff.tou.windows": "windows",
        "tariff.tou.holidays": "tou_holidays",
    }


# --- shared ---


def _version(form: dict[str, str]) -> int:
    text = form.get("version", "")
    if not text.isdigit() or len(text) > 12:
        raise FormFieldError("version", "reload the page")
    return int(text)


@dataclass(frozen=True)
class Outcome:
    errors: dict[str, str] | None = None
    conflict: bool = False


def _attempt(
    ctx: PageContext,
    build: Callable[[], Any],
    save: Callable[[Any], None],
    fields: dict[str, str],
) -> Outcome:
    """Build the request model from the form and save it; errors keyed by form field."""
    try:
        save(build())
    except FormErrors as exc:
        return Outcome(dict(exc.errors))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"])
            errors.setdefault(_form_field(path, fields), f"{path}: {err['msg']}")
        return Outcome(errors)
    except InvalidSettingsError as exc:
        return Outcome({_form_field(exc.field, fields): str(exc)})
    except SettingsVersionConflictError:
        return Outcome({"form": ctx.tr.t("settings_conflict")}, conflict=True)
    return Outcome()


def _form_field(path: str, fields: dict[str, str]) -> str:
    """The form field for a model path: the longest declared prefix, else the first part."""
    for prefix in sorted(fields, key=len, reverse=True):
        if path == prefix or path.startswith(prefix + "."):
            return fields[prefix]
    return path.split(".")[0]
