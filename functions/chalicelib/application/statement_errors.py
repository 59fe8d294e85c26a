"""Failures of the bill, statement and notification read models, one class per failure mode."""

from __future__ import annotations

from .errors import PortalError


class InvalidMonthError(PortalError):
    """The month is not written as YYYY-MM."""


class MonthOutOfRangeError(PortalError):
    """The month is after the current one or before the account was opened."""

    def __init__(self, message: str, first: str, last: str) -> None:
        super().__init__(message)
        self.first = first
        self.last = last


class StatementTooLargeError(PortalError):
    """More ledger entries since the month began than one statement reads."""


class StatementBusyError(PortalError):
    """The account kept changing while its statement was read; a retry will do."""


class InvalidExportFormatError(PortalError):
    """A download format other than the ones offered (html, csv)."""
