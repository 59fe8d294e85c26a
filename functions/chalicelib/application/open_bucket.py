"""The energy of a meter's open 15-minute bucket, for charts that should not lag.

Ingest writes a bucket when it closes (the bus's first message of the next bucket,
``pipeline/ingest.py``), so a chart of bucket items ends up to 15 minutes behind the
latest reading. The open bucket is priced at read time instead, the way ingest will
price it when it closes (``pipeline/buckets.py``): from the meter's last good reading
before the bucket to its newest one. Two small Queries of the bus's cycles, newest
first, whatever the polling interval: ingest's write path stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..data.rows import GatewayCycleRow as GatewayCycle  # a stored cycle, as read
from ..data.telemetry_store import TelemetryStore
from ..domain import Reading, consumption_intervals
from ..domain.energy import ZERO_KWH
from ..pipeline.buckets import bucket_start, readings_by_meter
from ..pipeline.telemetry import rows_of

# A meter that failed a read in the newest cycles is looked for in a few more.
CYCLES_LOOKED_AT = 3


@dataclass(frozen=True)
class OpenBucket:
    start: datetime  # UTC, a 15-minute boundary
    energy_kwh: Decimal


@dataclass(frozen=True)
class OpenBuckets:
    _telemetry: TelemetryStore

    def of(self, company_id: str, gateway_id: str, meter_id: str) -> OpenBucket | None:
        """The bucket of the meter's newest good reading, priced from the last good
        reading before that bucket; None when either is missing (nothing to add)."""
        newest = self._newest(
            self._telemetry.latest_cycles(company_id, gateway_id, CYCLES_LOOKED_AT), meter_id
        )
        if newest is None:
            return None
        start = bucket_start(newest.at)
        before = self._newest(
            self._telemetry.cycles_before(company_id, gateway_id, start, CYCLES_LOOKED_AT),
            meter_id,
        )
        if before is None:
            return None
        energy = sum(
            (i.energy_kwh for i in consumption_intervals([before, newest]) if i.charges),
            ZERO_KWH,
        )
        return OpenBucket(start, Decimal(energy))

    @staticmethod
    def _newest(cycles: list[GatewayCycle], meter_id: str) -> Reading | None:
        series = readings_by_meter(rows_of(c) for c in cycles).get(meter_id, [])
        return series[-1] if series else None
