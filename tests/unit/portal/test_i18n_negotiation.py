"""Which language a reader gets: cookie, then Accept-Language (q-values, CLDR
scripts and territories, via Babel), then English."""

from __future__ import annotations

import pytest

from chalicelib.web.i18n import DEFAULT_LANGUAGE, accepted_languages, html_lang, pick_language
from chalicelib.web.i18n.negotiation import MAX_LANGUAGE_RANGES


def test_a_valid_cookie_wins_over_the_header() -> None:
    assert pick_language("zh_TW", "en") == "zh_TW"
    assert pick_language("en", "zh-TW") == "en"
    # an unknown or mis-spelt cookie is ignored, not trusted
    assert pick_language("klingon", "fr, en-GB") == "en"
    assert pick_language("zh-TW", "zh-TW") == "zh_TW"  # by the header, not the cookie
    assert pick_language("zh-TW", None) == DEFAULT_LANGUAGE


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        ("zh-TW,en;q=0.5", ["zh-TW", "en"]),
        ("en;q=0.5, zh-TW;q=0.9", ["zh-TW", "en"]),
        ("fr;q=0.8, de;q=0.8, en", ["en", "fr", "de"]),  # ties keep the header's order
        ("zh-TW;q=0, en", ["en"]),  # q=0: "not this one"
        ("zh-TW;q=1.5, en;q=abc, fr;q=0.0001, de", ["de"]),  # malformed weights: skipped
        ("en ; Q=0.3 , ,zh", ["zh", "en"]),
        ("", []),
        (None, []),
    ],
)
def test_accept_language_ranges_come_most_wanted_first(
    header: str | None, ranges: list[str]
) -> None:
    assert accepted_languages(header) == ranges


def test_only_a_bounded_number_of_ranges_is_read() -> None:
    header = ", ".join(["fr"] * 50 + ["zh-TW"])
    assert len(accepted_languages(header)) == MAX_LANGUAGE_RANGES
    assert pick_language(None, header) == DEFAULT_LANGUAGE
    assert pick_language(None, "x" * 100_000) == DEFAULT_LANGUAGE


@pytest.mark.parametrize(
    ("header", "language"),
    [
        # Traditional Chinese however it is spelt: territory, script or both
        ("zh-TW", "zh_TW"),
        ("zh-tw", "zh_TW"),
        ("zh-Hant-TW", "zh_TW"),
        ("zh-Hant", "zh_TW"),
        ("zh-HK", "zh_TW"),  # CLDR: Hong Kong writes Hant
        ("zh", "zh_TW"),  # no script named: the Chinese we have
        # Simplified Chinese is not offered: the next range, else English
        ("zh-CN", "en"),
        ("zh-Hans-CN, zh-TW;q=0.5", "zh_TW"),
        # English of any territory
        ("en-GB", "en"),
        ("EN-us", "en"),
        # weights decide, not position
        ("en;q=0.4, zh-TW;q=0.9", "zh_TW"),
        ("zh-TW;q=0.4, en-AU;q=0.9", "en"),
        ("zh-TW;q=0, en", "en"),
        # unknown, wildcard, private-use and malformed ranges: the default
        ("fr, de", DEFAULT_LANGUAGE),
        ("tlh, i-klingon, x-pig-latin, *", DEFAULT_LANGUAGE),
        ("fr, zh-Hant;q=0.2", "zh_TW"),
        (";;;,,,=", DEFAULT_LANGUAGE),
        ("", DEFAULT_LANGUAGE),
        (None, DEFAULT_LANGUAGE),
    ],
)
def test_accept_language_is_negotiated_against_our_languages(
    header: str | None, language: str
) -> None:
    assert pick_language(None, header) == language


def test_pages_declare_the_script_of_their_chinese() -> None:
    assert html_lang("en") == "en"
    assert html_lang("zh_TW") == "zh-Hant-TW"
