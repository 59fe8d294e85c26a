"""The portal's languages: gettext catalogues read at run time (``locales/``),
Babel's locale negotiation, and Babel's formats of dates, numbers and money.

The UI language is the reader's (cookie, then Accept-Language); the currency
and time zone are the property's. docs/portal.md, "Message catalogue", says how
to add a message or a language.
"""

from .catalogue import CatalogueError, catalogue, msgids, plural_msgids
from .languages import DEFAULT_LANGUAGE, LANGUAGE_LABELS, LANGUAGES, html_lang
from .negotiation import accepted_languages, pick_language
from .translator import Translator

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_LABELS",
    "CatalogueError",
    "Translator",
    "accepted_languages",
    "catalogue",
    "html_lang",
    "msgids",
    "pick_language",
    "plural_msgids",
]
