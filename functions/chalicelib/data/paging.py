"""Opaque page cursors: base64url of DynamoDB's last evaluated key.

A cursor comes back from the client, so it is checked before it goes back to
DynamoDB: a size limit, well-formed JSON of a key, and the partition of the
caller's own query, so paging can never reach into another partition (another
company's units or outbox, another reseller's companies).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import InvalidCursorError

MAX_CURSOR_CHARS = 1024


def encode_cursor(last_evaluated_key: dict[str, Any]) -> str:
    raw = json.dumps(last_evaluated_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def load_cursor(cursor: str) -> dict[str, Any]:
    """The key a cursor holds, unchecked beyond its form."""
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursorError("the cursor is empty or too long")
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursorError("the cursor is not one this API issued") from exc
    if not isinstance(key, dict):
        raise InvalidCursorError("the cursor is not one this API issued")
    return key


def decode_cursor(cursor: str, partition_attr: str, expected_pk: str) -> dict[str, Any]:
    """The start key of the next page, if it lies in ``expected_pk``."""
    key = load_cursor(cursor)
    named = key.get(partition_attr)
    if not isinstance(named, dict) or named.get("S") != expected_pk:
        raise InvalidCursorError("the cursor belongs to another listing")
    return key
