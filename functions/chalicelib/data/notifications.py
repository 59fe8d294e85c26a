"""The company's outbox of alerts, newest first (pattern 23)."""

from __future__ import annotations

from . import keys
from .models import Notification
from .paging import decode_cursor, encode_cursor

MAX_NOTIFICATIONS_READ = 100


class NotificationStore:
    def newest(self, company_id: str, limit: int) -> list[Notification]:
        return self.page(company_id, None, limit)[0]

    def page(
        self, company_id: str, cursor: str | None, limit: int
    ) -> tuple[list[Notification], str | None]:
        """One page and the cursor of the next (None at the end). A cursor of another
        listing is refused (InvalidCursorError)."""
        pk = keys.notifications_pk(company_id)
        start = decode_cursor(cursor, "pk", pk) if cursor else None
        result = Notification.query(
            pk,
            scan_index_forward=False,
            limit=max(1, min(int(limit), MAX_NOTIFICATIONS_READ)),
            last_evaluated_key=start,
        )
        items = [n for n in result if isinstance(n, Notification)]
        last = result.last_evaluated_key
        return items, encode_cursor(last) if last else None
