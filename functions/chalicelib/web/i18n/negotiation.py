"""Which language a reader gets: the cookie, else Accept-Language negotiated by
Babel against ``LANGUAGES``, else the default.

Babel knows CLDR's likely subtags, so ``zh-TW``, ``zh-HK`` and ``zh-Hant`` all
read as Traditional Chinese and ``zh-CN`` as Simplified, without a list of
spellings kept here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError, negotiate_locale

from .languages import DEFAULT_LANGUAGE, LANGUAGES, babel_locale

# A header is client input: read a bounded prefix and a bounded number of ranges
# (each becomes a CLDR lookup).
MAX_ACCEPT_LANGUAGE_CHARS = 512
MAX_LANGUAGE_RANGES = 10
# RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def accepted_languages(header: str | None) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first.

    Ranges with ``q=0`` are refused by the reader, so dropped; a range with a
    malformed weight is skipped rather than guessed at; equal weights keep the
    header's order (Python's sort is stable).
    """
    weighted: list[tuple[float, str]] = []
    for part in (header or "")[:MAX_ACCEPT_LANGUAGE_CHARS].split(",")[:MAX_LANGUAGE_RANGES]:
        tag, *params = part.split(";")
        tag = tag.strip()
        weight: float | None = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else None
        if tag and weight:
            weighted.append((weight, tag))
    return [tag for _, tag in sorted(weighted, key=lambda pair: -pair[0])]


def pick_language(cookie_value: str | None, accept_language: str | None) -> str:
    """The reader's language: a valid cookie, else the best Accept-Language match."""
    if cookie_value in LANGUAGES:
        return str(cookie_value)
    available = _by_identifier()
    chosen = negotiate_locale(
        _candidates(accepted_languages(accept_language)), available, aliases=_aliases()
    )
    return available.get(chosen.lower(), DEFAULT_LANGUAGE) if chosen else DEFAULT_LANGUAGE


def _candidates(ranges: Iterable[str]) -> Iterator[str]:
    """Each range as Babel identifiers: the full one (zh_Hant_HK), then language
    and script (zh_Hant) so another territory of the same script still matches.
    ``negotiate_locale`` itself tries the bare language (en_GB -> en)."""
    for tag in ranges:
        try:
            locale = Locale.parse(tag, sep="-")
        except (ValueError, UnknownLocaleError):
            continue  # "*", private-use tags, languages CLDR does not know
        yield str(locale)
        if locale.script:
            yield f"{locale.language}_{locale.script}"


@lru_cache(maxsize=1)
def _by_identifier() -> dict[str, str]:
    """Our codes by their lower-cased Babel identifier (zh_hant_tw -> zh_TW)."""
    return {str(babel_locale(code)).lower(): code for code in LANGUAGES}


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    """What else reads as one of ours: its language and script (zh_hant), and its
    bare language (zh) for readers who name no script. Babel's own alias table
    would send a bare ``zh`` to Simplified Chinese, which we do not have."""
    aliases: dict[str, str] = {}
    for code in LANGUAGES:
        locale = babel_locale(code)
        identifier = str(locale).lower()
        aliases.setdefault(locale.language, identifier)
        if locale.script:
            aliases.setdefault(f"{locale.language}_{locale.script}".lower(), identifier)
    return aliases
