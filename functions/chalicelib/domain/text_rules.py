"""The characters no text a person types may hold, wherever it ends up: a brand's name
and footer, a top-up note, a relay reason (which the tenant reads), a reading decision.

C0 and C1 controls (NUL included), DEL and line breaks would corrupt receipts, CSV
exports and e-mail headers; bidi embeddings, overrides and isolates make a text read
differently from what it is (``evil\u202egnp.exe``). Brand text refuses markup and
template delimiters on top of this (``branding/schema.py``).
"""

from __future__ import annotations

import re

# One character class, kept as text so JSON Schema patterns (the API's bodies, the
# OpenAPI document) say exactly what the code checks.
REFUSED_CHARACTERS = (
    "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f"
)
REFUSED = re.compile(f"[{REFUSED_CHARACTERS}]")
# A whole text without them, as a JSON Schema / pydantic pattern.
PLAIN_TEXT_PATTERN = f"^[^{REFUSED_CHARACTERS}]*$"


def has_refused_characters(text: str) -> bool:
    return REFUSED.search(text) is not None
