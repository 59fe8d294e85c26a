"""The tariff editor's form: rows of seasons, tiers, bands and charges become the tariff
document the JSON API takes (one validator), and each error of that document lands on
the input it concerns, in the reader's words."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.application.tariff_preview import PreviewRequest
from chalicelib.domain.billing import postpaid_bill
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.sample_usage import SAMPLE_DAY_KWH, sample_readings
from chalicelib.domain.tariffs import parse_tariff
from chalicelib.domain.templates import all_templates, marked_up, template
from chalicelib.web.i18n import Translator
from chalicelib.web.settings_forms import FormErrors, FormFieldError
from chalicelib.web.tariff_error_words import _SENTENCES, in_words, sentence
from chalicelib.web.tariff_errors import field_of, label_of, labelled
from chalicelib.web.tariff_forms import compact, document_form, tariff_document

EN, ZH = Translator("en"), Translator("zh_TW")


def two_seasons(**changes: str) -> dict[str, str]:
    """A two-season tiered tariff as typed, with the page's spare rows left blank."""
    form = {
        "kind": "tiered",
        "tariff_id": "two-seasons",
        "tax_percent": "5",
        "rounding_total": "whole",
        "season0_name": "Summer",
        "season0_start": "06-01",
        "season0_end": "09-30",
        "season0_tier0_upto": "120",
        "season0_tier0_price": "1.78",
        "season0_tier1_upto": "",
        "season0_tier1_price": "2.55",
        "season0_tier2_upto": "",  # spare
        "season0_tier2_price": "",
        "season1_name": "non summer",
        "season1_start": "10-01",
        "season1_end": "05-31",
        "season1_tier0_upto": "120",
        "season1_tier0_price": "1.78",
        "season1_tier1_upto": "200",
        "season1_tier1_price": "2.26",
        "season1_tier2_upto": "",
        "season1_tier2_price": "3.13",
        "season2_name": "",  # spare season
        "season2_start": "",
        "season2_end": "",
        "season2_tier0_upto": "",
        "season2_tier0_price": "",
        "standing_per_day": "0.6099",
        "fixed0_code": "meter",
        "fixed0_amount": "75",
        "fixed0_per": "period",
        "fixed1_code": "",
        "fixed1_amount": "",
        "fixed1_per": "",
    }
    return form | changes


def errors_of(form: dict[str, str], tr: Translator = EN, currency: str = "TWD") -> dict[str, str]:
    """What the page shows next to each input: the route's own steps."""
    compacted = compact(form)
    try:
        PreviewRequest.model_validate({"tariff": tariff_document(compacted, currency)})
    except FormErrors as exc:
        return labelled(exc.errors, tr)
    except FormFieldError as exc:  # the route's reader collects these into FormErrors
        return labelled({exc.field: str(exc)}, tr)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"])
            field, message = field_of(path, err["msg"], compacted)
            found.setdefault(field, message)
        return labelled(found, tr)
    return {}


def test_a_two_season_tiered_form_is_the_document_the_api_takes() -> None:
    doc = tariff_document(compact(two_seasons()), "TWD")
    tariff = parse_tariff(doc)
    assert tariff.kind == "tiered"
    assert [(s.name, s.start, s.end) for s in tariff.seasons] == [
        ("summer", "06-01", "09-30"),
        ("non-summer", "10-01", "05-31"),
    ]
    assert [(t.upto_kwh, t.price_per_kwh) for t in tariff.seasons[1].tiers] == [
        (Decimal("120"), Decimal("1.78")),
        (Decimal("200"), Decimal("2.26")),
        (None, Decimal("3.13")),
    ]
    assert tariff.tax_rate == Decimal("0.05") and tariff.rounding.total == "whole"
    # the standing charge is finer than the dollar: an exact price; 75 is whole minor units
    assert doc["fixed_charges"] == [
        {"code": "standing", "price": "0.6099", "per": "day"},
        {"code": "meter", "amount_minor": 7500, "per": "period"},
    ]


def test_blank_rows_in_the_middle_are_dropped_and_the_rest_renumbered() -> None:
    form = two_seasons(season0_tier1_upto="", season0_tier1_price="")  # a cleared tier
    form |= {"season0_tier2_upto": "", "season0_tier2_price": "2.55"}
    compacted = compact(form)
    assert compacted["season0_tier1_price"] == "2.55"
    assert "season0_tier2_price" not in compacted
    assert "season2_name" not in compacted


