"""Telemetry as the ingest rule hands it over, for the benchmarks and the soak.

A cycle message in the `telemetry.v1` shape (what `meter_gateway/telemetry.py`
sends), and the rule's event around it (payload base64, thing, receive time).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any


def cycle_payload(
    thing: str,
    spool_id: str,
    seq: int,
    stamp: datetime,
    rows: list[Any],
    duration_ms: int = 400,
) -> bytes:
    body = {
        "v": 1,
        "g": thing,
        "sid": spool_id,
        "s": seq,
        "t": int(stamp.timestamp() * 1000),
        "d": duration_ms,
        "sp": {"n": 0, "th": 0, "dr": 0},
        "m": rows,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def raw_event(payload: bytes, thing: str, received_at: datetime) -> dict[str, Any]:
    return {
        "raw": base64.b64encode(payload).decode(),
        "thing_name": thing,
        "client_id": thing,
        "received_at_ms": int(received_at.timestamp() * 1000),
    }
