"""The tariff editor's form: a tariff document from its fields and back.

The form has repeating groups, one row of inputs per item: seasons (a name and a
``MM-DD`` date range), tiers per season (upper bound in kWh, price), time-of-use bands
(name, price) with a price per band in each season, fixed charges (code, amount, per day
or period) and the standing charge per day; then rounding, tax, tier scaling, and the
raw JSON for what the rows cannot say. Rows are numbered from 0 in field names
(``season1_tier2_upto`` is season 2, tier 3). A row left blank is no row: the page
always shows one spare row of each group, which is how a row is added without
JavaScript; a row is removed by its Remove button (``remove=<group>:<index>``, which
without JavaScript posts the form back without that row: ``without_row``) or by
clearing it.

The document the form makes is validated by the domain's tariff model, the one the JSON
API takes; ``tariff_errors.py`` puts each of its errors next to the row and input it
concerns. Numbers are read with the domain's parsers (``money_text``): amounts of money
with the currency's decimals, prices and kWh with their own.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from ..application import settings_edit, tariff_preview, tariff_schedule
from ..domain.errors import AmountTextError, UnknownCurrencyError
from ..domain.money_text import parse_decimal, parse_major
from ..domain.tariffs import (
    MAX_BANDS,
    MAX_FIXED_CHARGES,
    MAX_SEASONS,
    MAX_TIERS,
    PRICE_DECIMALS,
    TAX_RATE_DECIMALS,
    TIER_KWH_DECIMALS,
)
from .settings_forms import (
    DAYS,
    MAX_DOCUMENT_CHARS,
    TARIFF_KINDS,
    FormFieldError,
    FormReader,
    day_spec,
    form_lines,
    major,
    parse_dates,
    parse_days,
    parse_thresholds,
    read_version,
)

STANDING_CODE = "standing"
# One form can hold every row the tariff model allows, plus its other fields.
MAX_TARIFF_FORM_FIELDS = (
    MAX_SEASONS * (3 + 2 * MAX_TIERS + MAX_BANDS) + 2 * MAX_BANDS + 3 * MAX_FIXED_CHARGES + 40
)
MAX_TARIFF_FORM_BYTES = 65_536
_ROW = re.compile(r"^(season|band|fixed)(\d{1,2})_(.+)$")
_TIER = re.compile(r"^tier(\d{1,2})_(upto|price)$")
_SEASON_BAND = re.compile(r"^band(\d{1,2})_price$")
_NAME = re.compile(r"[^a-z0-9_.-]+")


def season_field(i: int, part: str) -> str:
    return f"season{i}_{part}"


def tier_field(i: int, j: int, part: str) -> str:
    return f"season{i}_tier{j}_{part}"


def season_band_field(i: int, k: int) -> str:
    return f"season{i}_band{k}_price"


def band_field(k: int, part: str) -> str:
    return f"band{k}_{part}"


def fixed_field(n: int, part: str) -> str:
    return f"fixed{n}_{part}"


# --- rows: which are there, renumbered so the n-th row of the document is row n ---


def compact(form: dict[str, str]) -> dict[str, str]:
    """The form with its blank rows dropped and the others renumbered from 0 in order, so
    the document's n-th season (tier, band, charge) is the form's row n and an error of
    ``seasons.1.tiers.2`` belongs to ``season1_tier2_*``."""
    plain = {k: v for k, v in form.items() if not _ROW.match(k)}
    groups: dict[str, dict[int, dict[str, str]]] = {"season": {}, "band": {}, "fixed": {}}
    for key, value in form.items():
        found = _ROW.match(key)
        if found:
            groups[found[1]].setdefault(int(found[2]), {})[found[3]] = value
    bands = _filled(groups["band"])
    band_index = {old: new for new, old in enumerate(bands)}
    for new, old in enumerate(bands):
        plain |= {band_field(new, part): v for part, v in groups["band"][old].items()}
    for new, old in enumerate(_filled(groups["fixed"])):
        plain |= {fixed_field(new, part): v for part, v in groups["fixed"][old].items()}
    for new, old in enumerate(_filled(groups["season"])):
        plain |= _season_row(new, groups["season"][old], band_index)
    return plain


# A Remove button's value (``remove=<group>:<index>``): which row of the shown form to drop.
_REMOVE = re.compile(r"^(?:(season|band|fixed):(\d{1,2})|tier:(\d{1,2}):(\d{1,2}))$")


def without_row(form: dict[str, str], spec: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """The posted (not yet compacted) form without the row a Remove button names, and
    that row as ``(group, number...)`` from 1 for the page to say what went: the no-script
    way to remove a row (the script removes it in the page). A band goes with its price in
    every season. FormFieldError("remove") when the value names no row of the form."""
    found = _REMOVE.match(spec)
    if found is None:
        raise FormFieldError("remove", f"not a row to remove: {spec[:40]!r}")
    if found[1] is not None:
        group, index = found[1], int(found[2])
        doomed = re.compile(rf"^{group}{index}_")
        said: tuple[str, ...] = (group, str(index + 1))
        if group == "band":
            doomed = re.compile(rf"^(?:band{index}_|season\d{{1,2}}_band{index}_price$)")
    else:
        season, tier = int(found[3]), int(found[4])
        doomed = re.compile(rf"^season{season}_tier{tier}_")
        said = ("tier", str(season + 1), str(tier + 1))
    kept = {k: v for k, v in form.items() if not doomed.match(k)}
    if len(kept) == len(form):
        raise FormFieldError("remove", f"no such row: {spec!r}")
    return kept, said


def _filled(rows: dict[int, dict[str, str]]) -> list[int]:
    return [i for i in sorted(rows) if any(v.strip() for v in rows[i].values())]


def _season_row(i: int, row: dict[str, str], band_index: dict[int, int]) -> dict[str, str]:
    out: dict[str, str] = {}
    tiers: dict[int, dict[str, str]] = {}
    for part, value in row.items():
        tier, band = _TIER.match(part), _SEASON_BAND.match(part)
        if tier:
            tiers.setdefault(int(tier[1]), {})[tier[2]] = value
        elif band:
            if int(band[1]) in band_index:
                out[season_band_field(i, band_index[int(band[1])])] = value
        elif part in ("name", "start", "end"):
            out[season_field(i, part)] = value
    for new, old in enumerate(_filled(tiers)):
        out |= {tier_field(i, new, part): v for part, v in tiers[old].items()}
    return out


def count_rows(form: dict[str, str]) -> dict[str, Any]:
    """How many rows of each group a (compacted) form holds: what the page draws, plus
    one spare of each."""
    seasons = _count(form, "season")
    return {
        "seasons": seasons,
        "tiers": [_count(form, f"season{i}_tier") for i in range(seasons)],
        "bands": _count(form, "band"),
        "fixed": _count(form, "fixed"),
    }


def _count(form: dict[str, str], prefix: str) -> int:
    """Rows ``<prefix>0_``, ``<prefix>1_``... present (compacted rows are consecutive)."""
    used = [k for k in form if k.startswith(prefix)]
    n = 0
    while any(k.startswith(f"{prefix}{n}_") for k in used):
        n += 1
    return n


# --- the stored tariff as the form shows it ---


def _fixed_amount(charge: dict[str, Any], currency: str) -> str:
    """A fixed charge as the form writes it: minor units as major, or the exact price."""
    if charge.get("amount_minor") is not None:
        return major(charge["amount_minor"], currency)
    return str(charge["price"])


def document_form(tariff: dict[str, Any]) -> dict[str, str]:
    """Every field of the editor for a tariff document (the JSON the API takes)."""
    currency = tariff["currency"]
    rounding = tariff.get("rounding") or {}
    form = {
        "kind": tariff["kind"],
        "tariff_id": tariff["tariff_id"],
        # "f": normalize() alone writes 10 % as "1E+1", which the form would not read back
        "tax_percent": format((Decimal(tariff.get("tax_rate", "0")) * 100).normalize(), "f"),
        "tax_on": tariff.get("tax_on", "lines"),
        "rounding_lines": rounding.get("lines", "minor"),
        "rounding_total": rounding.get("total", "minor"),
        "rounding_mode": rounding.get("mode", "half_up"),
        "tier_scaling": tariff.get("tier_scaling", "per_month"),
        "document": _document_text(tariff),
        "price": tariff.get("price_per_kwh", "") if tariff["kind"] == "flat" else "",
        "windows": "",
        "tou_holidays": "",
        "standing_per_day": "",
    }
    charges = list(tariff.get("fixed_charges", []))
    standing = [c for c in charges if c["code"] == STANDING_CODE and c["per"] == "day"]
    if standing:
        form["standing_per_day"] = _fixed_amount(standing[0], currency)
        charges.remove(standing[0])
    for n, charge in enumerate(charges):
        form[fixed_field(n, "code")] = charge["code"]
        form[fixed_field(n, "amount")] = _fixed_amount(charge, currency)
        form[fixed_field(n, "per")] = charge["per"]
    bands = [b["name"] for b in tariff.get("bands", [])]
    for k, band in enumerate(tariff.get("bands", [])):
        form[band_field(k, "name")] = band["name"]
        form[band_field(k, "price")] = band["price_per_kwh"]
    for i, season in enumerate(tariff.get("seasons", [])):
        form |= {season_field(i, p): season[p] for p in ("name", "start", "end")}
        for j, tier in enumerate(season.get("tiers", [])):
            form[tier_field(i, j, "upto")] = tier["upto_kwh"] or ""
            form[tier_field(i, j, "price")] = tier["price_per_kwh"]
        for price in season.get("prices", []):
            form[season_band_field(i, bands.index(price["name"]))] = price["price_per_kwh"]
    if tariff["kind"] == "tou":
        form["windows"] = "\n".join(
            f"{day_spec(w['days'])} {w['start']}-{w['end']} {w['band']}" for w in tariff["windows"]
        )
        form["tou_holidays"] = "\n".join(tariff["holidays"])
    return form


def tariff_form(t: settings_edit.UnitTariff) -> dict[str, str]:
    form = document_form(t.tariff.model_dump(mode="json"))
    currency = t.tariff.currency
    form["version"] = str(t.version)
    form["thresholds"] = ", ".join(major(x, currency) for x in t.thresholds_minor or [])
    return form


def _document_text(tariff: dict[str, Any]) -> str:
    """Readable if it fits the form's field limit, else compact; empty if even that is too
    long (such a tariff is edited through the JSON API)."""
    for indent in (1, None):
        text = json.dumps(tariff, ensure_ascii=False, indent=indent)
        if len(text) <= MAX_DOCUMENT_CHARS:
            return text
    return ""


# --- the form as a tariff document ---

# A percentage with this many decimals is a rate with the tariff's TAX_RATE_DECIMALS.
_PERCENT_DECIMALS = TAX_RATE_DECIMALS - 2


def _number(text: str, field: str, decimals: int) -> str:
    """A typed price, kWh bound or percentage by the domain's grammar for typed numbers
    (domain/money_text.py: ASCII digits, no exponent), as the decimal string the tariff
    document carries; the tariff model checks the range."""
    try:
        return str(parse_decimal(text, decimals))
    except AmountTextError as exc:
        raise FormFieldError(field, str(exc)) from exc


def _price(text: str, field: str) -> str:
    return _number(text, field, PRICE_DECIMALS)


def _read_price(r: FormReader, form: dict[str, str], field: str) -> Any:
    return r.read(_price, form.get(field, ""), field)


def _fixed_charge(code: str, text: str, per: str, currency: str, field: str) -> dict[str, Any]:
    """An amount with the currency's decimals is whole minor units (the money parser);
    one quoted finer (60.99p a day is 0.6099 GBP) is an exact price."""
    try:
        return {"code": code, "amount_minor": parse_major(text, currency).amount_minor, "per": per}
    except UnknownCurrencyError as exc:
        raise FormFieldError(field, str(exc)) from exc
    except AmountTextError:
        return {"code": code, "price": _price(text, field), "per": per}


def _season_name(text: str) -> str:
    """Typed as people write it ("Summer", "non summer"), stored as the model's code."""
    return _NAME.sub("-", text.strip().lower()).strip("-")


