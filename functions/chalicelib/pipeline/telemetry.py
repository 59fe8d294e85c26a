"""Decode and validate one telemetry event (pure: no AWS).

The rule hands ingest ``raw`` (base64 of the MQTT payload) so that a payload
which is not JSON still reaches the handler and can be dead-lettered with its
reason. Numbers are parsed as ``Decimal`` so no float ever carries a reading.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..data.control_state import from_ms
from ..data.models import GatewayCycle
from .errors import InvalidTelemetryError
from .senders import check_sender
from .telemetry_check import check_telemetry

# 247 meters of the schema's maximum is ~35 KB; anything far beyond is not a gateway.
MAX_RAW_BYTES = 64 * 1024
MAX_CLOCK_SKEW = timedelta(days=400)


@dataclass(frozen=True)
class MeterRow:
    meter_id: str
    read_at: datetime
    import_kwh: Decimal | None
    export_kwh: Decimal | None
    watts: Decimal | None
    relay: int | None
    error: str | None
    consecutive_failures: int
    # Why validation held this reading back (docs/metering-data.md); None: a good reading.
    # A quarantined reading is kept, but never moves a cursor, charges or disconnects.
    quarantine: str | None = None
    # Wh the meter's power readings say it passed while its register stood still up to
    # this reading (domain/metering.py still_energy_kwh); None: the register moved, or the
    # power was idle. Stored so the next message carries the evidence on without a read.
    still_wh: int | None = None
    # The meter's serial number when the gateway read it this cycle (`sn`); not stored in
    # the cycle: the Meter item keeps the known one (written on first sight and change).
    serial: str | None = None
    # The gateway's bus counters for this meter, as sent (``dg``, 5 to 7 items), or None
    # when the message left them out: only the bucket that closes keeps them (health.py).
    diagnostics: tuple[int | None, ...] | None = None

    @property
    def usable(self) -> bool:
        """A reading that may be billed or settled on: read, and not held back."""
        return self.import_kwh is not None and not self.error and self.quarantine is None

    def compact(self, cycle_at: datetime) -> list[Any]:
        """The stored row: [meter, dt_ms, import, export, watts, relay, error], an eighth
        element, the quarantine reason, and a ninth, ``still_wh``, only when there is one
        (trailing nulls left off: older rows have seven)."""
        dt_ms = int((self.read_at - cycle_at).total_seconds() * 1000)
        row = [
            self.meter_id,
            dt_ms,
            None if self.import_kwh is None else str(self.import_kwh),
            None if self.export_kwh is None else str(self.export_kwh),
            None if self.watts is None else str(self.watts),
            self.relay,
            self.error,
        ]
        if self.still_wh:
            return [*row, self.quarantine, self.still_wh]
        return row if self.quarantine is None else [*row, self.quarantine]

    @classmethod
    def from_compact(cls, row: list[Any], cycle_at: datetime) -> MeterRow:
        meter_id, dt_ms, imp, exp, watts, relay, error = row[:7]
        return cls(
            meter_id,
            cycle_at + timedelta(milliseconds=int(dt_ms)),
            None if imp is None else Decimal(imp),
            None if exp is None else Decimal(exp),
            None if watts is None else Decimal(watts),
            relay,
            error,
            0,
            row[7] if len(row) > 7 else None,
            int(row[8]) if len(row) > 8 and row[8] is not None else None,
        )


@dataclass(frozen=True)
class Telemetry:
    thing_name: str
    spool_id: str
    seq: int
    cycle_at: datetime
    received_at: datetime
    rows: tuple[MeterRow, ...]
    # ``pv``: {profile name: "<version>.<8 hex of its content hash>"}; empty when left out.
    profile_versions: dict[str, str] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        return f"{self.thing_name}/{self.spool_id}/{self.seq}"


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def parse_event(event: Any) -> Telemetry:
    """The rule's event -> Telemetry, or InvalidTelemetryError naming what is wrong
    (MissingClientIdError / ForeignSenderError when the sender is not the gateway)."""
    if not isinstance(event, dict):
        raise InvalidTelemetryError("event is not an object")
    raw, thing = event.get("raw"), event.get("thing_name")
    if not isinstance(raw, str) or not isinstance(thing, str) or not thing:
        raise InvalidTelemetryError("event lacks raw or thing_name")
    # Before the payload is even decoded: a message from a client that is not this
    # gateway must change nothing, whatever it says (senders.py).
    check_sender(event.get("client_id"), thing)
    if len(raw) > MAX_RAW_BYTES * 4 // 3 + 4:
        raise InvalidTelemetryError(f"payload larger than {MAX_RAW_BYTES} bytes")
    try:
        payload = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidTelemetryError(f"raw is not base64: {exc}") from exc
    if len(payload) > MAX_RAW_BYTES:
        raise InvalidTelemetryError(f"payload larger than {MAX_RAW_BYTES} bytes")
    try:
        document = json.loads(payload.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidTelemetryError(f"payload is not JSON: {exc}") from exc
    # The schema's rules, hand-written (telemetry_check.py; a test proves they agree).
    problem = check_telemetry(document)
    if problem is not None:
        raise InvalidTelemetryError(f"schema telemetry.v1: {problem}"[:400])
    if document["g"] != thing:
        # The topic (and the IoT policy behind it) says who sent it; the payload cannot.
        raise InvalidTelemetryError(
            f"payload gateway {document['g']!r} is not the topic's {thing!r}"
        )
    received_ms = event.get("received_at_ms")
    received_at = _ms(received_ms) if isinstance(received_ms, int) else datetime.now(UTC)
    cycle_at = _ms(document["t"])
    if abs(cycle_at - received_at) > MAX_CLOCK_SKEW:
        raise InvalidTelemetryError("cycle time is more than 400 days from the receive time")
    seen: set[str] = set()
    rows: list[MeterRow] = []
    for meter in document["m"]:
        if meter["i"] in seen:
            raise InvalidTelemetryError(f"meter {meter['i']} appears twice in one cycle")
        seen.add(meter["i"])
        sent = meter.get("dg")
        diagnostics = sent or [0, 0, 0, None, 0]
        rows.append(
            MeterRow(
                meter_id=meter["i"],
                read_at=cycle_at + timedelta(milliseconds=meter["dt"]),
                import_kwh=_kwh(meter.get("ie", meter.get("te"))),
                export_kwh=_kwh(meter.get("xe")),
                watts=None if meter.get("w") is None else Decimal(str(meter["w"])),
                relay=meter.get("r"),
                error=meter.get("er"),
                consecutive_failures=int(diagnostics[4]),
                serial=meter.get("sn"),
                diagnostics=None if sent is None else tuple(sent),
            )
        )
    return Telemetry(
        thing,
        document["sid"],
        document["s"],
        cycle_at,
        received_at,
        tuple(rows),
        dict(document.get("pv") or {}),
    )


def _kwh(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def rows_of(cycle: GatewayCycle) -> list[MeterRow]:
    """A stored cycle's rows (``GatewayCycle.rows``, compact) as readings."""
    at = from_ms(int(cycle.cycle_at_ms))
    return [MeterRow.from_compact(list(row), at) for row in cycle.rows]
