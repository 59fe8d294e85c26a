"""Decode and validate one telemetry event (pure: no AWS).

The rule hands ingest ``raw`` (base64 of the MQTT payload) so that a payload
which is not JSON still reaches the handler and can be dead-lettered with its
reason. No float ever carries a value that is kept: the exact way reads numbers as
``Decimal``; orjson's faster reading (``_plain``) is taken only when every kept value is
an ``int`` or a string in it.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from ..data.control_state import from_ms
from ..data.rows import GatewayCycleRow as GatewayCycle  # a stored cycle, as read
from .errors import InvalidTelemetryError
from .memo import BoundedMemo
from .senders import check_sender
from .telemetry_check import check_telemetry, plainly_valid

# 247 meters of the schema's maximum is ~35 KB; anything far beyond is not a gateway.
MAX_RAW_BYTES = 64 * 1024
MAX_CLOCK_SKEW_MS = 400 * 86_400_000
# The gateway spool's sequence is an SQLite INTEGER (and fits DynamoDB's 38 digits).
MAX_SEQ = 2**63 - 1
# The gateway clamps a power reading to +-99,999 W (meter_gateway/telemetry.py); beyond
# this no meter on a bus draws, and a power of 1E+999999 would overflow the frozen
# register check's arithmetic (validation.py) on the next message.
MAX_WATTS = 1_000_000

_T = TypeVar("_T")

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True)
    def _record(cls: type[_T]) -> type[_T]: ...

else:

    def _record(cls):
        # A row is a value: never changed once made (mypy holds every module to that, as
        # for a frozen dataclass), but made ~100 times a message (32 parsed, 32 of the
        # previous cycle, copies), and a frozen dataclass sets each of its 12 fields
        # through object.__setattr__: ~5 us a row against ~0.7 us with slots and plain
        # assignment (issue 19, CPU). Hashable and comparable by value as before.
        return dataclass(slots=True, unsafe_hash=True)(cls)


@_record
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
    def from_compact(cls, row: Sequence[Any], cycle_at: datetime) -> MeterRow:
        # ~32 a message (the previous cycle's rows, validation.py): no copy of the row,
        # the offset and the export's Decimal found, not made, when seen before
        n = len(row)
        dt_ms = int(row[1])
        imp, exp, watts = row[2], row[3], row[4]
        if exp is not None:
            found = _EXPORTS.get(exp)  # text keys only: a number never equals one
            exp = found if found is not None else _export_kwh(exp)
        return cls(
            row[0],
            cycle_at + (_OFFSETS.get(dt_ms) or _offset(dt_ms)),
            None if imp is None else Decimal(imp),
            exp,
            None if watts is None else Decimal(watts),
            row[5],
            row[6],
            0,
            row[7] if n > 7 else None,
            int(row[8]) if n > 8 and row[8] is not None else None,
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


# A reading's offset from its cycle (``dt``, ms) as a timedelta, made once per container:
# a gateway reads its meters in the same order each cycle, so the offsets repeat, and a
# timedelta made from milliseconds is ~1.5 us, 32 times a message and 32 again for the
# previous cycle's rows (issue 19, CPU). Bounded: the schema allows an hour of offsets.
_MAX_OFFSETS = 8192
_OFFSETS: BoundedMemo[int, timedelta] = BoundedMemo(_MAX_OFFSETS)


def _offset(dt_ms: int) -> timedelta:
    found = _OFFSETS.get(dt_ms)
    if found is None:
        found = _OFFSETS.remember(dt_ms, timedelta(milliseconds=dt_ms))
    return found


# An export register's text as a Decimal, made once per container: most meters export
# nothing ("0.000") and a meter's export stands still from cycle to cycle, so the same
# few texts come ~64 times a message (32 parsed, 32 of the previous cycle), where a
# Decimal made from text is ~0.2 us. Text only (a number's key would match an equal one
# of another exponent); bounded.
_EXPORTS: BoundedMemo[str, Decimal] = BoundedMemo(4096)


def _export_kwh(text: Any) -> Decimal:
    """A Decimal not yet in ``_EXPORTS``, remembered when it came from text."""
    made = Decimal(text)
    if type(text) is str:
        _EXPORTS.remember(text, made)
    return made


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _not_a_json_number(name: str) -> Any:
    # json.loads takes NaN, Infinity and -Infinity by default; JSON has no such numbers,
    # and a reading or a power must never be one.
    raise ValueError(f"{name} is not a JSON number")


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(
            payload.decode("utf-8"), parse_float=Decimal, parse_constant=_not_a_json_number
        )
    except (UnicodeDecodeError, ValueError) as exc:
        # ValueError: JSONDecodeError, a constant above, or an integer of more than
        # sys.get_int_max_str_digits() digits (4300): all "not JSON" as far as we take it.
        raise InvalidTelemetryError(f"payload is not JSON: {exc}") from exc


def _plain(payload: bytes) -> Any:
    """The document as orjson reads it, when it is plainly valid telemetry whose kept
    values are what ``_decode`` would give (``plainly_valid``); else None, and the exact
    way decides: ``_decode`` then ``check_telemetry``, so every refusal and its words
    are theirs. orjson reads a gateway's message ~3x faster than ``_decode`` (no
    Decimal made for the powers and factors nobody keeps; issue 19, CPU); a payload it
    refuses (not JSON, NaN, a lone surrogate, a number beyond a double) goes the exact
    way too."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return document if plainly_valid(document) else None


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
    document = _plain(payload)
    if document is None:
        document = _decode(payload)
        # The schema's rules, hand-written (telemetry_check.py; a test proves they agree).
        problem = check_telemetry(document)
        if problem is not None:
            raise InvalidTelemetryError(f"schema telemetry.v1: {problem}"[:400])
    if document["g"] != thing:
        # The topic (and the IoT policy behind it) says who sent it; the payload cannot.
        raise InvalidTelemetryError(
            f"payload gateway {document['g']!r} is not the topic's {thing!r}"
        )
    # Beyond the schema (which bounds neither): what the cloud stores must fit where it
    # goes. A sequence number is a DynamoDB number and the gateway's SQLite integer.
    if document["s"] > MAX_SEQ:
        raise InvalidTelemetryError(f"sequence number above {MAX_SEQ}")
    received_ms = event.get("received_at_ms")
    if not isinstance(received_ms, int) or isinstance(received_ms, bool):
        received_ms = int(time.time() * 1000)
    # compared in ms before any datetime is made: a far-off ``t`` is refused here, not
    # by datetime's range
    if abs(document["t"] - received_ms) > MAX_CLOCK_SKEW_MS:
        raise InvalidTelemetryError("cycle time is more than 400 days from the receive time")
    cycle_at = _ms(document["t"])
    return Telemetry(
        thing,
        document["sid"],
        document["s"],
        cycle_at,
        _ms(received_ms),
        _rows(document["m"], cycle_at),
        dict(document.get("pv") or {}),
    )


