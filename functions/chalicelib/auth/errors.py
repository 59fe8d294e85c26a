"""Authentication and authorisation failures, one class per failure mode."""

from __future__ import annotations


class AuthError(Exception):
    """Base of every auth failure."""


class InvalidTokenError(AuthError):
    """The bearer token is missing, malformed, expired, or not signed by the pool."""


class NoMembershipError(AuthError):
    """The verified user has no role in the company the token names."""


class ForbiddenError(AuthError):
    """The caller's role may not call this route."""


class CompanySuspendedAccessError(AuthError):
    """The user's company is suspended: its web sessions and tokens are refused."""
