"""Ending every session and token of a user when the account's state changes.

A user's sessions and bearer tokens are bound to a session epoch on their membership
(``auth/principals.py`` refuses anything older on every request). This module moves
the epoch when the account changes under them:

- sign out everywhere: Cognito's ``AdminUserGlobalSignOut`` first (it revokes the
  refresh tokens, so no new ID token can be minted), then the epoch ends the ID tokens
  and portal sessions that already exist (Cognito cannot revoke an ID token);
- a password reset through the portal's screen;
- a login disabled or re-passworded by an administrator.

Cost: no extra read on a request (the epoch rides on the membership item every
request reads anyway, so nothing is cached and nothing waits for a cache to expire);
one conditional UpdateItem per revocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ..auth.attributes import COMPANY_ATTRIBUTE
from ..auth.principal import Principal
from ..data.errors import NotFoundError
from ..data.member_access import MemberAccess
from ..observability import logger


def epoch_ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


@dataclass(frozen=True)
class SessionRevocation:
    _cognito: Any
    _pool: str | None
    _members: MemberAccess

    def sign_out_everywhere(self, p: Principal, now: datetime) -> None:
        self._cognito.admin_user_global_sign_out(UserPoolId=self._pool, Username=p.user_sub)
        self._members.end_sessions(p.company_id, p.user_sub, epoch_ms(now))

    def account_changed(self, username: str, now: datetime) -> bool:
        """End the sessions of the login ``username`` (e-mail or sub) after a password
        reset, a disable or an admin's password change. False: no such login or no
        membership (nothing to end)."""
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UserNotFoundException":
                return False
            raise
        attrs = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        company_id, sub = attrs.get(COMPANY_ATTRIBUTE), attrs.get("sub")
        if not company_id or not sub:
            return False
        try:
            self._members.end_sessions(company_id, sub, epoch_ms(now))
        except NotFoundError:
            logger.info("no membership to end sessions of", extra={"company_id": company_id})
            return False
        return True
