"""A meter's latest stored reading: the newer of its row in the gateway's latest cycle
and the reading kept on the Meter item (set at registration or by seeding).

Ingest keeps readings in one ``GatewayCycle`` per bus message, not on the Meter item
(docs/data-model.md), so ``Meter.last_kwh`` alone can be days old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..data.models import Meter
from ..data.telemetry_store import TelemetryStore
from ..domain import kwh
from ..pipeline.buckets import readings_by_meter
from ..pipeline.telemetry import rows_of

# A meter with an error in the newest cycle is looked for in a few cycles before it.
CYCLES_LOOKED_AT = 3


@dataclass(frozen=True)
class StoredReading:
    cumulative_kwh: str  # 3 decimals
    at: datetime | None
    source: str  # "cycle" | "meter"


@dataclass(frozen=True)
class LatestReadings:
    _telemetry: TelemetryStore

    def of(self, company_id: str, meter: Meter) -> StoredReading | None:
        best: StoredReading | None = None
        if meter.last_kwh is not None:
            best = StoredReading(str(kwh(str(meter.last_kwh))), meter.last_read_at, "meter")
        cycles = self._telemetry.latest_cycles(company_id, meter.gateway_id, CYCLES_LOOKED_AT)
        found = readings_by_meter(rows_of(c) for c in cycles).get(meter.meter_id, [])
        if found:
            newest = found[-1]
            if best is None or best.at is None or newest.at > best.at:
                best = StoredReading(str(kwh(newest.cumulative_kwh)), newest.at, "cycle")
        return best
