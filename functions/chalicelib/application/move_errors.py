"""Failures of move-in and move-out, one class per failure mode (mapped in api/errors.py)."""

from __future__ import annotations

from .errors import PortalError


class MoveError(PortalError):
    """Base of every move-in and move-out failure."""


class UnitOccupiedError(MoveError):
    """Move-in on a unit that already has a current tenancy."""


class TenancyNotCurrentError(MoveError):
    """Move-out of a tenancy that is not the unit's current one (and was never moved out)."""


class MoveInKeyReusedError(MoveError):
    """The move-in's idempotency key was already used with other figures."""


class MoveOutConflictError(MoveError):
    """The tenancy already has a move-out recorded with other figures."""


class MoveNeedsMeterError(MoveError):
    """The unit has no meter, so there is no reading to open or close a tenancy with."""


class OpeningReadingError(MoveError):
    """Opening reading missing (no stored reading), below the latest reading, or too far above."""


class FinalReadingError(MoveError):
    """Final reading missing (no stored reading) or too far above the latest reading."""


class FinalReadingBelowCursorError(FinalReadingError):
    """Final reading below what the account has already been charged up to."""


class MoveDateError(MoveError):
    """A move-in or move-out date outside the allowed window."""


class TransferTargetError(MoveError):
    """The unit to transfer credit to is this one, vacant, or in another currency."""


class TenantLoginConflictError(MoveError):
    """The tenant's e-mail belongs to a login of another company, or to a staff login."""


class ExistingLoginNeedsConfirmationError(TenantLoginConflictError):
    """The e-mail belongs to an existing tenant login of this company (perhaps another
    person's, who claimed the address first): staff must confirm it is the same person
    before the new tenancy is linked to that login."""


class UnverifiedLoginError(TenantLoginConflictError):
    """The e-mail matches a login whose address was never verified: it proves nothing
    about who holds that address, so the tenancy is not linked to it."""


class MoveOutContendedError(MoveError):
    """The account's settlement cursor kept moving (meter readings arriving) while planning."""
