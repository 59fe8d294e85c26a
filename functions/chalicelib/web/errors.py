"""Failures of the browser portal, one class per failure mode."""

from __future__ import annotations


class WebError(Exception):
    """Base of every portal failure."""


class CsrfError(WebError):
    """A state-changing form came without the right CSRF token."""


class NotSignedInError(WebError):
    """No valid session cookie: the page redirects to the sign-in screen."""


class InvalidFormError(WebError):
    """A form field is missing, too long or malformed."""
