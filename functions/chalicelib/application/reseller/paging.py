"""Opaque cursors for the reseller's company list.

A cursor is base64url of DynamoDB's last evaluated key on gsi1. It is
validated field by field before it goes back to DynamoDB: exactly the four key
attributes, the partition of *this* reseller's companies, and a company key
built by ``data.keys``. A cursor of another reseller, or a hand-made one that
names another partition, is refused (400), so paging can never leave the
caller's own companies.
"""

from __future__ import annotations

from typing import Any

from ...data import keys
from ...data.errors import InvalidIdentifierError
from ...data.paging import load_cursor
from ..errors import InvalidCursorError

_KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})


def decode_cursor(cursor: str, reseller_id: str) -> dict[str, Any]:
    """The start key for the next page of ``reseller_id``'s companies."""
    key = load_cursor(cursor)
    if set(key) != _KEY_ATTRIBUTES:
        raise InvalidCursorError("the cursor is not one this API issued")
    values = {}
    for name, typed in key.items():
        if not isinstance(typed, dict) or set(typed) != {"S"} or not isinstance(typed["S"], str):
            raise InvalidCursorError("the cursor is not one this API issued")
        values[name] = typed["S"]
    if values["gsi1pk"] != keys.companies_of_reseller_gsi1pk(reseller_id):
        raise InvalidCursorError("the cursor belongs to another listing")
    try:
        expected_pk = keys.company_pk(keys.company_id_of_pk(values["pk"]))
    except InvalidIdentifierError as exc:
        raise InvalidCursorError("the cursor is not one this API issued") from exc
    if (values["pk"], values["sk"], values["gsi1sk"]) != (
        expected_pk,
        keys.COMPANY_SK,
        expected_pk,
    ):
        raise InvalidCursorError("the cursor is not one this API issued")
    return key
