"""The company's audit trail: who did what to which object, when and why (pattern 24).

Settings changes write their event in the same transaction as the change
(``settings_store.py``); a manual power change records its event here once the
command is planned.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import keys
from .lazy import lazy_module

if TYPE_CHECKING:
    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")

MAX_TRAIL = 50


def audit_event(
    company_id: str,
    event_id: str,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any],
    at: datetime,
) -> models.AuditEvent:
    return models.AuditEvent(
        keys.audit_pk(company_id),
        keys.event_sk(at, event_id),
        company_id=company_id,
        event_id=event_id,
        at=at,
        actor=actor,
        action=action,
        target=target,
        detail=detail,
    )


class AuditLog:
    def record(self, event: models.AuditEvent) -> None:
        event.save()

    def trail(self, company_id: str, limit: int = MAX_TRAIL) -> list[models.AuditEvent]:
        """The company's newest audit events."""
        return list(
            models.AuditEvent.query(
                keys.audit_pk(company_id), scan_index_forward=False, limit=min(limit, MAX_TRAIL)
            )
        )
