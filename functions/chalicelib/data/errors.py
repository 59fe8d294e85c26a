"""Failures of the data layer, one class per failure mode."""

from __future__ import annotations

# The ledger's invariants are the domain's; the store raises the domain's own
# classes so callers catch one type whichever layer noticed the breach.
from ..domain.errors import CurrencyMismatchError, LedgerEntryConflictError

__all__ = [
    "AccountClosedError",
    "BillChargeWithoutBillError",
    "ConditionFailedError",
    "CurrencyMismatchError",
    "CursorMovedError",
    "DataError",
    "InvalidControlStateError",
    "InvalidCursorError",
    "InvalidIdentifierError",
    "LedgerEntryConflictError",
    "NotFoundError",
    "ScanForbiddenError",
    "StaleStateError",
    "TransactionContentionError",
]


class DataError(Exception):
    """Base of every data-layer failure."""


class InvalidIdentifierError(DataError, ValueError):
    """An id or key part that could not be used in a key (empty, too long, or
    carrying a separator that would forge another key)."""


class NotFoundError(DataError):
    """The item does not exist in the caller's company (or at all)."""


class TransactionContentionError(DataError):
    """A money transaction kept colliding with concurrent writers after the
    bounded number of retries."""


class ScanForbiddenError(DataError):
    """A Scan was issued outside a maintenance tool."""


class CursorMovedError(DataError):
    """Another settlement moved the account's cursor since it was read."""


class AccountClosedError(CursorMovedError):
    """The account was closed (a move-out's final charge): nothing more is charged to it.
    A kind of CursorMovedError, so a settler that reloads on a moved cursor still does."""


class BillChargeWithoutBillError(DataError):
    """A bill's ledger entry exists but the bill does not: the two are only ever written
    together, so the table was changed by hand; a human looks before anything is charged."""


class StaleStateError(DataError):
    """A versioned item changed since it was read (optimistic concurrency)."""


class InvalidCursorError(DataError):
    """A pagination cursor that this query did not issue (malformed, too long, or
    naming another partition)."""


class ConditionFailedError(DataError):
    """A conditional write was refused: the item exists, or is not in the state the
    write required (the caller re-reads to find out which)."""


class InvalidControlStateError(DataError, ValueError):
    """A gateway's stored control state has a value its codec cannot read."""