def tariff_document(form: dict[str, str], currency: str) -> Any:
    """The tariff document the (compacted) form describes; validated afterwards by the
    domain. Every unreadable field is collected (FormErrors)."""
    kind = form.get("kind", "")
    if kind == "json":
        try:
            return json.loads(form.get("document", ""))
        except ValueError as exc:
            raise FormFieldError("document", f"not valid JSON: {exc}") from exc
    if kind not in TARIFF_KINDS:
        raise FormFieldError("kind", "choose a kind of tariff")
    r = FormReader()
    rows = count_rows(form)
    percent = r.read(
        _number, form.get("tax_percent", "").strip() or "0", "tax_percent", _PERCENT_DECIMALS
    )
    doc: dict[str, Any] = {
        "kind": kind,
        "tariff_id": form.get("tariff_id", "").strip(),
        "currency": currency,
        "tax_rate": format(Decimal(percent or 0) / 100, "f"),
        "tax_on": form.get("tax_on", "lines"),
        "rounding": {
            "lines": form.get("rounding_lines", "minor"),
            "total": form.get("rounding_total", "minor"),
            "mode": form.get("rounding_mode", "half_up"),
        },
        "tier_scaling": form.get("tier_scaling", "per_month"),
        "fixed_charges": [],
    }
    if form.get("standing_per_day", "").strip():
        standing = r.read(
            _fixed_charge,
            STANDING_CODE,
            form["standing_per_day"],
            "day",
            currency,
            "standing_per_day",
        )
        doc["fixed_charges"].append(standing)
    for n in range(rows["fixed"]):
        doc["fixed_charges"].append(
            r.read(
                _fixed_charge,
                form.get(fixed_field(n, "code"), "").strip(),
                form.get(fixed_field(n, "amount"), ""),
                form.get(fixed_field(n, "per"), ""),
                currency,
                fixed_field(n, "amount"),
            )
        )
    if kind == "flat":
        doc["price_per_kwh"] = _read_price(r, form, "price")
    elif kind == "tiered":
        doc["seasons"] = [
            _season(form, i) | {"tiers": _tiers(form, i, rows["tiers"][i], r)}
            for i in range(rows["seasons"])
        ]
    else:
        names = [form.get(band_field(k, "name"), "").strip() for k in range(rows["bands"])]
        doc["bands"] = [
            {"name": name, "price_per_kwh": _read_price(r, form, band_field(k, "price"))}
            for k, name in enumerate(names)
        ]
        doc["windows"] = r.read(_windows, form.get("windows", ""), default=[])
        doc["holidays"] = parse_dates(form.get("tou_holidays", ""))
        doc["seasons"] = [
            _season(form, i)
            | {
                "prices": [
                    {"name": name, "price_per_kwh": _read_price(r, form, season_band_field(i, k))}
                    for k, name in enumerate(names)
                ]
            }
            for i in range(rows["seasons"])
        ]
    r.check()
    return doc


