"""Server-side browser sessions: the cookie holds a random id, the table holds
its sha256 and what the session proves (company and user from a verified ID
token, the CSRF token, the expiry).

Sign-out deletes the item, so a stolen cookie dies with the session; the
expiry is checked on every read (DynamoDB's TTL deletes lazily).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from . import keys
from .conditions import conditional_check_failed
from .errors import NotFoundError
from .models import WebSession

MAX_SESSION_ID_CHARS = 128


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebSessionStore:
    def create(
        self,
        session_id: str,
        *,
        company_id: str,
        user_sub: str,
        email: str,
        audience: str,
        csrf_token: str,
        now: datetime,
        lifetime_s: int,
    ) -> WebSession:
        item = WebSession(
            keys.web_session_pk(session_digest(session_id)),
            keys.WEB_SESSION_SK,
            company_id=company_id,
            user_sub=user_sub,
            email=email,
            audience=audience,
            csrf_token=csrf_token,
            created_at=now,
            expires_at_s=int(now.timestamp()) + lifetime_s,
        )
        item.save(condition=WebSession.pk.does_not_exist())
        return item

    def get(self, session_id: str, now: datetime) -> WebSession:
        if not session_id or len(session_id) > MAX_SESSION_ID_CHARS:
            raise NotFoundError("no session")
        try:
            item = WebSession.get(
                keys.web_session_pk(session_digest(session_id)), keys.WEB_SESSION_SK
            )
        except DoesNotExist as exc:
            raise NotFoundError("no session") from exc
        if int(item.expires_at_s) <= int(now.astimezone(UTC).timestamp()):
            raise NotFoundError("session expired")
        return item

    def delete(self, session_id: str) -> None:
        if session_id and len(session_id) <= MAX_SESSION_ID_CHARS:
            WebSession(
                keys.web_session_pk(session_digest(session_id)), keys.WEB_SESSION_SK
            ).delete()

    def mark_account_checked(self, session_id: str, now: datetime) -> None:
        """The login was found in good standing at ``now`` (one UpdateItem per interval)."""
        item = WebSession(keys.web_session_pk(session_digest(session_id)), keys.WEB_SESSION_SK)
        try:
            item.update(
                actions=[WebSession.account_checked_at_s.set(int(now.timestamp()))],
                condition=WebSession.pk.exists(),
            )
        except UpdateError as exc:
            if not conditional_check_failed(exc):
                raise  # signed out meanwhile: nothing to mark
