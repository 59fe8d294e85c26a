"""One reader's language: messages by symbolic key, plurals by the language's
rule, and the Babel formats."""

from __future__ import annotations

import gettext

from .catalogue import translations
from .formatting import LocaleFormats
from .languages import DEFAULT_LANGUAGE, LANGUAGES, html_lang


class Translator(LocaleFormats):
    """``gettext``/``ngettext`` with ``{name}`` placeholders filled from keyword
    arguments; templates get both per render (web/render.py), code calls ``t``
    and ``plural``.

    The message arguments are positional-only so that a placeholder may be
    called ``n`` or ``msgid``.
    """

    def __init__(self, language: str) -> None:
        super().__init__(language if language in LANGUAGES else DEFAULT_LANGUAGE)
        self._translations: gettext.NullTranslations = translations(self.language)

    @property
    def html_lang(self) -> str:
        return html_lang(self.language)

    def gettext(self, msgid: str, /, **values: object) -> str:
        return _fill(self._translations.gettext(msgid), values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The form the language's plural rule picks for ``n``; ``n`` only chooses
        the form, the shown number is a placeholder (formatted by the caller)."""
        return _fill(self._translations.ngettext(singular, plural, n), values)

    def plural(self, msgid: str, n: int, /, **values: object) -> str:
        """A plural message by its key (the catalogues' ``msgid_plural`` is the key too)."""
        return self.ngettext(msgid, msgid, n, **values)

    # The short name the routes have always called.
    t = gettext


def _fill(text: str, values: dict[str, object]) -> str:
    # Without values the text is returned as it is, so a literal brace needs no escaping.
    return text.format(**values) if values else text