def _season(form: dict[str, str], i: int) -> dict[str, Any]:
    return {
        "name": _season_name(form.get(season_field(i, "name"), "")) or f"season-{i + 1}",
        "start": form.get(season_field(i, "start"), "").strip(),
        "end": form.get(season_field(i, "end"), "").strip(),
    }


def _tiers(form: dict[str, str], i: int, count: int, r: FormReader) -> list[dict[str, Any]]:
    tiers = []
    for j in range(count):
        upto = form.get(tier_field(i, j, "upto"), "").strip()
        tiers.append(
            {
                "upto_kwh": None
                if upto in {"", "-", "*"}
                else r.read(_number, upto, tier_field(i, j, "upto"), TIER_KWH_DECIMALS),
                "price_per_kwh": _read_price(r, form, tier_field(i, j, "price")),
            }
        )
    return tiers


def _pairs(text: str, field: str, example: str) -> list[list[str]]:
    rows = []
    for number, line in enumerate(form_lines(text), start=1):
        parts = line.split()
        if len(parts) != len(example.split()):
            raise FormFieldError(field, f"line {number}: write e.g. {example}")
        rows.append(parts)
    return rows


def _windows(text: str) -> list[dict[str, Any]]:
    windows = []
    for days, hours, band in _pairs(text, "windows", "mon-fri 07:30-22:30 peak"):
        start, _, end = hours.partition("-")
        windows.append({"days": _tou_days(days), "start": start, "end": end, "band": band})
    return windows


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


