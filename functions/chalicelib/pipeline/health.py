"""The bus counters a bucket keeps: the snapshot of the message that closes it.

The gateway's ``dg`` counters are cumulative since it started, so one snapshot per
15-minute bucket is enough to say what happened in each bucket (the difference from the
bucket before, ``domain/bus_health.py``). The message that closes a bucket writes the
bucket anyway (``ingest.py``), so the snapshot costs no write of its own: only bytes in an
item that is written already, compressed (docs/pipeline.md, write budget).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ..data.control_state import ms
from .telemetry import Telemetry


def health_snapshot(message: Telemetry, meters: Collection[str]) -> dict[str, Any] | None:
    """{"t": the cycle's unix ms, "m": {meter: dg as sent}} for the bus's meters whose
    ``dg`` the message carries; None when it carries none (nothing, not zeros)."""
    sent = {
        row.meter_id: list(row.diagnostics)
        for row in message.rows
        if row.diagnostics is not None and row.meter_id in meters
    }
    return {"t": ms(message.cycle_at), "m": sent} if sent else None