def _rows(meters: list[dict[str, Any]], cycle_at: datetime) -> tuple[MeterRow, ...]:
    """The checked document's meters as rows: the schema has vouched for every type,
    so each value is taken as it is (a kWh string becomes a Decimal, nothing else
    converts)."""
    seen: set[str] = set()
    rows: list[MeterRow] = []
    offsets, offset, exports = _OFFSETS, _offset, _EXPORTS
    for meter in meters:
        get = meter.get
        meter_id = meter["i"]
        if meter_id in seen:
            raise InvalidTelemetryError(f"meter {meter_id} appears twice in one cycle")
        seen.add(meter_id)
        imported = get("ie") or get("te")
        exported = get("xe")
        if exported is not None:
            found = exports.get(exported)  # not ``or``: Decimal("0.000") is false
            exported = found if found is not None else _export_kwh(exported)
        watts = get("w")
        if watts is not None:
            if not -MAX_WATTS <= watts <= MAX_WATTS:
                raise InvalidTelemetryError(f"meter {meter_id}: power {watts} W beyond {MAX_WATTS}")
            # int or Decimal (a float cannot pass the check): exact either way
            watts = Decimal(watts)
        sent = get("dg")
        dt = meter["dt"]
        rows.append(
            MeterRow(
                meter_id,
                cycle_at + (offsets.get(dt) or offset(dt)),
                None if imported is None else Decimal(imported),
                exported,
                watts,
                get("r"),
                get("er"),
                0 if sent is None else sent[4],
                None,
                None,
                get("sn"),
                None if sent is None else tuple(sent),
            )
        )
    return tuple(rows)


def rows_of(cycle: GatewayCycle) -> list[MeterRow]:
    """A stored cycle's rows (``GatewayCycle.rows``, compact) as readings."""
    at = from_ms(int(cycle.cycle_at_ms))
    return [MeterRow.from_compact(row, at) for row in cycle.rows]
