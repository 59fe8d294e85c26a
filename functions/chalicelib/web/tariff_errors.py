"""Where an error of a tariff document belongs on the editor, and how it reads there.

The editor's document is validated by the domain's model (one validator for the form
and the JSON API), whose errors are located by a path in the document
(``tariff.tiered.seasons.1.tiers.2.upto_kwh``) and worded for the API (``upto_kwh``).
On the (compacted) form the n-th season, tier, band or charge of the document is row n
(``tariff_forms.compact``), so the path names the input: ``season1_tier2_upto``. The
message then says the row in the reader's language and the field in words: "Season 2,
tier 3: upper bound must be above 200 kWh".

A rule checked over a whole list names its item in the message (the domain numbers
them from 1: ``tier 3: ...``, ``seasons 1 (summer) and 2 (rest)``); that item's input
gets the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .i18n import Translator
from .tariff_error_words import in_words
from .tariff_forms import (
    band_field,
    fixed_field,
    season_band_field,
    season_field,
    tier_field,
)

_KIND = r"tariff\.(?:flat|tiered|tou)"
_WORDS = (
    ("upto_kwh null (unbounded)", "no upper bound (leave it empty)"),
    ("upto_kwh null", "no upper bound"),
    ("upto_kwh", "upper bound"),
    ("price_per_kwh", "price"),
    ("amount_minor", "amount"),
    ("Value error, ", ""),
)
_TIER_IN_MESSAGE = re.compile(r"^tier (\d+): ")
_SEASONS_IN_MESSAGE = re.compile(r"covered by seasons (?:\d+ \([^)]*\) and )*(\d+) \(")
_SIMPLE = {
    "tariff_id": "tariff_id",
    "tax_rate": "tax_percent",
    "tax_on": "tax_on",
    "rounding.lines": "rounding_lines",
    "rounding.total": "rounding_total",
    "rounding.mode": "rounding_mode",
    "rounding": "rounding_lines",
    "tier_scaling": "tier_scaling",
    "price_per_kwh": "price",
    "fixed_charges": "fixed_charges",
    "windows": "windows",
    "holidays": "tou_holidays",
    "bands": "bands",
    "seasons": "seasons",
    "currency": "form",
}
_OUTSIDE = {
    "version": "version",
    "low_credit_thresholds_minor": "thresholds",
    "effective_from": "effective_from",
    "source": "source",
    "note": "note",
    "tariff.currency": "form",
    "tariff.tariff_id": "tariff_id",
    "tariff": "form",
}


_DECIMAL = re.compile(r"Decimal\('([^']*)'\)")


def words(message: str) -> str:
    for name, said in _WORDS:
        message = message.replace(name, said)
    return _DECIMAL.sub(r"\1", message)


def _fixed(n: int, form: dict[str, str], part: str) -> str:
    """The n-th fixed charge of the document: the standing charge first, when typed."""
    if form.get("standing_per_day", "").strip():
        if n == 0:
            return "standing_per_day"
        n -= 1
    return fixed_field(n, "amount" if part in ("amount_minor", "price") else part)


def field_of(path: str, message: str, form: dict[str, str]) -> tuple[str, str]:
    """The editor input an error at ``path`` belongs to, and its message in words."""
    message = message.removeprefix("Value error, ")
    if form.get("kind") == "json" and path.startswith("tariff"):
        return "document", f"{path}: {message}"
    if path in _OUTSIDE:
        return _OUTSIDE[path], message
    inner = re.sub(rf"^{_KIND}\.?", "", path) if re.match(_KIND, path) else None
    if inner is None:
        return path.split(".")[0], f"{path}: {message}"
    return _inner_field(inner, message, form)


def _inner_field(inner: str, message: str, form: dict[str, str]) -> tuple[str, str]:
    found = re.match(r"^seasons\.(\d+)\.tiers(?:\.(\d+)\.(upto_kwh|price_per_kwh))?", inner)
    if found:
        i = int(found[1])
        if found[2] is not None:
            part = "upto" if found[3] == "upto_kwh" else "price"
            return tier_field(i, int(found[2]), part), _with_field(found[3], message)
        tier = _TIER_IN_MESSAGE.match(message)
        if tier:  # "tier 3: upto_kwh must be above ..."
            return tier_field(i, int(tier[1]) - 1, "upto"), words(message[tier.end() :])
        return season_field(i, "tiers"), words(message)
    found = re.match(r"^seasons\.(\d+)\.prices\.(\d+)", inner)
    if found:
        return season_band_field(int(found[1]), int(found[2])), words(message)
    found = re.match(r"^seasons\.(\d+)(?:\.(name|start|end))?", inner)
    if found:
        return season_field(int(found[1]), found[2] or "name"), words(message)
    if inner == "seasons":
        overlap = _SEASONS_IN_MESSAGE.search(message)
        if overlap:  # the later of the seasons covering a day: its range is what moves
            return season_field(int(overlap[1]) - 1, "start"), message
        return "seasons", message
    found = re.match(r"^bands\.(\d+)\.(name|price_per_kwh)", inner)
    if found:
        part = "name" if found[2] == "name" else "price"
        return band_field(int(found[1]), part), _with_field(found[2], message)
    found = re.match(r"^fixed_charges\.(\d+)(?:\.(\w+))?", inner)
    if found:
        part = found[2] or "amount"
        return _fixed(int(found[1]), form, part), _with_field(part, message)
    if inner == "tax_rate":  # the form asks for a percentage, the document holds a rate
        return "tax_percent", "must be a percentage from 0 to 100"
    for prefix in sorted(_SIMPLE, key=len, reverse=True):
        if inner == prefix or inner.startswith(prefix + "."):
            return _SIMPLE[prefix], words(message)
    if inner == "" and "window" in message:
        return "windows", words(message)
    if inner == "":
        return "bands" if "band" in message else "kind", words(message)
    return "form", f"{inner}: {words(message)}"


def _with_field(part: str, message: str) -> str:
    """``upper bound: Input should be greater than 0`` unless the message names it."""
    said = words(part)
    text = words(message)
    return text if said in text else f"{said}: {text}"


_LABELS: tuple[tuple[re.Pattern[str], Callable[[Translator, re.Match[str]], str]], ...] = (
    (
        re.compile(r"^season(\d+)_tier(\d+)_"),
        lambda tr, m: tr.t("editor_season_tier", season=int(m[1]) + 1, tier=int(m[2]) + 1),
    ),
    (
        re.compile(r"^season(\d+)_band(\d+)_"),
        lambda tr, m: tr.t("editor_season_band", season=int(m[1]) + 1, band=int(m[2]) + 1),
    ),
    (re.compile(r"^season(\d+)_"), lambda tr, m: tr.t("editor_season_n", n=int(m[1]) + 1)),
    (re.compile(r"^band(\d+)_"), lambda tr, m: tr.t("editor_band_n", n=int(m[1]) + 1)),
    (re.compile(r"^fixed(\d+)_"), lambda tr, m: tr.t("editor_fixed_n", n=int(m[1]) + 1)),
    (re.compile(r"^standing_per_day$"), lambda tr, m: tr.t("editor_standing")),
)


def label_of(field: str, tr: Translator) -> str | None:
    """The row an input belongs to, in the reader's words ("Season 2, tier 3")."""
    for pattern, said in _LABELS:
        found = pattern.match(field)
        if found:
            return said(tr, found)
    return None


def labelled(errors: dict[str, str], tr: Translator) -> dict[str, str]:
    """Each error in the reader's language (``tariff_error_words``), a row's prefixed with
    the row it concerns."""
    out = {}
    for field, message in errors.items():
        label, said = label_of(field, tr), in_words(message, tr)
        out[field] = tr.t("editor_err_field", field=label, message=said) if label else said
    return out
