"""A meter's 15-minute buckets clipped to one tenancy (domain/tenancy_window.py).

A bucket inside the tenancy counts whole, one outside not at all. The bucket that
holds a changeover (at most one at each edge of the window) is split from the
readings: the bus's cycles in it and the last ones before it (two small Queries),
priced the way ingest priced the bucket (``pipeline/buckets.py``), keeping only the
intervals that end inside the window. Cycles are raw data kept 35 days
(``CYCLE_RETENTION``); a bucket whose readings are gone (or were never stored for this
meter) goes whole to the tenancy that holds its last instant, so it is still shown to
exactly one of the two tenants, never both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ..data.models import Tenancy
from ..data.telemetry_store import TelemetryStore
from ..domain.tenancy_window import TenancyWindow, energy_in_window, window_of
from ..pipeline.buckets import BUCKET, readings_by_meter
from ..pipeline.telemetry import rows_of

# The meter's last reading before the bucket is looked for in a few cycles (as
# application/open_bucket.py does: a meter may have failed a read in the newest).
CYCLES_BEFORE = 3
LAST_INSTANT = timedelta(milliseconds=1)


@dataclass(frozen=True)
class TenancyBuckets:
    _telemetry: TelemetryStore

    def clip(
        self,
        company_id: str,
        gateway_id: str,
        meter_id: str,
        buckets: Iterable[tuple[datetime, Decimal]],
        window: TenancyWindow,
    ) -> list[tuple[datetime, Decimal]]:
        """(bucket start, energy) of the window's share of each bucket; buckets with no
        share are left out."""
        if window.unbounded:
            return list(buckets)
        kept: list[tuple[datetime, Decimal]] = []
        for start, energy in buckets:
            end = start + BUCKET
            if window.covers(start, end):
                kept.append((start, energy))
            elif not window.misses(start, end):
                share = self._split(company_id, gateway_id, meter_id, start, window)
                if share is None:  # no readings to split on: whole to the later holder
                    if window.holds(end - LAST_INSTANT):
                        kept.append((start, energy))
                else:
                    kept.append((start, share))
        return kept

    def _split(
        self,
        company_id: str,
        gateway_id: str,
        meter_id: str,
        start: datetime,
        window: TenancyWindow,
    ) -> Decimal | None:
        telemetry = self._telemetry
        before = telemetry.cycles_before(company_id, gateway_id, start, CYCLES_BEFORE)
        inside = list(telemetry.cycles_between(company_id, gateway_id, start, start + BUCKET))
        series = readings_by_meter(rows_of(c) for c in [*reversed(before), *inside]).get(
            meter_id, []
        )
        if not any(start <= r.at < start + BUCKET for r in series):
            return None
        return energy_in_window(series, start, start + BUCKET, window)


def window_of_tenancy(tenancy: Tenancy, time_zone: str) -> TenancyWindow:
    return window_of(
        time_zone, str(tenancy.starts_on), tenancy.starts_at, tenancy.ends_on, tenancy.ends_at
    )
