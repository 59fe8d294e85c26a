"""Reseller API failures, one class per failure mode."""

from __future__ import annotations


class ResellerError(Exception):
    """Base of every reseller API failure."""


class RateLimitedError(ResellerError):
    """The API key made more requests in this window than it may."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class IdempotencyKeyMissingError(ResellerError):
    """A create came without an ``Idempotency-Key`` header (or with a malformed one)."""


class IdempotencyKeyMismatchError(ResellerError):
    """The idempotency key was used before with another request body or route."""


class IdempotencyInProgressError(ResellerError):
    """The first request with this idempotency key is still running."""


class CompanyExistsError(ResellerError):
    """The company id is taken (by any reseller: ids are global)."""


class AdminExistsError(ResellerError):
    """The first admin's e-mail already has a user in the pool."""


class GatewayExistsError(ResellerError):
    """The company already has a gateway with this id."""


class MeterConflictError(ResellerError):
    """A meter id or bus address is already used on this company or bus."""


class CompanySuspendedError(ResellerError):
    """The company is suspended: resume it before changing it."""


class NoResellerKeyError(ResellerError):
    """The request carries no verified reseller key (the authorizer did not run)."""


class ThingNameTakenError(ResellerError):
    """The gateway's thing name is already a thing of another owner (registry check)."""


class InvalidMeterRequestError(ResellerError):
    """A meter registration that is wrong in itself: a meter id or bus address repeated
    in the request, or a prepaid unit on a meter that nothing can switch off."""


class InvalidTariffError(ResellerError):
    """A unit's tariff document the domain cannot read (a float price, an unknown kind)."""


class TariffCurrencyError(ResellerError):
    """A unit's tariff is in another currency than its property's."""


class InvalidUsageMonthError(ResellerError):
    """A usage month that is not ``YYYY-MM``."""


class InvalidMeterProfileError(ResellerError):
    """A meter profile document the gateway's schema refuses (the error names the field)."""


class MeterProfileConflictError(ResellerError):
    """A profile name that is shipped, or a change to a stored profile without a higher
    version."""


class UnknownMeterProfileError(ResellerError):
    """A meter names a profile that is neither shipped nor one of the company's own."""
