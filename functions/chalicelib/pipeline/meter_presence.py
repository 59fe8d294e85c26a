"""Whether each meter answers, kept on the Meter item and written only when it changes.

A meter that answered in the gateway's latest cycle is online; one that failed
``OFFLINE_AFTER`` cycles in a row is offline, with its last error (timeout, crc,
exception:02, ...). The gateway counts failures in a row itself (the fifth number of
the telemetry's ``dg``); a message that leaves ``dg`` out (to stay under 5 KB) changes
nothing, the next one carries it. The bus context (cached) holds the meter's last known
presence, so a steady meter costs no write: a write happens on a change only, or when
the cached copy is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..data.catalogue import Catalogue
from .context import BusContext
from .telemetry import MeterRow

OFFLINE_AFTER = 3


@dataclass(frozen=True)
class PresenceChange:
    meter_id: str
    online: bool
    error: str | None


def presence_changes(bus: BusContext, rows: Iterable[MeterRow]) -> list[PresenceChange]:
    """The meters whose presence this message changes (pure)."""
    changes = []
    for row in rows:
        meter = bus.meters[row.meter_id].meter
        if not row.error:
            if not meter.online:
                changes.append(PresenceChange(row.meter_id, True, None))
        elif meter.online and row.consecutive_failures >= OFFLINE_AFTER:
            changes.append(PresenceChange(row.meter_id, False, row.error))
    return changes


def record_presence(
    catalogue: Catalogue, bus: BusContext, changes: list[PresenceChange], at: datetime
) -> int:
    written = 0
    for change in changes:
        if catalogue.set_meter_presence(
            bus.company_id, change.meter_id, change.online, change.error, at
        ):
            written += 1
        # this container's copy follows, so the next message does not write again
        meter = bus.meters[change.meter_id].meter
        meter.online = change.online
        meter.last_error = change.error
    return written
