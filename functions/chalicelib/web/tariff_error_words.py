"""The tariff editor's error messages in the reader's language.

The editor's errors come from four places that speak English for the JSON API: the
form's own readers (``tariff_forms``, ``settings_forms``, the domain's number parser
``money_text``), the domain's tariff model (its own rules and pydantic's built-in
messages, ``tariff_errors`` turns their field names into words), the tariff use cases
(currency, id, scheduling) and the template's markup. The domain stays English and
pure; here each message the editor can show is matched whole, by one pattern per
sentence, and said again through the catalogue (``editor_err_*`` keys), its figures and
the names the user typed carried over. English has the same sentences in its ``.po``, so
an English page reads as before (tests/unit/portal/test_tariff_error_words.py checks
every sentence says itself back in English and leaves no English in zh-TW).

A message no pattern knows is said as the catalogue's generic "this field is not valid"
rather than in English: a new domain message must add its sentence here to be shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..domain.tariffs import DAY_KINDS
from .i18n import Translator

# The field names ``tariff_errors.words`` puts in front of a message ("price: ...").
_FIELDS = {
    "upper bound": "editor_err_f_upto",
    "price": "editor_err_f_price",
    "amount": "editor_err_f_amount",
    "name": "editor_err_f_name",
    "code": "editor_err_f_code",
    "per": "editor_err_f_per",
}

_N = r"(?P<n>\d+)"
_NUM = r"(?P<n>[0-9.,E+-]+)"
_Q = r"'(?P<v>[^']*)'"

# (the whole English sentence, its key); named groups are the key's placeholders.
_SENTENCES: tuple[tuple[str, str], ...] = (
    # the domain's tariff rules (domain/tariffs.py), as tariff_errors words them
    (r"(?P<day>\d\d-\d\d) is covered by no season; need exactly one", "editor_err_season_gap"),
    (
        r"(?P<day>\d\d-\d\d) is covered by seasons (?P<seasons>.+); need exactly one",
        "editor_err_season_overlap",
    ),
    (r"season names must be unique", "editor_err_season_names"),
    (rf"{_Q} is not MM-DD", "editor_err_not_mmdd"),
    (rf"{_Q} is not a day of the year", "editor_err_not_day_of_year"),
    (r"the last tier must have no upper bound \(leave it empty\)", "editor_err_last_tier_open"),
    (r"only the last tier may have no upper bound", "editor_err_only_last_open"),
    (
        r"upper bound must be above (?P<kwh>[0-9.]+) kWh \(tier (?P<tier>\d+)'s\); "
        r"bounds must be strictly ascending",
        "editor_err_tier_ascending",
    ),
    (r"give exactly one of amount and price", "editor_err_one_amount"),
    (rf"unknown currency {_Q}", "editor_err_unknown_currency"),
    (r"fixed charge codes must be unique", "editor_err_fixed_codes"),
    (r"band names must be unique", "editor_err_band_names"),
    (
        rf"season {_Q} must price exactly the bands \[(?P<bands>[^\]]*)\]",
        "editor_err_season_bands",
    ),
    (rf"window uses unknown band {_Q}", "editor_err_window_band"),
    (
        r"window start (?P<start>\S+) must be before end (?P<end>\S+)",
        "editor_err_window_order",
    ),
    (
        r"windows for (?P<weekday>\w+) have a gap at minute (?P<minute>\d+)",
        "editor_err_window_gap",
    ),
    (
        r"windows for (?P<weekday>\w+) have an overlap at minute (?P<minute>\d+)",
        "editor_err_window_overlap",
    ),
    (r"windows for (?P<weekday>\w+) do not reach 24:00", "editor_err_window_short"),
    (rf"time {_Q} is not HH:MM between 00:00 and 24:00", "editor_err_hhmm"),
    (r"must be a percentage from 0 to 100", "editor_err_percent"),
    (r'floats are refused; write the number as a string, e\.g\. "0\.125"', "editor_err_float"),
    (r"booleans are not numbers here", "editor_err_boolean"),
    # pydantic's own, for the limits the model declares (Field(gt=, le=, ...))
    (rf"Input should be greater than {_NUM}", "editor_err_gt"),
    (rf"Input should be greater than or equal to {_NUM}", "editor_err_ge"),
    (rf"Input should be less than {_NUM}", "editor_err_lt"),
    (rf"Input should be less than or equal to {_NUM}", "editor_err_le"),
    (rf"Decimal input should have no more than {_N} decimal places?", "editor_err_decimals"),
    (rf"Decimal input should have no more than {_N} digits? in total", "editor_err_digits"),
    (
        rf"Decimal input should have no more than {_N} digits? before the decimal point",
        "editor_err_digits",
    ),
    (r"Input should be a finite number", "editor_err_finite"),
    (r"Input should be a valid (?:decimal|number).*", "editor_err_number"),
    (r"Input should be a valid integer.*", "editor_err_number"),
    (r"Input should be a valid date.*", "editor_err_date"),
    (r"Input should be a valid (?:string|list|dictionary|boolean).*", "editor_err_type"),
    (r"String should match pattern '.*'", "editor_err_pattern"),
    (rf"String should have at least {_N} characters?", "editor_err_min_chars"),
    (rf"String should have at most {_N} characters?", "editor_err_max_chars"),
    (rf"List should have at least {_N} items? after validation, not \d+", "editor_err_min_items"),
    (rf"List should have at most {_N} items? after validation, not \d+", "editor_err_max_items"),
    (r"Input should be (?P<choices>'[^']*'(?:, '[^']*')*(?: or '[^']*')?)", "editor_err_choice"),
    (r"Field required", "editor_err_required"),
    (r"Extra inputs are not permitted", "editor_err_extra"),
    (r"Input tag '.*' found using 'kind' does not match .*", "editor_err_kind"),
    (r"Unable to extract tag using discriminator 'kind'", "editor_err_kind"),
    # the form's readers (tariff_forms, settings_forms) and the number parser (money_text)
    (r"not valid JSON: .*", "editor_err_json"),
    (r"choose a kind of tariff", "editor_err_kind"),
    (r"write e\.g\. (?P<example>.+)", "editor_err_write_eg"),
    (rf"at most {_N} lines", "editor_err_lines"),
    (rf"unknown day {_Q} \(use Mon\.\.Sun\)", "editor_err_unknown_day"),
    (r"reload the page", "editor_err_reload"),
    (r"no amount was typed", "editor_err_empty"),
    (rf"an amount has at most {_N} characters", "editor_err_max_chars"),
    (r"a negative amount is not accepted here", "editor_err_negative"),
    (rf"{_Q} is not a number", "editor_err_number"),
    (rf"{_Q} is not one of the digits 0-9", "editor_err_digit_char"),
    (r"exponent notation \(1e3\) is not accepted: type every digit", "editor_err_exponent"),
    (r"'(?P<v>.)' is not accepted.*", "editor_err_char"),
    (r"'-' may only come first", "editor_err_char_minus"),
    (r"no spaces inside an amount", "editor_err_spaces"),
    (rf"{_Q} is not part of an amount: .*", "editor_err_char"),
    (r"more than one '\.'", "editor_err_two_points"),
    (r"type a digit before the '\.' \(0\.5, not \.5\)", "editor_err_point_first"),
    (r"type digits after the '\.' or leave it out", "editor_err_point_last"),
    (r"',' is not accepted after the '\.'", "editor_err_comma"),
    (
        r"',' only separates groups of three digits before the '\.' \(1,000\.50\)",
        "editor_err_comma",
    ),
    (r"no digits", "editor_err_number"),
    (r"whole numbers only", "editor_err_whole"),
    (rf"at most {_N} decimals", "editor_err_decimals"),
    (r"(?P<currency>[A-Z]{3}) amounts are whole numbers", "editor_err_whole"),
    (rf"(?P<currency>[A-Z]{{3}}) amounts have at most {_N} decimals", "editor_err_decimals"),
    (r"at most (?P<amount>[0-9.]+) (?P<currency>[A-Z]{3})", "editor_err_amount_max"),
    (
        r"a comma separates thresholds: type 1000 rather than 1,000, and 100, 500 for two",
        "editor_err_threshold_comma",
    ),
    # the use cases (application/settings_edit.py, tariff_preview.py, tariff_schedule.py)
    (
        r"must be (?P<currency>[A-Z]{3}), the (?:account|property)'s currency",
        "editor_err_currency",
    ),
    (r"give the changed tariff a new id \(charges name the tariff id\)", "editor_err_new_id"),
    (r"this unit's tariff has dated versions; .*", "editor_err_has_versions"),
    (
        r"(?P<day>\S+) is inside a bill already issued \(billed up to (?P<billed>\S+)\); "
        r"past versions are immutable",
        "editor_err_in_issued_bill",
    ),
    (
        r"(?P<day>\S+) has begun or is past \(today is (?P<today>\S+) in the property's "
        r"time zone\); a version takes effect from a later day",
        "editor_err_day_begun",
    ),
    (
        r"(?P<day>\S+) must follow the last version \((?P<last>\S+)\); "
        r"withdraw that one to move it",
        "editor_err_after_last",
    ),
    (rf"at most {_N} versions", "editor_err_max_versions"),
    (r"no version takes effect on (?P<day>\S+)", "editor_err_no_version"),
    (
        r"the version of (?P<day>\S+) has taken effect; past versions are immutable",
        "editor_err_version_begun",
    ),
    (rf"{_Q} is not YYYY-MM-DD", "editor_err_date"),
)
_COMPILED = tuple((re.compile(pattern), key) for pattern, key in _SENTENCES)
# "price: <sentence>", "line 2: <sentence>", a JSON document's "<path>: <sentence>", and
# a use case's "<field>: <sentence>" (its input already shows the error)
_FIELD = re.compile(rf"^(?P<field>{'|'.join(map(re.escape, _FIELDS))}): (?P<rest>.+)$", re.S)
_LINE = re.compile(r"^line (?P<n>\d+): (?P<rest>.+)$", re.S)
_PATH = re.compile(r"^(?P<path>[a-z_]+(?:\.[a-z0-9_]+)*): (?P<rest>.+)$", re.S)


def _seasons(text: str, tr: Translator) -> str:
    """``1 (summer) and 2 (rest)``: each season by its number and the name typed."""
    named = re.findall(r"(\d+) \(([^)]*)\)", text)
    return tr.t("editor_err_and").join(tr.t("editor_err_season_ref", n=n, name=m) for n, m in named)


def _names(text: str, tr: Translator) -> str:
    """``'peak', 'off'``: the names typed, in the reader's list."""
    return tr.t("editor_err_list_sep").join(re.findall(r"'([^']*)'", text))