@pytest.mark.parametrize("chosen", all_templates(), ids=lambda t: t.template_id)
def test_every_template_version_survives_the_form_unchanged(chosen: Any) -> None:
    for version in chosen.versions:
        shown = document_form(version.tariff.model_dump(mode="json"))
        back = parse_tariff(tariff_document(compact(shown), version.tariff.currency))
        assert back == version.tariff


def test_season_2_tier_3_below_tier_2_is_named_in_the_readers_words() -> None:
    form = two_seasons(season1_tier2_upto="150", season1_tier3_price="4.00")
    errors = errors_of(form)
    assert list(errors) == ["season1_tier2_upto"]
    assert errors["season1_tier2_upto"].startswith(
        "Season 2, tier 3: upper bound must be above 200 kWh"
    )
    zh = errors_of(form, ZH)
    assert zh["season1_tier2_upto"].startswith("第 2 個季節，第 3 段")


def test_an_overlapping_season_is_named_on_the_later_seasons_start() -> None:
    errors = errors_of(two_seasons(season1_start="09-01"))
    assert list(errors) == ["season1_start"]
    message = errors["season1_start"]
    assert message.startswith("Season 2: 09-01 is covered by seasons 1 (summer) and 2")


def test_a_gap_between_seasons_is_named_on_the_seasons() -> None:
    errors = errors_of(two_seasons(season1_start="10-02"))
    assert errors == {"seasons": "10-01 is covered by no season; need exactly one"}


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        ({"season0_tier1_price": "1e3"}, "season0_tier1_price", "Season 1, tier 2: "),
        ({"season0_tier0_price": "1000001"}, "season0_tier0_price", "Season 1, tier 1: price"),
        ({"season1_tier0_upto": "0"}, "season1_tier0_upto", "Season 2, tier 1: upper bound"),
        ({"season0_start": "02-30"}, "season0_start", "Season 1: "),
        ({"fixed0_per": "week"}, "fixed0_per", "Fixed charge 1: "),
        ({"standing_per_day": "0.1234567"}, "standing_per_day", "Standing charge: "),
        ({"rounding_lines": "pennies"}, "rounding_lines", ""),
        ({"tax_percent": "120"}, "tax_percent", ""),
        ({"tariff_id": ""}, "tariff_id", ""),
    ],
)
def test_each_bad_input_is_refused_next_to_its_field(
    changes: dict[str, str], field: str, said: str
) -> None:
    errors = errors_of(two_seasons(**changes))
    assert list(errors) == [field], errors
    assert errors[field].startswith(said)


def test_time_of_use_seasons_price_each_band_and_a_missing_price_is_named() -> None:
    form = {
        "kind": "tou",
        "tariff_id": "tou-seasons",
        "band0_name": "peak",
        "band0_price": "5",
        "band1_name": "off_peak",
        "band1_price": "2",
        "windows": "daily,holiday 00:00-09:00 off_peak\ndaily,holiday 09:00-24:00 peak",
        "season0_name": "summer",
        "season0_start": "06-01",
        "season0_end": "09-30",
        "season0_band0_price": "5.16",
        "season0_band1_price": "2.06",
        "season1_name": "other",
        "season1_start": "10-01",
        "season1_end": "05-31",
        "season1_band0_price": "4.93",
        "season1_band1_price": "1.99",
    }
    tariff = parse_tariff(tariff_document(compact(form), "TWD"))
    assert tariff.kind == "tou"
    assert tariff.price_on("peak", date(2026, 7, 1)) == Decimal("5.16")
    assert tariff.price_on("off_peak", date(2026, 12, 1)) == Decimal("1.99")
    errors = errors_of(form | {"season1_band1_price": ""})
    assert list(errors) == ["season1_band1_price"]
    assert errors["season1_band1_price"].startswith("Season 2, band 2: ")


def test_a_template_marked_up_raises_energy_prices_only() -> None:
    base = template("gb-ofgem-price-cap-electricity").versions[-1].tariff
    raised = marked_up(base, Decimal("10"), "gb-m10")
    assert raised.tariff_id == "gb-m10"
    assert raised.price_per_kwh == (base.price_per_kwh * Decimal("1.1")).quantize(  # type: ignore[union-attr]
        Decimal("0.000001")
    )
    assert raised.fixed_charges == base.fixed_charges


