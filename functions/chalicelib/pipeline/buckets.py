"""15-minute interval usage from stored cycles (pure).

A bucket's energy is the sum of the consumption intervals whose *end* reading
falls inside it, each interval starting from the meter's previous reading
(which may lie in an earlier bucket). So buckets always sum to the register's
advance, and a bucket is a pure function of the cycles: recomputing it after a
late message simply overwrites it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..domain import Reading, consumption_intervals, format_kwh
from ..domain.energy import ZERO_KWH
from .telemetry import MeterRow

BUCKET = timedelta(minutes=15)


def bucket_start(at: datetime) -> datetime:
    utc = at.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def readings_by_meter(cycles: Iterable[Sequence[MeterRow]]) -> dict[str, list[Reading]]:
    """Usable import readings per meter (read, not held), in time order."""
    found: dict[str, list[Reading]] = {}
    for rows in cycles:
        for row in rows:
            if not row.usable or row.import_kwh is None:
                continue  # nothing read, or held by validation: the chain skips it
            found.setdefault(row.meter_id, []).append(Reading(row.read_at, row.import_kwh))
    for readings in found.values():
        readings.sort(key=lambda r: r.at)
    return found


def bucket_energy(readings: dict[str, list[Reading]], start: datetime) -> dict[str, str]:
    """Energy per meter in [start, start + 15 min); meters with no reading in it are absent."""
    end = start + BUCKET
    energy: dict[str, str] = {}
    for meter_id, series in readings.items():
        total = ZERO_KWH
        seen = False
        for interval in consumption_intervals(series):
            if start <= interval.end.at < end:
                seen = True
                if interval.charges:
                    total += interval.energy_kwh
        if seen or any(start <= r.at < end for r in series):
            energy[meter_id] = format_kwh(Decimal(total))
    return energy
