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
        return self.of_gateway(company_id, meter.gateway_id, [meter]).get(meter.meter_id)

    def of_gateway(
        self, company_id: str, gateway_id: str, meters: list[Meter]
    ) -> dict[str, StoredReading]:
        """The newest good reading of each of ``meters`` (all on ``gateway_id``): one
        Query of the bus's latest cycles, whatever the number of meters."""
        cycles = self._telemetry.latest_cycles(company_id, gateway_id, CYCLES_LOOKED_AT)
        found = readings_by_meter(rows_of(c) for c in cycles)
        out: dict[str, StoredReading] = {}
        for meter in meters:
            best: StoredReading | None = None
            if meter.last_kwh is not None:
                best = StoredReading(str(kwh(str(meter.last_kwh))), meter.last_read_at, "meter")
            series = found.get(meter.meter_id, [])
            if series:
                newest = series[-1]
                if best is None or best.at is None or newest.at > best.at:
                    best = StoredReading(str(kwh(newest.cumulative_kwh)), newest.at, "cycle")
            if best is not None:
                out[meter.meter_id] = best
        return out