def test_the_sample_is_10_kwh_a_day_and_prices_like_a_bill() -> None:
    month = BillingPeriod(date(2026, 11, 1), date(2026, 12, 1))
    readings = sample_readings(month, "Asia/Taipei")
    assert len(readings) == 30 * 24 + 1
    assert readings[-1].cumulative_kwh == 30 * SAMPLE_DAY_KWH == Decimal("300")
    flat = parse_tariff({"kind": "flat", "tariff_id": "f", "currency": "TWD", "price_per_kwh": "5"})
    assert postpaid_bill(flat, month, readings, tz="Asia/Taipei").total_minor == 150_000
    # the unit's own days: each day's energy, shaped over its hours the same way
    own = sample_readings(month, "Asia/Taipei", {date(2026, 11, 3): Decimal("7.5")})
    assert own[-1].cumulative_kwh == Decimal("7.5")


# time-of-use is always previewed on hourly readings
BY_DAYS = [t for t in all_templates() if t.versions[-1].tariff.kind != "tou"]


@pytest.mark.parametrize("chosen", BY_DAYS, ids=lambda t: t.template_id)
def test_daily_readings_price_a_tiered_or_flat_tariff_as_the_hourly_ones_do(chosen: Any) -> None:
    # GIVEN a two-month cycle over the 2024-04-01 version change (both timelines have one),
    # with a daylight-saving change inside it
    cycle, tz = BillingPeriod(date(2024, 3, 1), date(2024, 5, 1)), "Europe/London"
    hourly = postpaid_bill(chosen.timeline, cycle, sample_readings(cycle, tz), tz=tz)
    daily_readings = sample_readings(cycle, tz, hourly=False)
    daily = postpaid_bill(chosen.timeline, cycle, daily_readings, tz=tz)
    assert len(daily_readings) == cycle.days + 1 and len(daily.versions) == 2

    def figures(lines: Any) -> list[Any]:
        return [(x.code, x.quantity, x.unit_price, x.amount_minor) for x in lines]

    assert figures(daily.lines) == figures(hourly.lines)
    assert daily.total_minor == hourly.total_minor


# --- the errors in zh-TW: every sentence the editor can show, in Chinese ---

# What a message may still hold in Latin letters in zh-TW: the names and codes typed
# (the forms below), currency codes and the formats people type.
_TYPED = re.compile(
    r"summer|non-summer|other|peak|off_peak|mid|meter|week|pennies|Bad Id!|abc|xmas|every|"
    r"TWD|GBP|JSON|MM-DD|HH:MM|YYYY-MM-DD|e\.g\.|[a-z_]+(?:\.[a-z0-9_]+)+"
)


def _tou(**changes: str) -> dict[str, str]:
    form = {
        "kind": "tou",
        "tariff_id": "tou-words",
        "band0_name": "peak",
        "band0_price": "5",
        "band1_name": "off_peak",
        "band1_price": "2",
        "windows": "daily,holiday 00:00-09:00 off_peak\ndaily,holiday 09:00-24:00 peak",
    }
    return form | changes


