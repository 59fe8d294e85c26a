"""A meter's RS-485 bus health over the last day, for its unit page.

Read from the bus's 15-minute buckets, which carry the gateway's counters as the
message that closed each bucket sent them (pipeline/health.py): one Query of at most
~100 items (25 hours of buckets: the day and a base snapshot before it), then the pure
arithmetic of domain/bus_health.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..data.models import Meter
from ..data.usage_days import UsageDayStore
from ..domain.bus_health import InvalidDiagnosticsError, Snapshot, Summary, slots, summarise

WINDOW_HOURS = 24
# A snapshot before the window is the base of its first slot; a bus silent for longer
# than this before the window starts counting at its first snapshot inside.
BASE_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class BusHealthQueries:
    _usage_days: UsageDayStore

    def of_meter(self, company_id: str, meter: Meter, now: datetime) -> Summary | None:
        """None when no bucket of the window carries the meter's counters. The caller
        has checked that the meter's unit is visible (the unit page's own read)."""
        start = now - timedelta(hours=WINDOW_HOURS) - BASE_MARGIN
        meter_id = str(meter.meter_id)
        snapshots = []
        for bucket in self._usage_days.buckets_between(
            company_id, str(meter.gateway_id), start, now + timedelta(microseconds=1)
        ):
            health = bucket.health or {}
            dg = (health.get("m") or {}).get(meter_id)
            if dg is None or not isinstance(health.get("t"), int):
                continue
            at = datetime.fromtimestamp(health["t"] / 1000, tz=UTC)
            try:
                snapshots.append(Snapshot.from_dg(at, dg))
            except InvalidDiagnosticsError:
                continue  # stored only after the schema checked it: not expected
        if not snapshots:
            return None
        return summarise(slots(snapshots), now, WINDOW_HOURS)
