"""The tenant's login: reuse the one a tenant of this company already has (moving
between units) when staff confirm it is the same person and its address is verified,
else invite a new one, as the reseller onboarding invites a company's
first admin (``reseller/onboarding.py``): Cognito ``AdminCreateUser`` sends the
invitation with a temporary password, branded by the pool's Custom Message trigger
(``application/invitation_messages.py``); the user chooses a password at first sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..auth.attributes import COMPANY_ATTRIBUTE
from ..auth.invitations import USERNAME_EXISTS, invite_login
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..observability import logger
from .move_errors import (
    ExistingLoginNeedsConfirmationError,
    TenantLoginConflictError,
    UnverifiedLoginError,
)

TENANT_ROLE = "tenant"


@dataclass(frozen=True)
class TenantLogin:
    user_sub: str
    invited: bool  # True: created (and invited) by this call


@dataclass(frozen=True)
class TenantLogins:
    _cognito: Any
    _pool: str | None
    _catalogue: Catalogue

    def find_or_invite(
        self, company_id: str, email: str, name: str, locale: str, link_existing: bool = False
    ) -> TenantLogin:
        """``link_existing``: staff confirmed that the address's existing login is this
        tenant. Without it an existing login is refused, never silently re-linked: a
        tenant who got hold of a future tenant's address would be given their tenancy."""
        existing = self._existing(company_id, email)
        if existing is not None:
            if not link_existing:
                raise ExistingLoginNeedsConfirmationError(
                    "this e-mail already has a tenant login: confirm it is the same person"
                )
            return TenantLogin(existing, invited=False)
        try:
            sub = invite_login(
                self._cognito,
                self._pool,
                email,
                company_id,
                TENANT_ROLE,
                {"name": name, "locale": locale},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != USERNAME_EXISTS:
                raise
            # a concurrent move-in (a double submit) invited the same address first
            existing = self._existing(company_id, email)
            if existing is None or not link_existing:
                raise ExistingLoginNeedsConfirmationError(
                    "this e-mail already has a tenant login: confirm it is the same person"
                ) from exc
            return TenantLogin(existing, invited=False)
        return TenantLogin(sub, invited=True)

    def withdraw(self, email: str) -> None:
        """Delete a login this move-in created, when the move-in itself failed."""
        try:
            self._cognito.admin_delete_user(UserPoolId=self._pool, Username=email)
        except ClientError:
            # keep the original failure visible; an orphan login has no membership anyway
            logger.exception("could not withdraw the invitation of %s", email)

    def _existing(self, company_id: str, email: str) -> str | None:
        """The sub of this company's tenant login for ``email``; None if there is no login.

        One pool serves every company and the user name is the e-mail, so an address
        can belong to one company only; staff logins are never turned into tenants."""
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._pool, Username=email)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UserNotFoundException":
                return None
            raise
        attrs = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        if attrs.get(COMPANY_ATTRIBUTE) != company_id:
            # the same answer as for a staff login: nothing about other companies leaks
            raise TenantLoginConflictError("this e-mail cannot be used for a tenant login here")
        if attrs.get("email_verified") != "true" or attrs.get("email") != email:
            # matched by an alias or an address its holder never proved: not this person
            raise UnverifiedLoginError("this e-mail is not verified on its login")
        sub = attrs["sub"]
        try:
            member = self._catalogue.get_membership(company_id, sub)
        except NotFoundError:
            return sub
        if member.role != TENANT_ROLE:
            raise TenantLoginConflictError("this e-mail cannot be used for a tenant login here")
        return sub
