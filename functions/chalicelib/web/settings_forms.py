"""Reading the settings pages' phone-friendly fields (one line per window, amounts in
major units) into the settings request models, collecting every unreadable field so
all are shown at once, next to the field they concern."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..application.settings_edit import (
    CompanyThresholds,
    CompanyThresholdsUpdate,
    PropertySettings,
    PropertySettingsUpdate,
)
from ..application.settings_errors import InvalidSettingsError
from ..data.settings_store import SettingsVersionConflictError
from ..domain.errors import AmountTextError, UnknownCurrencyError
from ..domain.money_text import format_major, parse_major
from .pages import PageContext

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZH_DAYS = ("一", "二", "三", "四", "五", "六", "日")
EVERY_DAY = {"daily", "everyday", "每天", "每日"}
MAX_LINES = 100
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
        except FormErrors as exc:  # a part of the form read by its own reader
            for field, message in exc.errors.items():
                self.errors.setdefault(field, message)
            return default

    def check(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


# --- reading the phone-friendly fields ---


def form_lines(text: str) -> list[str]:
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
    for number, line in enumerate(form_lines(text), start=1):
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


def day_spec(kinds: list[str]) -> str:
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
    """A zero-or-positive amount typed in major units (``100``, ``1,000.50``) as integer
    minor units: the domain's parser and exponent (domain/money_text.py)."""
    try:
        return parse_major(text, currency).amount_minor
    except (AmountTextError, UnknownCurrencyError) as exc:
        raise FormFieldError(field, str(exc)) from exc


# The form says thresholds are "separated by commas", so here a comma always separates
# and amounts are typed without grouping. "100,500" could be 100500 or 100 and 500, and
# "1,000" would become 1 and 0: a comma followed by exactly three digits is refused, not
# guessed at.
_AMBIGUOUS_COMMA = re.compile(r"[0-9],[0-9]{3}(?![0-9])")


def parse_thresholds(text: str, currency: str) -> list[int] | None:
    """Empty: inherit. Else amounts separated by commas or spaces."""
    if _AMBIGUOUS_COMMA.search(text):
        raise FormFieldError(
            "thresholds",
            "a comma separates thresholds: type 1000 rather than 1,000, and 100, 500 for two",
        )
    parts = [p for p in re.split(r"[\s,、]+", text.strip()) if p]
    if not parts:
        return None
    return [parse_minor(p, currency, "thresholds") for p in parts]


def major(amount_minor: int, currency: str) -> str:
    """An amount as the form shows it for editing (the domain's decimals, no grouping)."""
    return format_major(int(amount_minor), currency)


# --- shared ---


def read_version(form: dict[str, str]) -> int:
    text = form.get("version", "")
    if not text.isdigit() or len(text) > 12:
        raise FormFieldError("version", "reload the page")
    return int(text)


@dataclass(frozen=True)
class Outcome:
    errors: dict[str, str] | None = None
    conflict: bool = False


# (model path, message) -> (form field, message as the form shows it)
Describe = Callable[[str, str], tuple[str, str]]


def attempt(
    ctx: PageContext,
    build: Callable[[], Any],
    save: Callable[[Any], object],
    fields: dict[str, str],
    describe: Describe | None = None,
) -> Outcome:
    """Build the request model from the form and save it; errors keyed by form field
    (``describe``: a form's own mapping of model paths, else the ``fields`` prefixes)."""

    def located(path: str, message: str) -> tuple[str, str]:
        if describe is not None:
            return describe(path, message)
        return _form_field(path, fields), f"{path}: {message}"

    try:
        save(build())
    except FormErrors as exc:
        return Outcome(dict(exc.errors))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field, message = located(".".join(str(p) for p in err["loc"]), err["msg"])
            errors.setdefault(field, message)
        return Outcome(errors)
    except InvalidSettingsError as exc:
        field, message = located(exc.field, exc.message)
        return Outcome({field: message})
    except SettingsVersionConflictError:
        return Outcome({"form": ctx.tr.t("settings_conflict")}, conflict=True)
    return Outcome()


def _form_field(path: str, fields: dict[str, str]) -> str:
    """The form field for a model path: the longest declared prefix, else the first part."""
    for prefix in sorted(fields, key=len, reverse=True):
        if path == prefix or path.startswith(prefix + "."):
            return fields[prefix]
    return path.split(".")[0]


# --- the property settings form ---

# request model field -> form field
PROPERTY_FIELDS = {
    "version": "version",
    "friendly_hours.weekly": "weekly",
    "friendly_hours.holidays": "holidays",
    "friendly_hours": "weekly",
    "emergency_credit_minor": "emergency_credit",
    "low_credit_thresholds_minor": "thresholds",
}


def property_form(s: PropertySettings) -> dict[str, str]:
    """The stored settings as the form shows them."""
    currency = str(s.premises.currency)
    shadow = s.friendly.to_shadow()
    return {
        "version": str(s.version),
        "weekly": format_weekly(shadow["weekly"]),  # type: ignore[arg-type]
        "holidays": "\n".join(shadow["holidays"]),  # type: ignore[arg-type]
        "emergency_credit": major(s.emergency_credit_minor, currency),
        "thresholds": ", ".join(major(t, currency) for t in s.thresholds_minor or []),
    }


def property_update(form: dict[str, str], currency: str) -> PropertySettingsUpdate:
    """The request model of a submitted form (FormErrors: every unreadable field)."""
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
    return PropertySettingsUpdate.model_validate(body)


# --- the company's thresholds form ---

COMPANY_FIELDS = {"version": "version", "low_credit_thresholds_minor": "thresholds"}


def company_form(s: CompanyThresholds, currency: str) -> dict[str, str]:
    """The stored thresholds as the form shows them, in the brand's currency."""
    return {
        "version": str(s.version),
        "thresholds": ", ".join(major(t, currency) for t in s.thresholds_minor),
    }


def company_update(form: dict[str, str], currency: str) -> CompanyThresholdsUpdate:
    """The request model of a submitted form; an empty field is no thresholds (the
    company has nothing of its own to inherit)."""
    r = FormReader()
    body = {
        "version": r.read(read_version, form),
        "low_credit_thresholds_minor": r.read(
            parse_thresholds, form.get("thresholds", ""), currency
        ),
    }
    r.check()
    body["low_credit_thresholds_minor"] = body["low_credit_thresholds_minor"] or []
    return CompanyThresholdsUpdate.model_validate(body)