def _weekday(code: str, tr: Translator) -> str:
    """``mon``..``sun``, ``holiday``: the tariff's day kinds, in words."""
    return tr.t(f"editor_err_day_{code}") if code in DAY_KINDS else code


# Placeholders that hold what the domain wrote in English: lists, day kinds.
_LISTS: dict[str, Callable[[str, Translator], str]] = {
    "seasons": _seasons,
    "bands": _names,
    "weekday": _weekday,
}


def sentence(message: str, tr: Translator) -> str | None:
    """The message in the reader's language, or None when no pattern knows it."""
    found = _FIELD.match(message)
    if found:
        rest = sentence(found["rest"], tr)
        field = tr.t(_FIELDS[found["field"]])
        return None if rest is None else tr.t("editor_err_field", field=field, message=rest)
    found = _LINE.match(message)
    if found:
        rest = sentence(found["rest"], tr)
        return None if rest is None else tr.t("editor_err_line", n=found["n"], message=rest)
    found = _PATH.match(message)
    if found:  # a document's path stays (it is what the JSON says); a bare field name goes
        rest = sentence(found["rest"], tr)
        if rest is None or "." not in found["path"]:
            return rest
        return f"{found['path']}: {rest}"
    for pattern, key in _COMPILED:
        whole = pattern.fullmatch(message)
        if whole:
            values = {
                k: _LISTS[k](v, tr) if k in _LISTS else v
                for k, v in whole.groupdict().items()
                if v is not None
            }
            return tr.t(key, **values)
    return None


def in_words(message: str, tr: Translator) -> str:
    """The message as the reader's page shows it (English is kept as it is)."""
    if tr.language == "en":
        return message
    said = sentence(message, tr)
    return tr.t("editor_err_unknown") if said is None else said