def tariff_update(form: dict[str, str], currency: str) -> settings_edit.UnitTariffUpdate:
    """The request model of a submitted form (FormErrors: every unreadable field)."""
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


def preview_request(form: dict[str, str], currency: str) -> tariff_preview.PreviewRequest:
    """The request model of a form to preview (FormErrors: every unreadable field)."""
    r = FormReader()
    document = r.read(tariff_document, form, currency)
    r.check()
    return tariff_preview.PreviewRequest.model_validate({"tariff": document})


# The scheduling fields: a form with a day in ``effective_from`` schedules the tariff as the
# next version from that day (application/tariff_schedule.py) instead of replacing it now.
SCHEDULE_FIELDS = {"effective_from": "effective_from", "source": "source", "note": "note"}


def schedules(form: dict[str, str]) -> bool:
    return bool(form.get("effective_from", "").strip())


def schedule_request(
    form: dict[str, str], currency: str
) -> tariff_schedule.ScheduledVersionRequest:
    """The request model of a form that schedules a version (FormErrors as above)."""
    update = tariff_update(form, currency)
    return tariff_schedule.ScheduledVersionRequest.model_validate(
        {
            "version": update.version,
            "tariff": update.tariff,
            "effective_from": form.get("effective_from", "").strip(),
            "source": form.get("source", "").strip() or None,
            "note": form.get("note", "").strip() or None,
        }
    )
