"""Account changes made in Cognito outside the portal end the user's sessions (issue 16).

A login disabled, re-passworded, reset, signed out or deleted in the Cognito console
(or by anyone with IAM rights on the pool), and a user's own ``ChangePassword`` or
``GlobalSignOut`` called with their access token, never pass through the portal. Each is
recorded by CloudTrail; an EventBridge rule on those event names (``deploy/template.py``)
invokes ``cognito_account_changes`` with the event, and this moves the user's session
epoch in every company they belong to (``SessionRevocation``), so their portal
sessions and ID tokens are refused from the next request after the event arrives.

The change's instant is the event's ``eventTime`` (whole seconds), rounded up: a
session or token of that very second is refused too (fail closed), and a session the
user opened *after* the change (a sign-in with the new password, while the event was
on its way) stays valid. The epoch never moves back, so a late event about an older
change cannot revive what a newer one ended.

Which user: the ``username`` the call named (``requestParameters``), resolved in the
pool (``AdminGetUser``); else the ``sub`` Cognito records in ``additionalEventData``
(a deleted user no longer resolves; an access-token call names nobody in its
parameters; a masked username is ``HIDDEN_DUE_TO_SECURITY_REASONS``). An event that
names neither is logged, not guessed at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..observability import logger
from .session_revocation import SessionRevocation

DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_SOURCE = "cognito-idp.amazonaws.com"
# The calls that change whether an account's existing sessions should live.
WATCHED_CALLS = (
    "AdminDisableUser",
    "AdminSetUserPassword",
    "AdminResetUserPassword",
    "AdminUserGlobalSignOut",
    "AdminDeleteUser",
    "ChangePassword",
    "GlobalSignOut",
)
MASKED = "HIDDEN_DUE_TO_SECURITY_REASONS"


class InvalidAccountEventError(ValueError):
    """The event is not a CloudTrail record EventBridge could have sent."""


@dataclass(frozen=True)
class AccountChange:
    call: str
    at_ms: int  # the first instant after the change's second (fail closed)
    user_pool_id: str | None
    username: str | None
    user_sub: str | None


def parse_account_change(event: object) -> AccountChange | None:
    """The change an event records; None for a call this does not watch or one that
    failed (a refused call changed nothing)."""
    if not isinstance(event, Mapping) or not isinstance(event.get("detail"), Mapping):
        raise InvalidAccountEventError("not an EventBridge event with a CloudTrail detail")
    detail: Mapping[str, Any] = event["detail"]
    if event.get("detail-type") != DETAIL_TYPE or detail.get("eventSource") != EVENT_SOURCE:
        return None
    call = detail.get("eventName")
    if call not in WATCHED_CALLS or detail.get("errorCode"):
        return None
    try:
        at = datetime.fromisoformat(str(detail["eventTime"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise InvalidAccountEventError("the CloudTrail record has no valid eventTime") from exc
    if at.tzinfo is None:
        raise InvalidAccountEventError("the CloudTrail record's eventTime has no time zone")
    params = _mapping(detail.get("requestParameters"))
    extra = _mapping(detail.get("additionalEventData"))
    return AccountChange(
        call=str(call),
        at_ms=(math.floor(at.timestamp()) + 1) * 1000,
        user_pool_id=_named(params.get("userPoolId")),
        username=_named(params.get("username")),
        user_sub=_named(extra.get("sub")),
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _named(value: object) -> str | None:
    return value if isinstance(value, str) and value and value != MASKED else None


@dataclass(frozen=True)
class AccountChanges:
    _revocation: SessionRevocation
    _pool: str | None

    def handle(self, event: object) -> dict[str, Any]:
        change = parse_account_change(event)
        if change is None:
            return {"call": None, "companies": []}
        if change.user_pool_id and change.user_pool_id != self._pool:
            return {"call": change.call, "companies": [], "other_pool": True}
        companies = self._revocation.end_sessions_of(change.username, change.user_sub, change.at_ms)
        if change.username is None and change.user_sub is None:
            logger.warning("an account change names no user", extra={"call": change.call})
        else:
            logger.info(
                "account changed in Cognito: sessions ended",
                extra={"call": change.call, "companies": companies},
            )
        return {"call": change.call, "companies": companies}