_ZH_CASES = [
    pytest.param(two_seasons(season1_start="09-01"), id="seasons-overlap"),
    pytest.param(two_seasons(season1_start="10-02"), id="seasons-gap"),
    pytest.param(two_seasons(season1_name="Summer"), id="season-names"),
    pytest.param(two_seasons(season0_start="13-01"), id="not-mm-dd"),
    pytest.param(two_seasons(season0_start="02-30"), id="not-a-day"),
    pytest.param(two_seasons(season1_tier2_upto="150", season1_tier3_price="4"), id="tier-bound"),
    pytest.param(two_seasons(season1_tier2_upto="900"), id="last-tier-bounded"),
    pytest.param(two_seasons(season1_tier0_upto="", season1_tier0_price="1"), id="open-tier"),
    pytest.param(two_seasons(season1_tier0_upto="0"), id="bound-zero"),
    pytest.param(two_seasons(season0_tier0_price="1000001"), id="price-too-big"),
    pytest.param(two_seasons(season0_tier0_price="1e3"), id="price-exponent"),
    pytest.param(two_seasons(season0_tier0_price="abc"), id="price-not-a-number"),
    pytest.param(two_seasons(season0_tier0_price="-1"), id="price-negative"),
    pytest.param(two_seasons(season0_tier0_price="1.2345678"), id="price-decimals"),
    pytest.param(two_seasons(season0_tier0_price="1 000"), id="price-space"),
    pytest.param(two_seasons(season0_tier0_price="1.2.3"), id="price-two-points"),
    pytest.param(two_seasons(season0_tier0_price=".5"), id="price-point-first"),
    pytest.param(two_seasons(season0_tier0_price="1,00"), id="price-comma"),
    pytest.param(two_seasons(season0_tier1_price=""), id="price-empty"),
    pytest.param(two_seasons(fixed0_per="week"), id="fixed-per"),
    pytest.param(two_seasons(fixed0_code="Meter!"), id="fixed-code"),
    pytest.param(
        two_seasons(fixed1_code="meter", fixed1_amount="1", fixed1_per="day"),
        id="fixed-codes-unique",
    ),
    pytest.param(two_seasons(standing_per_day="0.1234567"), id="standing-decimals"),
    pytest.param(two_seasons(fixed0_amount="99999999999999"), id="amount-too-big"),
    pytest.param(two_seasons(rounding_lines="pennies"), id="rounding"),
    pytest.param(two_seasons(tax_percent="120"), id="tax"),
    pytest.param(two_seasons(tariff_id=""), id="id-empty"),
    pytest.param(two_seasons(tariff_id="Bad Id!"), id="id-pattern"),
    pytest.param(two_seasons(kind="cheap"), id="kind"),
    pytest.param(
        _tou(windows="daily 00:00-09:00 off_peak\ndaily 09:00-24:00 peak"), id="windows-holiday"
    ),
    pytest.param(
        _tou(windows="daily,holiday 00:00-09:00 off_peak\ndaily,holiday 10:00-24:00 peak"),
        id="windows-gap",
    ),
    pytest.param(_tou(windows="daily,holiday 00:00-24:00 xmas"), id="windows-band"),
    pytest.param(_tou(windows="daily,holiday 09:00-08:00 peak"), id="windows-order"),
    pytest.param(_tou(windows="daily,holiday 00:00-25:00 peak"), id="windows-hhmm"),
    pytest.param(_tou(windows="every day peak"), id="windows-line"),
    pytest.param(_tou(windows="xmas 00:00-24:00 peak"), id="windows-day"),
    pytest.param(_tou(band1_name="peak"), id="band-names"),
    pytest.param(_tou(band0_price=""), id="band-price-empty"),
    pytest.param({"kind": "json", "document": "{not json"}, id="json-invalid"),
    pytest.param(
        {
            "kind": "json",
            "document": '{"kind": "flat", "tariff_id": "x", '
            '"currency": "TWD", "price_per_kwh": 0.5}',
        },
        id="json-float",
    ),
]


@pytest.mark.parametrize("form", _ZH_CASES)
def test_every_editor_error_reads_in_chinese_with_no_english_left(form: dict[str, str]) -> None:
    english, chinese = errors_of(form), errors_of(form, ZH)
    # GIVEN an input the editor refuses THEN it is refused in both languages, same fields
    assert english and list(chinese) == list(english), (english, chinese)
    for field, message in english.items():
        # every English sentence is one the words know (none falls back to the generic one)
        bare = message.split(": ", 1)[1] if label_of(field, EN) else message
        assert sentence(bare, ZH) is not None, (field, message)
        # and the Chinese holds no English word beyond what was typed; kWh is 度
        left = _TYPED.sub("", chinese[field])
        assert not re.search(r"[A-Za-z]{2,}", left), (field, chinese[field], message)
        assert re.search(r"[\u4e00-\u9fff]", chinese[field]), chinese[field]


def test_a_tier_bound_in_chinese_says_the_bound_in_du_and_names_the_tier() -> None:
    form = two_seasons(season1_tier2_upto="150", season1_tier3_price="4.00")
    assert errors_of(form, ZH)["season1_tier2_upto"] == (
        "第 2 個季節，第 3 段：上限須高於第 2 段的 200 度；各段上限須逐段遞增"
    )
    overlap = errors_of(two_seasons(season1_start="09-01"), ZH)["season1_start"]
    assert overlap == (
        "第 2 個季節：09-01 同時屬於第 1 個季節（summer）與第 2 個季節（non-summer）；"
        "每一天須恰好屬於一個季節"
    )


def test_each_sentences_placeholders_are_in_its_pattern() -> None:
    for pattern, key in _SENTENCES:
        groups = set(re.compile(pattern).groupindex)
        for language in ("en", "zh_TW"):
            text = Translator(language).t(key)
            assert set(re.findall(r"\{(\w+)\}", text)) <= groups, (key, language, text)


def test_english_is_shown_as_the_domain_says_it() -> None:
    message = "10-01 is covered by no season; need exactly one"
    assert in_words(message, EN) == message
    assert in_words("something new the domain says", ZH) == ZH.t("editor_err_unknown")
    # a use case's refusal keyed by its field (withdrawing a version) loses the field name
    withdrawn = "effective_from: no version takes effect on 2027-01-01"
    assert in_words(withdrawn, ZH) == "2027-01-01 沒有生效的版本"
