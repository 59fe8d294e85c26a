"""The company's outbox of alerts, newest first (pattern 23)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from . import keys
from .conditions import conditional_check_failed
from .models import Notification
from .paging import decode_cursor, encode_cursor

MAX_NOTIFICATIONS_READ = 100


class NotificationStore:
    def record(
        self,
        company_id: str,
        notification_id: str,
        at: datetime,
        topic: str,
        subject_ref: str,
        payload: dict[str, Any],
    ) -> Notification | None:
        """Put the alert once by its id; None if this exact alert is recorded already."""
        item = Notification(
            keys.notifications_pk(company_id),
            keys.event_sk(at, notification_id),
            company_id=company_id,
            notification_id=notification_id,
            topic=topic,
            created_at=at,
            subject_ref=subject_ref,
            payload=payload,
            delivery={},
        )
        try:
            item.save(condition=Notification.pk.does_not_exist())
        except PutError as exc:
            if conditional_check_failed(exc):
                return None
            raise
        return item

    def set_delivery(self, item: Notification, delivery: dict[str, str]) -> None:
        item.update(actions=[Notification.delivery.set(delivery)])

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
