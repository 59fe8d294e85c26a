"""The message catalogues: one gettext ``.po`` file per language, read at run time.

No compile step: the ``.po`` text is what ships (``chalicelib/`` is packaged
whole) and what a translator edits. Each file is read once per container with
Babel and compiled in memory into a standard ``gettext`` translations object,
which knows the language's plural rule from the file's ``Plural-Forms`` header.

Message ids are symbolic keys (``signin_failed``), not English sentences, so
code and templates do not change when a wording does; a plural message uses its
key as both ``msgid`` and ``msgid_plural``.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import Translations

from .languages import DEFAULT_LANGUAGE, LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"


class CatalogueError(RuntimeError):
    """A language's ``.po`` file is missing or is not valid PO."""


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(language: str) -> Catalog:
    """The parsed ``.po`` file of one language (cached for the container's life)."""
    path = po_path(language)
    try:
        with path.open("rb") as po:
            return read_po(po, locale=language, domain=DOMAIN, abort_invalid=True)
    except (OSError, PoFileError) as exc:
        raise CatalogueError(f"cannot read the {language!r} catalogue {path}: {exc}") from exc


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue as ``gettext`` translations, with the default language's
    behind it: a message a translation lacks shows in English, not as its key."""
    mo = BytesIO()
    write_mo(mo, catalogue(language))
    mo.seek(0)
    compiled = Translations(mo, domain=DOMAIN)
    if language != DEFAULT_LANGUAGE:
        compiled.add_fallback(translations(DEFAULT_LANGUAGE))
    return compiled


def msgids(language: str = DEFAULT_LANGUAGE) -> frozenset[str]:
    """Every message key of a language; a plural message by its ``msgid``."""
    return frozenset(_key(message.id) for message in catalogue(language) if message.id)


def plural_msgids(language: str = DEFAULT_LANGUAGE) -> frozenset[str]:
    """The keys of the messages that have plural forms."""
    return frozenset(
        _key(message.id) for message in catalogue(language) if message.id and message.pluralizable
    )


def _key(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]
