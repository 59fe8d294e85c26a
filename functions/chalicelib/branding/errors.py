"""Brand failures, one class per failure mode."""

from __future__ import annotations


class BrandError(Exception):
    """Base of every brand failure."""


class InvalidBrandError(BrandError, ValueError):
    """A brand config that fails the schema (bad colour, low contrast, markup...)."""


class DomainTakenError(BrandError):
    """A custom domain or slug is already bound to another company."""


class LogoRejectedError(BrandError):
    """An uploaded logo is not a PNG, JPEG or WebP, or is too large or too small."""


class LogoTooLargeError(LogoRejectedError):
    """An uploaded logo is over the size limit."""


class LogoNotFoundError(BrandError):
    """The brand has no logo, or the stored object is gone."""


class DomainNotVerifiedError(BrandError):
    """The domain's ``_powerlet-challenge`` TXT record does not (yet) carry its token."""


class DnsLookupError(BrandError):
    """The TXT lookup itself failed (time-out, resolver error): try again later."""


class DomainClaimExpiredError(BrandError):
    """The company's claim of a domain lapsed unproven (saving the brand renews it)."""
