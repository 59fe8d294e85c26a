"""Failures of the browser portal, one class per failure mode."""

from __future__ import annotations


class WebError(Exception):
    """Base of every portal failure."""


class SignInFailedError(WebError):
    """Wrong e-mail or password (deliberately not saying which)."""


class SignInThrottledError(WebError):
    """Too many failed sign-ins for this account or this client; retry later."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class WrongSignInScreenError(WebError):
    """A tenant used the staff screen, or staff used the tenant screen."""


class NewPasswordRequiredError(WebError):
    """First sign-in with a temporary password: Cognito wants a new one."""

    def __init__(self, challenge_session: str, username: str) -> None:
        super().__init__("a new password is required")
        self.challenge_session = challenge_session
        self.username = username


class PasswordRejectedError(WebError):
    """The new password does not satisfy the pool's policy."""


class ResetCodeRejectedError(WebError):
    """The password-reset code is wrong or expired."""


class IdentityProviderError(WebError):
    """Cognito answered with something the portal does not expect."""


class CsrfError(WebError):
    """A state-changing form came without the right CSRF token."""


class NotSignedInError(WebError):
    """No valid session cookie: the page redirects to the sign-in screen."""


class InvalidFormError(WebError):
    """A form field is missing, too long or malformed."""
