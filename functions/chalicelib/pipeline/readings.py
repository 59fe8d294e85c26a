"""Read models for the portal: a bus's latest reading per meter, a meter's 15-minute usage."""

from __future__ import annotations

from datetime import datetime

from ..data.telemetry_store import TelemetryStore
from .telemetry import MeterRow, rows_of

LATEST_SEARCH_CYCLES = 15  # a meter silent longer than this shows no latest reading


def latest_readings(
    telemetry: TelemetryStore, company_id: str, gateway_id: str
) -> dict[str, MeterRow]:
    """The newest valid row of every meter in the bus's last cycles (newest first)."""
    found: dict[str, MeterRow] = {}
    for cycle in telemetry.latest_cycles(company_id, gateway_id, limit=LATEST_SEARCH_CYCLES):
        for row in rows_of(cycle):
            if row.meter_id not in found and row.import_kwh is not None and not row.error:
                found[row.meter_id] = row
    return found


def meter_usage(
    telemetry: TelemetryStore,
    company_id: str,
    gateway_id: str,
    meter_id: str,
    start: datetime,
    end: datetime,
) -> list[tuple[datetime, str]]:
    """(bucket start, kWh) of one meter, from the bus's 15-minute usage items."""
    return [
        (usage.bucket_start, usage.energy[meter_id])
        for usage in telemetry.usage_between(company_id, gateway_id, start, end)
        if meter_id in usage.energy
    ]
