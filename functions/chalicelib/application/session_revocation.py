"""Ending every session and token of a user when the account's state changes.

A user's sessions and bearer tokens are bound to a session epoch on their membership
(``auth/principals.py`` refuses anything older on every request). This module moves
the epoch when the account changes under them:

- sign out everywhere: Cognito's ``AdminUserGlobalSignOut`` first (it revokes the
  refresh tokens, so no new ID token can be minted), then the epoch ends the ID tokens
  and portal sessions that already exist (Cognito cannot revoke an ID token);
- a password reset through the portal's screen;
- an account changed in Cognito outside the portal (disabled, re-passworded, signed
  out, deleted: ``application/account_changes.py``, fed by CloudTrail).

Cost: no extra read on a request (the epoch rides on the membership item every
request reads anyway, so nothing is cached and nothing waits for a cache to expire);
one conditional UpdateItem per revocation.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ..auth.principal import Principal
from ..data.errors import NotFoundError
from ..data.member_access import MemberAccess

# How often a portal session asks Cognito whether its login is still in good standing
# (the second line behind the CloudTrail events, which take minutes to arrive).
ACCOUNT_RECHECK_S = 300
# Cognito user states in which no existing session should live on.
ENDED_STATUSES = frozenset({"RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"})


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
        reset through the portal. False: no such login or no membership."""
        return bool(self.end_sessions_of(username, None, epoch_ms(now)))

    def end_sessions_of(self, username: str | None, user_sub: str | None, at_ms: int) -> list[str]:
        """End, from ``at_ms``, the sessions of the user named ``username`` in the pool or,
        when that does not resolve (deleted, or not named), of ``user_sub``, in every
        company they belong to (``application/account_changes.py``). The companies."""
        sub = (self._sub_of(username) if username else None) or user_sub
        if sub is None:
            return []
        ended = []
        for company_id in self._members.companies_of_user(sub):
            try:
                self._members.end_sessions(company_id, sub, at_ms)
            except NotFoundError:
                continue  # removed meanwhile: nothing left to end
            ended.append(company_id)
        return ended

    def _sub_of(self, username: str) -> str | None:
        user = self._user(username)
        attrs = {a["Name"]: a["Value"] for a in (user or {}).get("UserAttributes", [])}
        return attrs.get("sub") or None

    def _user(self, username: str) -> dict[str, Any] | None:
        """Cognito's record of the login (``AdminGetUser``); None: no such user (deleted)."""
        try:
            return dict(self._cognito.admin_get_user(UserPoolId=self._pool, Username=username))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UserNotFoundException":
                return None
            raise

    def recheck_due(self, checked_at_s: int, now: datetime) -> bool:
        return int(now.timestamp()) - checked_at_s >= ACCOUNT_RECHECK_S

    def in_good_standing(self, company_id: str, user_sub: str, now: datetime) -> bool:
        """The second line: ask Cognito (``AdminGetUser``) about the login. Deleted,
        disabled or made to reset its password: False, and the user's sessions end (the
        epoch moves) as the CloudTrail event would have ended them. A password changed
        or a sign-out made outside the portal shows in no user attribute: those wait
        for the event."""
        user = self._user(user_sub) or {"Enabled": False}
        if user.get("Enabled", True) and user.get("UserStatus") not in ENDED_STATUSES:
            return True
        # no membership: nothing to end, and the session is refused anyway
        with suppress(NotFoundError):
            self._members.end_sessions(company_id, user_sub, epoch_ms(now))
        return False
