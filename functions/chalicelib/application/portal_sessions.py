"""Opening a browser session after Cognito accepted the password: verify the ID token,
find the role, check the screen (staff or tenant, the company's own) and store the
server-side session. The cookie that carries it is the pages' business."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..auth.errors import (
    InvalidTokenError,
    MfaSetupRequiredError,
    NoPortalAccessError,
    WrongSignInScreenError,
)
from ..auth.principal import Role
from ..auth.principals import SUSPENDED
from ..auth.tokens import TokenVerifier
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.web_sessions import WebSessionStore


@dataclass(frozen=True)
class PortalSessions:
    _verifier: TokenVerifier
    _catalogue: Catalogue
    _sessions: WebSessionStore

    def open(
        self,
        id_token: str,
        audience: str,
        screen_company_id: str | None,
        now: datetime,
        lifetime_s: int,
        needs_mfa_setup: Callable[[Role], bool] | None = None,
    ) -> str:
        """The new session's id. ``screen_company_id``: the company whose own sign-in
        screen (custom domain or ``/b/<slug>/``) was used; it admits only its users."""
        try:
            identity = self._verifier.verify_id_token(id_token)
            member = self._catalogue.get_membership(identity.company_id, identity.user_sub)
            role = Role(member.role)
            company = self._catalogue.get_company(identity.company_id)
        except (InvalidTokenError, NotFoundError, ValueError) as exc:
            raise NoPortalAccessError("no access to this portal") from exc
        if (role is Role.TENANT) != (audience == "tenant"):
            raise WrongSignInScreenError(audience)
        if screen_company_id and screen_company_id != identity.company_id:
            raise NoPortalAccessError("a user of another company")
        if company.status == SUSPENDED:
            raise NoPortalAccessError("the company is suspended")
        if needs_mfa_setup is not None and needs_mfa_setup(role):
            raise MfaSetupRequiredError("an authenticator must be set up first")
        session_id = secrets.token_urlsafe(32)
        self._sessions.create(
            session_id,
            company_id=identity.company_id,
            user_sub=identity.user_sub,
            # only a verified address is the user's (the typed one is just a username)
            email=identity.email or str(member.email),
            audience=audience,
            csrf_token=secrets.token_urlsafe(32),
            now=now,
            lifetime_s=lifetime_s,
        )
        return session_id

    def close(self, session_id: str) -> None:
        self._sessions.delete(session_id)
