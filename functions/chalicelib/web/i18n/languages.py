"""The portal's languages: which exist, what the switcher calls them, and how a
page declares them to the browser."""

from __future__ import annotations

from babel.core import Locale, get_locale_identifier

# Order is the language switcher's. Adding one: docs/portal.md, "Message catalogue".
# chalicelib/branding/schema.py LOCALES mirrors this (a test keeps them equal):
# the brand schema must not import the web layer.
LANGUAGES = ("en", "zh_TW")
DEFAULT_LANGUAGE = "en"
# Each language named in itself: a reader who cannot read the page can still find theirs.
LANGUAGE_LABELS = {"en": "English", "zh_TW": "繁體中文"}


def babel_locale(language: str) -> Locale:
    """CLDR's full locale for a language code, script included (zh_TW is zh_Hant_TW)."""
    return Locale.parse(language)


def html_lang(language: str) -> str:
    """The BCP 47 tag for ``<html lang>``. The script is spelt out (zh-Hant-TW) so
    browsers pick Traditional Chinese glyphs and voices, not Simplified ones."""
    locale = babel_locale(language)
    parts = (locale.language, locale.territory, locale.script, locale.variant)
    return get_locale_identifier(parts, sep="-")
