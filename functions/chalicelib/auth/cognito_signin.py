"""Sign-in conversations with the Cognito user pool through an injected
``cognito-idp`` client: password sign-in, the NEW_PASSWORD_REQUIRED challenge
of a first sign-in, and the forgotten-password pair.

The password is checked server-side (``AdminInitiateAuth``, IAM credentials): the
app client allows no public password flow, so nobody can guess passwords past the
portal's throttle by calling Cognito with the public client id. The caller's address
and headers go with it (``ContextData``) so Cognito's threat protection judges the
real client, not the Lambda.

Every answer that would tell an attacker whether an account exists (unknown
user, wrong password, disabled user) becomes the same ``SignInFailedError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .errors import (
    IdentityProviderError,
    MfaCodeRejectedError,
    MfaCodeRequiredError,
    NewPasswordRequiredError,
    PasswordRejectedError,
    ResetCodeRejectedError,
    SignInFailedError,
)

MAX_PASSWORD_CHARS = 256
MAX_EMAIL_CHARS = 254
MAX_SESSION_CHARS = 4096
_TOTP_CODE = re.compile(r"[0-9]{6}")

_BAD_CREDENTIALS = {"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"}
_BAD_PASSWORD = {"InvalidPasswordException", "InvalidParameterException"}
_BAD_CODE = {"CodeMismatchException", "ExpiredCodeException"}


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str


@dataclass(frozen=True)
class Caller:
    """Who is signing in, as the portal saw the request (for threat protection)."""

    ip_address: str
    server_name: str
    server_path: str
    headers: tuple[tuple[str, str], ...] = ()

    def context_data(self) -> dict[str, Any]:
        return {
            "IpAddress": self.ip_address,
            "ServerName": self.server_name or "localhost",
            "ServerPath": self.server_path or "/",
            "HttpHeaders": [{"headerName": k, "headerValue": v} for k, v in self.headers],
        }


class CognitoSignIn:
    def __init__(self, cognito_client: Any, user_pool_id: str, client_id: str) -> None:
        self._cognito = cognito_client
        self._pool = user_pool_id
        self._client_id = client_id

    def sign_in(self, email: str, password: str, caller: Caller) -> Tokens:
        """Tokens, or ``NewPasswordRequiredError`` carrying the challenge session."""
        if not email or len(email) > MAX_EMAIL_CHARS or len(password) > MAX_PASSWORD_CHARS:
            raise SignInFailedError("incorrect e-mail or password")
        try:
            answer = self._cognito.admin_initiate_auth(
                UserPoolId=self._pool,
                ClientId=self._client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
                ContextData=caller.context_data(),
            )
        except ClientError as exc:
            if _code(exc) in _BAD_CREDENTIALS:
                raise SignInFailedError("incorrect e-mail or password") from exc
            raise IdentityProviderError(f"initiate_auth failed: {_code(exc)}") from exc
        return self._tokens_or_challenge(answer, email)

    def account_of(self, email: str) -> str:
        """The canonical user an e-mail names, for the sign-in throttle: its ``sub``, so
        every alias and spelling of one person shares one budget; the normalised e-mail
        when no such user exists (guesses at unknown accounts are counted too)."""
        normalised = email.strip().lower()[:MAX_EMAIL_CHARS]
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._pool, Username=normalised)
        except ClientError as exc:
            if _code(exc) in {"UserNotFoundException", "InvalidParameterException"}:
                return "email:" + normalised
            raise IdentityProviderError(f"admin_get_user failed: {_code(exc)}") from exc
        attrs = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return "sub:" + str(attrs.get("sub") or normalised)

    def complete_new_password(
        self, challenge_session: str, username: str, new_password: str
    ) -> Tokens:
        if len(new_password) > MAX_PASSWORD_CHARS:
            raise PasswordRejectedError("password too long")
        refusals: list[tuple[frozenset[str], Exception]] = [
            (
                frozenset(_BAD_PASSWORD),
                PasswordRejectedError("the new password does not meet the policy"),
            ),
            # the challenge session expired or was already used
            (
                frozenset(
                    {*_BAD_CREDENTIALS, "ResourceNotFoundException", "CodeMismatchException"}
                ),
                SignInFailedError("the sign-in expired; sign in again"),
            ),
        ]
        return self._answer_challenge(
            "NEW_PASSWORD_REQUIRED",
            challenge_session,
            username,
            {"NEW_PASSWORD": new_password},
            refusals,
        )

    def forgot_password(self, email: str) -> None:
        """Ask Cognito to send a reset code. Unknown accounts look the same."""
        if not email or len(email) > MAX_EMAIL_CHARS:
            return
        try:
            self._cognito.forgot_password(ClientId=self._client_id, Username=email)
        except ClientError as exc:
            if _code(exc) in {*_BAD_CREDENTIALS, "LimitExceededException"}:
                return
            raise IdentityProviderError(f"forgot_password failed: {_code(exc)}") from exc

    def confirm_forgot_password(self, email: str, code: str, new_password: str) -> None:
        if len(new_password) > MAX_PASSWORD_CHARS or not code or len(code) > 64:
            raise ResetCodeRejectedError("invalid code")
        try:
            self._cognito.confirm_forgot_password(
                ClientId=self._client_id,
                Username=email,
                ConfirmationCode=code,
                Password=new_password,
            )
        except ClientError as exc:
            if _code(exc) in _BAD_CODE | _BAD_CREDENTIALS | {"ResourceNotFoundException"}:
                raise ResetCodeRejectedError("the code is wrong or has expired") from exc
            if _code(exc) in _BAD_PASSWORD:
                raise PasswordRejectedError("the new password does not meet the policy") from exc
            raise IdentityProviderError(f"confirm_forgot_password: {_code(exc)}") from exc

    # --- TOTP (an authenticator app): the challenge at sign-in, and enrolment ---

    def complete_mfa(self, challenge_session: str, username: str, code: str) -> Tokens:
        """Answer the SOFTWARE_TOKEN_MFA challenge of a sign-in with the user's code."""
        if not _TOTP_CODE.fullmatch(code):
            raise MfaCodeRejectedError("a code is six digits")
        refusals: list[tuple[frozenset[str], Exception]] = [
            (frozenset(_BAD_CODE), MfaCodeRejectedError("the code is wrong")),
            (
                frozenset({*_BAD_CREDENTIALS, "ResourceNotFoundException"}),
                SignInFailedError("the sign-in expired; sign in again"),
            ),
        ]
        return self._answer_challenge(
            "SOFTWARE_TOKEN_MFA",
            challenge_session,
            username,
            {"SOFTWARE_TOKEN_MFA_CODE": code},
            refusals,
        )

    def _answer_challenge(
        self,
        challenge: str,
        challenge_session: str,
        username: str,
        responses: dict[str, str],
        refusals: list[tuple[frozenset[str], Exception]],
    ) -> Tokens:
        """Answer one challenge of a sign-in; Cognito's refusals become ``refusals``' errors
        (the first whose codes match), anything else an IdentityProviderError."""
        if not challenge_session or len(challenge_session) > MAX_SESSION_CHARS:
            raise SignInFailedError("the sign-in expired; sign in again")
        try:
            answer = self._cognito.admin_respond_to_auth_challenge(
                UserPoolId=self._pool,
                ClientId=self._client_id,
                ChallengeName=challenge,
                Session=challenge_session,
                ChallengeResponses={"USERNAME": username, **responses},
            )
        except ClientError as exc:
            for codes, error in refusals:
                if _code(exc) in codes:
                    raise error from exc
            raise IdentityProviderError(f"admin_respond_to_auth_challenge: {_code(exc)}") from exc
        return self._tokens_or_challenge(answer, username)

    def has_totp(self, access_token: str) -> bool:
        """Whether the signed-in user has an authenticator set up (``GetUser``)."""
        try:
            user = self._cognito.get_user(AccessToken=access_token)
        except ClientError as exc:
            raise IdentityProviderError(f"get_user failed: {_code(exc)}") from exc
        return "SOFTWARE_TOKEN_MFA" in (user.get("UserMFASettingList") or [])

    def begin_totp(self, access_token: str) -> str:
        """A new authenticator secret (base32) for the signed-in user to scan."""
        try:
            answer = self._cognito.associate_software_token(AccessToken=access_token)
        except ClientError as exc:
            raise IdentityProviderError(f"associate_software_token: {_code(exc)}") from exc
        return str(answer["SecretCode"])

    def confirm_totp(self, access_token: str, code: str) -> None:
        """Check the first code from the new authenticator, then ask for it at every
        sign-in from now on."""
        if not _TOTP_CODE.fullmatch(code) or len(access_token) > MAX_SESSION_CHARS:
            raise MfaCodeRejectedError("a code is six digits")
        try:
            answer = self._cognito.verify_software_token(AccessToken=access_token, UserCode=code)
            if answer.get("Status") != "SUCCESS":
                raise MfaCodeRejectedError("the code is wrong")
            self._cognito.set_user_mfa_preference(
                AccessToken=access_token,
                SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
            )
        except ClientError as exc:
            if _code(exc) in {*_BAD_CODE, "EnableSoftwareTokenMFAException"}:
                raise MfaCodeRejectedError("the code is wrong") from exc
            if _code(exc) in _BAD_CREDENTIALS:
                raise SignInFailedError("the sign-in expired; sign in again") from exc
            raise IdentityProviderError(f"verify_software_token: {_code(exc)}") from exc

    @staticmethod
    def _tokens_or_challenge(answer: dict[str, Any], username: str) -> Tokens:
        if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            params = answer.get("ChallengeParameters") or {}
            raise NewPasswordRequiredError(
                str(answer["Session"]), str(params.get("USERNAME") or username)
            )
        if answer.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
            params = answer.get("ChallengeParameters") or {}
            raise MfaCodeRequiredError(
                str(answer["Session"]), str(params.get("USERNAME") or username)
            )
        result = answer.get("AuthenticationResult")
        if not result:
            raise IdentityProviderError(f"unsupported challenge {answer.get('ChallengeName')!r}")
        return Tokens(id_token=result["IdToken"], access_token=result["AccessToken"])


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
