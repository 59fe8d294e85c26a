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


class SessionRevokedError(AuthError):
    """The session or token predates the user's session epoch: the password changed,
    the user signed out everywhere, or the login was disabled. Sign in again."""


class CompanySuspendedAccessError(AuthError):
    """The user's company is suspended: its web sessions and tokens are refused."""


# --- sign-in conversations with the user pool (auth/cognito_signin.py) ---


class SignInFailedError(AuthError):
    """Wrong e-mail or password (deliberately not saying which)."""


class NewPasswordRequiredError(AuthError):
    """First sign-in with a temporary password: Cognito wants a new one."""

    def __init__(self, challenge_session: str, username: str) -> None:
        super().__init__("a new password is required")
        self.challenge_session = challenge_session
        self.username = username


class MfaCodeRequiredError(AuthError):
    """The password was right and the user has an authenticator: Cognito wants its code."""

    def __init__(self, challenge_session: str, username: str) -> None:
        super().__init__("an authenticator code is required")
        self.challenge_session = challenge_session
        self.username = username


class MfaSetupRequiredError(AuthError):
    """A company admin without an authenticator: no session until one is set up."""


class MfaCodeRejectedError(AuthError):
    """The authenticator code is wrong (or its setup was not confirmed)."""


class PasswordRejectedError(AuthError):
    """The new password does not satisfy the pool's policy."""


class ResetCodeRejectedError(AuthError):
    """The password-reset code is wrong or expired."""


class IdentityProviderError(AuthError):
    """Cognito answered with something the portal does not expect."""


class SignInThrottledError(AuthError):
    """Too many failed sign-ins for this account or this client; retry later."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class WrongSignInScreenError(AuthError):
    """A tenant used the staff screen, or staff used the tenant screen."""


class NoPortalAccessError(AuthError):
    """A verified sign-in that may not open a portal session here: no membership, a
    user of another company on a company's own screen, or a suspended company."""
