"""The company's outbox of alerts, newest first (pattern 23), and its open conditions
(pattern 23a): what is still wrong, one item per alert id, until it clears.

An alert is either a *condition* (credit low, a gateway offline: open until it clears
or a person closes it) or a *notice* (power restored: nothing to close). A condition
raised again while it is open is counted on its open item and not sent again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from . import keys
from .conditions import conditional_check_failed
from .lazy import lazy_module
from .paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")

MAX_NOTIFICATIONS_READ = 100
MAX_OPEN_ALERTS_READ = 500  # a company with more open conditions sees the oldest 500
OPEN, ACKNOWLEDGED, RESOLVED, NOTICE = "open", "acknowledged", "resolved", "notice"
CLEARED = "condition cleared"
RESOLVED_KEPT = timedelta(days=7)  # resolved_by when the condition itself went away


@dataclass(frozen=True)
class NewAlert:
    """One alert as its producer raised it (the pipeline's ``Alert`` with its id)."""

    company_id: str
    alert_id: str
    at: datetime
    topic: str
    subject_ref: str
    audience: Literal["tenant", "staff"]
    tenant_sub: str | None
    payload: dict[str, Any]
    condition: bool  # False: a notice, recorded but never open


class NotificationStore:
    def record(self, alert: NewAlert) -> models.Notification | None:
        """Put the alert once by its id and time, opening its condition; None if this
        exact alert is recorded already or its condition is open already (then the
        open item counts one more occurrence)."""
        sk = keys.event_sk(alert.at, alert.alert_id)
        if alert.condition and not self._open(alert, sk):
            return None
        item = models.Notification(
            keys.notifications_pk(alert.company_id),
            sk,
            company_id=alert.company_id,
            notification_id=alert.alert_id,
            topic=alert.topic,
            created_at=alert.at,
            subject_ref=alert.subject_ref,
            payload=alert.payload,
            delivery={},
            status=OPEN if alert.condition else NOTICE,
            audience=alert.audience,
            tenant_sub=alert.tenant_sub,
        )
        if alert.audience == "tenant" and alert.tenant_sub:
            item.gsi1pk = keys.notifications_of_tenant_gsi1pk(alert.company_id, alert.tenant_sub)
            item.gsi1sk = sk
        try:
            item.save(condition=models.Notification.pk.does_not_exist())
        except pynamo_errors.PutError as exc:
            if conditional_check_failed(exc):
                return None
            raise
        return item

    def _open(self, alert: NewAlert, sk: str) -> bool:
        """Open the condition; False if it is open already for an earlier alert. A replay
        of the alert that opened it (a crash before its outbox item) goes on."""
        pointer = models.OpenAlert(
            keys.open_alerts_pk(alert.company_id),
            keys.open_alert_sk(alert.alert_id),
            company_id=alert.company_id,
            alert_id=alert.alert_id,
            topic=alert.topic,
            subject_ref=alert.subject_ref,
            audience=alert.audience,
            status=OPEN,
            notification_sk=sk,
            opened_at=alert.at,
            last_at=alert.at,
            occurrences=1,
        )
        # A resolved condition's item is reused by a later alert: the condition opens again
        # (a replay of an alert before its resolution does not reopen it).
        try:
            reopens = (models.OpenAlert.status == RESOLVED) & (models.OpenAlert.last_at < alert.at)
            pointer.save(condition=models.OpenAlert.pk.does_not_exist() | reopens)
            return True
        except pynamo_errors.PutError as exc:
            if not conditional_check_failed(exc):
                raise
        existing = self.get_open(alert.company_id, alert.alert_id)
        if existing is None or existing.notification_sk == sk:
            return existing is not None
        try:  # a later occurrence of the open condition (a replay of one counts once)
            existing.update(
                actions=[
                    models.OpenAlert.last_at.set(alert.at),
                    models.OpenAlert.occurrences.add(1),
                ],
                condition=(models.OpenAlert.last_at < alert.at)
                & (models.OpenAlert.status != RESOLVED),
            )
        except pynamo_errors.UpdateError as exc:
            if not conditional_check_failed(exc):
                raise
        return False

    def get_open(self, company_id: str, alert_id: str) -> models.OpenAlert | None:
        """The condition's item if it is open or acknowledged (one GetItem)."""
        try:
            found = models.OpenAlert.get(
                keys.open_alerts_pk(company_id), keys.open_alert_sk(alert_id)
            )
        except pynamo_errors.DoesNotExist:
            return None
        return None if found.status == RESOLVED else found

    def open_among(self, company_id: str, alert_ids: Iterable[str]) -> list[models.OpenAlert]:
        """Those of these alert ids that are open (one BatchGetItem)."""
        pk = keys.open_alerts_pk(company_id)
        wanted = sorted({(pk, keys.open_alert_sk(a)) for a in alert_ids})
        found = models.OpenAlert.batch_get(wanted) if wanted else []
        return [a for a in found if a.status != RESOLVED]

    def open_alerts(
        self, company_id: str, limit: int = MAX_OPEN_ALERTS_READ
    ) -> list[models.OpenAlert]:
        """The company's open and acknowledged conditions (one Query; the resolved ones
        of the last week are read and dropped)."""
        return list(
            models.OpenAlert.query(
                keys.open_alerts_pk(company_id),
                filter_condition=models.OpenAlert.status != RESOLVED,
                limit=max(1, min(limit, MAX_OPEN_ALERTS_READ)),
            )
        )

    def resolve(self, pointer: models.OpenAlert, at: datetime, by: str = CLEARED) -> bool:
        """Close a condition: its outbox item says resolved (when, by whom), and so does
        its open item, which expires a week later. A resolve cut short is finished by
        the next; a condition reopened meanwhile by a later alert stays open."""
        self._mark(
            pointer,
            [
                models.Notification.status.set(RESOLVED),
                models.Notification.resolved_at.set(at),
                models.Notification.resolved_by.set(by),
            ],
        )
        try:
            pointer.update(
                actions=[
                    models.OpenAlert.status.set(RESOLVED),
                    models.OpenAlert.expires_at.set(int((at + RESOLVED_KEPT).timestamp())),
                ],
                condition=(models.OpenAlert.notification_sk == pointer.notification_sk)
                & (models.OpenAlert.status != RESOLVED),
            )
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    def acknowledge(self, pointer: models.OpenAlert, by: str, at: datetime) -> None:
        """Someone has seen it and is on it: still open until it clears or is resolved."""
        pointer.update(actions=[models.OpenAlert.status.set(ACKNOWLEDGED)])
        self._mark(
            pointer,
            [
                models.Notification.status.set(ACKNOWLEDGED),
                models.Notification.acknowledged_by.set(by),
                models.Notification.acknowledged_at.set(at),
            ],
        )

    def _mark(self, pointer: models.OpenAlert, actions: list[Any]) -> None:
        item = models.Notification(
            keys.notifications_pk(pointer.company_id), pointer.notification_sk
        )
        try:
            item.update(actions=actions, condition=models.Notification.pk.exists())
        except pynamo_errors.UpdateError as exc:
            if not conditional_check_failed(exc):
                raise  # an outbox item that never got written: the pointer alone closes

    def set_delivery(self, item: models.Notification, delivery: dict[str, str]) -> None:
        item.update(actions=[models.Notification.delivery.set(delivery)])

    def newest(self, company_id: str, limit: int) -> list[models.Notification]:
        return self.page(company_id, None, limit)[0]

    def page(
        self, company_id: str, cursor: str | None, limit: int
    ) -> tuple[list[models.Notification], str | None]:
        """One page and the cursor of the next (None at the end). A cursor of another
        listing is refused (InvalidCursorError)."""
        pk = keys.notifications_pk(company_id)
        start = decode_cursor(cursor, "pk", pk) if cursor else None
        result = models.Notification.query(
            pk,
            scan_index_forward=False,
            limit=max(1, min(int(limit), MAX_NOTIFICATIONS_READ)),
            last_evaluated_key=start,
        )
        items = [n for n in result if isinstance(n, models.Notification)]
        last = result.last_evaluated_key
        return items, encode_cursor(last) if last else None

    def tenant_page(
        self, company_id: str, tenant_sub: str, cursor: str | None, limit: int
    ) -> tuple[list[models.Notification], str | None]:
        """A tenant's own alerts, newest first (gsi1, pattern 23b)."""
        pk = keys.notifications_of_tenant_gsi1pk(company_id, tenant_sub)
        start = decode_cursor(cursor, "gsi1pk", pk) if cursor else None
        result = models.Notification.gsi1.query(
            pk,
            scan_index_forward=False,
            limit=max(1, min(int(limit), MAX_NOTIFICATIONS_READ)),
            last_evaluated_key=start,
        )
        items = [n for n in result if isinstance(n, models.Notification)]
        last = result.last_evaluated_key
        return items, encode_cursor(last) if last else None
