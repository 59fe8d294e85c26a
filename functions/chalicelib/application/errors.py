"""Failures of portal actions, one class per failure mode."""

from __future__ import annotations

# A cursor is checked where it is decoded, in the data layer; re-exported for the edges.
from ..data.errors import InvalidCursorError

__all__ = [
    "IdempotencyKeyReusedError",
    "InvalidAlertActionError",
    "InvalidAlertChannelsError",
    "InvalidCursorError",
    "InvalidPowerEndError",
    "InvalidRelayRequestError",
    "InvalidTopUpError",
    "InvalidTopUpNoteError",
    "PortalError",
    "ReceiptTooOldError",
]


class PortalError(Exception):
    """Base of every portal action failure."""


class InvalidTopUpError(PortalError):
    """Amount not positive, over the limit, or the unit has no account."""


class IdempotencyKeyReusedError(PortalError):
    """The same idempotency key was used for a different top-up."""


class InvalidRelayRequestError(PortalError):
    """Power must be on or off, with a reason, on a unit that has a meter."""


class InvalidPowerEndError(InvalidRelayRequestError):
    """A manual 'on' without an end (a time or the next top-up), with an end in the past
    or more than a month ahead, or an end that is not a date and time."""


class InvalidTopUpNoteError(InvalidTopUpError):
    """A top-up note over 200 characters or with control characters."""


class ReceiptTooOldError(PortalError):
    """A receipt whose account has had too many entries since to show its balance then."""


class InvalidAlertActionError(PortalError):
    """An open alert is acknowledged or resolved, nothing else."""


class InvalidAlertChannelsError(PortalError):
    """A tenant's channels form that is not one (no form marker)."""
