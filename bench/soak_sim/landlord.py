"""The landlord's side of a meter swap or reset: told by the alert, records the exchange.

A swapped or reset meter's readings are held from the change on (its register no longer
follows the old one), and after three in a row staff get a ``readings_held`` alert. At
the next operations round after that alert the landlord records the exchange through
``corrections.exchange``, with what they read off the meters: the old register's final
reading and the new one's opening, at the instant of the change. A change whose alert
has not come yet waits for the following round, as a landlord would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.wiring.container import Container

from .field_faults import FieldFaults, RegisterChange
from .load_model import as_kwh

ALERT_TOPIC = "readings_held"
OUTBOX_PAGE = 100
MAX_OUTBOX_PAGES = 50  # a company's alerts since the change: a few hundred at most


@dataclass(frozen=True)
class ExchangeRecord:
    meter_id: str
    account_id: str
    kind: str
    at: datetime  # the change
    alert_at: datetime  # the event time of the readings_held alert
    recorded_at: datetime  # when the landlord recorded it
    old_final_kwh: str
    opening_kwh: str
    settled: bool  # the prepaid account was charged to the old final in the same step
    released: int  # held readings of the new register it resolved


def record_exchanges(
    svc: Container, faults: FieldFaults, now: datetime, done: dict[str, ExchangeRecord]
) -> list[ExchangeRecord]:
    """Record every change that has raised its alert by ``now`` and is not recorded yet."""
    recorded = []
    for meter_id, change in sorted(faults.changes.items()):
        if meter_id in done or change.at >= now:
            continue
        alert_at = _alert_at(svc, change)
        if alert_at is None:
            continue  # not alerted yet: the next round
        result = svc.corrections.exchange(
            change.gateway.company_id,
            change.meter.unit_id,
            change.at,
            as_kwh(change.old_final_wh),
            as_kwh(change.opening_wh),
            "landlord-soak",
            f"soak: {change.kind.value.replace('_', ' ')}",
            now,
        )
        done[meter_id] = ExchangeRecord(
            meter_id,
            change.meter.account_id,
            change.kind.value,
            change.at,
            alert_at,
            now,
            str(as_kwh(change.old_final_wh)),
            str(as_kwh(change.opening_wh)),
            result.settled,
            result.released,
        )
        recorded.append(done[meter_id])
    return recorded


def _alert_at(svc: Container, change: RegisterChange) -> datetime | None:
    """The unit's readings_held alert since the change, from the company's outbox."""
    subject = f"unit:{change.meter.unit_id}"
    cursor = None
    for _ in range(MAX_OUTBOX_PAGES):
        items, cursor = svc.notification_store.page(change.gateway.company_id, cursor, OUTBOX_PAGE)
        for item in items:  # newest first
            if item.created_at < change.at:
                return None
            if item.topic == ALERT_TOPIC and item.subject_ref == subject:
                return item.created_at
        if cursor is None:
            return None
    return None
