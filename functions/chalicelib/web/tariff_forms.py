"""The unit-tariff form: a tariff document from the form's fields (flat, tiered, time of
use, or raw JSON) and back, and which form field an error of the document belongs to."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..application import settings_edit, tariff_schedule
from ..domain.errors import AmountTextError
from ..domain.money_text import parse_decimal
from ..domain.tariffs import PRICE_DECIMALS, TAX_RATE_DECIMALS, TIER_KWH_DECIMALS
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
    parse_minor,
    parse_thresholds,
    read_version,
)


def _fixed_amount(charge: dict[str, Any], currency: str) -> str:
    """A fixed charge as the form writes it: minor units as major, or the exact price."""
    if charge.get("amount_minor") is not None:
        return major(charge["amount_minor"], currency)
    return str(charge["price"])


def tariff_form(t: settings_edit.UnitTariff) -> dict[str, str]:
    tariff = t.tariff.model_dump(mode="json")
    currency = tariff["currency"]
    form = {
        "version": str(t.version),
        "kind": tariff["kind"],
        "tariff_id": tariff["tariff_id"],
        # "f": normalize() alone writes 10 % as "1E+1", which the form would not read back
        "tax_percent": format((Decimal(tariff["tax_rate"]) * 100).normalize(), "f"),
        "fixed_charges": "\n".join(
            f"{c['code']} {_fixed_amount(c, currency)} {c['per']}" for c in tariff["fixed_charges"]
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
            f"{day_spec(w['days'])} {w['start']}-{w['end']} {w['band']}" for w in tariff["windows"]
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
    for number, line in enumerate(form_lines(text), start=1):
        parts = line.split()
        if len(parts) != len(example.split()):
            raise FormFieldError(field, f"line {number}: write e.g. {example}")
        rows.append(parts)
    return rows


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
    percent = _number(form.get("tax_percent", "").strip() or "0", "tax_percent", _PERCENT_DECIMALS)
    tax = format(Decimal(percent) / 100, "f")
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
        doc["price_per_kwh"] = _price(form.get("price", ""), "price")
    elif kind == "tiered":
        tiers = _pairs(form.get("tiers", ""), "tiers", "120 1.68")
        doc["seasons"] = [
            {
                "name": "all",
                "start": "01-01",
                "end": "12-31",
                "tiers": [
                    {
                        "upto_kwh": None
                        if upto in {"-", "*"}
                        else _number(upto, "tiers", TIER_KWH_DECIMALS),
                        "price_per_kwh": _price(price, "tiers"),
                    }
                    for upto, price in tiers
                ],
            }
        ]
    else:
        doc["bands"] = [
            {"name": name, "price_per_kwh": _price(price, "bands")}
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
