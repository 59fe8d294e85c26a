"""Encoding of one telemetry message per poll cycle (schema iot_rules/schemas/telemetry.v1.json).

Keys are one or two letters because the message must stay under 5 KB for 32 meters. That is
guaranteed, not hoped for: meter ids are at most MAX_METER_ID_CHARS long (the schema's `i`
pattern and config.py enforce it), every value has a bounded width (the plausible ranges
below, `dt` clamped to the schema's maximum, errors cut to MAX_ERROR_CHARS), and the only
unbounded field, the diagnostics counters, is left out of as many meters as needed when the
message would exceed its budget (tests/gateway/cloud/test_telemetry.py builds the worst case).
A meter's serial number (`sn`) travels only in the cycles that read it (bus.py: at most
MAX_SERIAL_READS_PER_CYCLE a cycle); it is left out last, only by a message at its widest
in every field, and the bus then reads it again for the next cycle (``encode_cycle``).

Energy (cumulative kWh) travels as a decimal string with exactly 3 decimals ("12345.678"):
most JSON parsers (JavaScript, DynamoDB's document path, Python's default json) turn a JSON
number into a binary float, and a cumulative register read as a float drifts in the last
digits, which would bill phantom Wh. A string keeps the Decimal exact end to end and is the
same format as the shadow's cutoff `kwh`. Integer Wh would also be exact, but would make the
two contracts disagree on the unit. Instantaneous values (V, A, W, PF, Hz) are plain JSON
numbers: they are never summed, and a float is exact enough for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from meter_gateway.errors import TelemetryTooLargeError

if TYPE_CHECKING:
    from meter_gateway.bus import MeterDiagnostics, MeterSample

SCHEMA_VERSION = 1
# AWS IoT Core refuses MQTT payloads above 128 KB; stay well clear of it.
MAX_MESSAGE_BYTES = 96 * 1024
ENERGY_QUANTUM = Decimal("0.001")
MAX_ENERGY_KWH = Decimal("999999999.999")
MAX_ERROR_CHARS = 32
# The largest id that keeps 32 meters with every field at its widest (thing name 128 chars,
# 9-digit energies, `dt` at its maximum) within TELEMETRY_BUDGET_BYTES without diagnostics.
MAX_METER_ID_CHARS = 17
METER_ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_METER_ID_CHARS}}}$"
# 5 KB for 32 meters (the design brief's target), pro rata for larger buses.
TELEMETRY_BUDGET_BYTES = 5 * 1024
BUDGET_METERS = 32
MAX_READ_OFFSET_MS = 3_600_000  # the schema's maximum for `dt`
SERIAL_PATTERN = re.compile(r"^[0-9A-Za-z._-]{1,20}$")  # the schema's `sn`

ENERGY_KEYS: dict[str, str] = {"import_kwh": "ie", "export_kwh": "xe", "total_kwh": "te"}
# sample value name -> (message key, quantum, plausible range); out of range = a decoding
# fault, left out rather than sent. The ranges are wide for a single-phase unit meter (a
# 100 A meter at 253 V draws 25 kW) and they bound each value's width on the wire.
INSTANT_KEYS: dict[str, tuple[str, Decimal, Decimal, Decimal]] = {
    "v": ("v", Decimal("0.1"), Decimal(0), Decimal("999.9")),
    "a": ("a", Decimal("0.01"), Decimal("-999.99"), Decimal("999.99")),
    "w": ("w", Decimal("1"), Decimal(-99_999), Decimal(99_999)),
    "pf": ("pf", Decimal("0.001"), Decimal(-1), Decimal(1)),
    "hz": ("hz", Decimal("0.01"), Decimal(0), Decimal("99.99")),
}


@dataclass(frozen=True)
class SpoolStats:
    """What the spool reports in every message, so the cloud sees data loss as it happens."""

    pending_cycles: int
    thinned_readings: int
    dropped_readings: int


@dataclass(frozen=True)
class CycleInput:
    thing_name: str
    spool_id: str
    cycle_started_ms: int
    cycle_duration_ms: int
    samples: Sequence[MeterSample]
    diagnostics: Mapping[str, MeterDiagnostics]
    spool: SpoolStats
    locally_cut: frozenset[str] = frozenset()
    # {profile name: "<version>.<content hash>"} of the profiles the bus runs (`pv`).
    profile_versions: Mapping[str, str] = field(default_factory=dict)


def format_energy_kwh(value: Decimal) -> str | None:
    """Exactly 3 decimals; None for values no meter can hold (negative, NaN, overflow)."""
    if not value.is_finite() or value < 0 or value > MAX_ENERGY_KWH:
        return None
    return format(value.quantize(ENERGY_QUANTUM), "f")


def _format_instant(
    value: Decimal, quantum: Decimal, low: Decimal, high: Decimal
) -> int | float | None:
    # Range first: quantizing a huge value would overflow the decimal context.
    if not value.is_finite() or not low <= value <= high:
        return None
    quantized = value.quantize(quantum)
    if quantized == quantized.to_integral_value():
        return int(quantized)
    # Within the ranges above with at most 3 decimals: at most 12 significant digits, and a
    # float's shortest repr gives back exactly these digits.
    return float(quantized)


def _diagnostics_row(diag: MeterDiagnostics | None) -> list[int | None] | None:
    if diag is None:
        return None
    # [timeouts, crc_errors, exception responses, last latency ms, consecutive failures,
    #  connection failures, backwards readings]. The first five keep their places, so a
    # cloud that reads only them is unaffected; the last two are counters too, so a cycle
    # whose `dg` was left out loses nothing. Successes stay on the gateway (logs): the cloud
    # counts them from the readings it gets, and the 7 digits they reach in a year would
    # push 32 meters over 5 KB.
    row: list[int | None] = [
        diag.timeouts,
        diag.crc_errors,
        sum(diag.exception_codes.values()),
        diag.last_latency_ms,
        diag.consecutive_failures,
        getattr(diag, "connect_failures", 0),
        getattr(diag, "backwards", 0),
    ]
    # Trailing zeros of the two new counters are left off (the schema allows 5 to 7
    # items): a healthy bus's message stays the size it was.
    while len(row) > 5 and row[-1] == 0:
        row.pop()
    return row


def _meter_entry(
    sample: MeterSample, cycle_started_ms: int, diag: MeterDiagnostics | None, cut: bool
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "i": sample.meter_id,
        "dt": min(max(0, sample.read_at_ms - cycle_started_ms), MAX_READ_OFFSET_MS),
    }
    if not sample.ok:
        # A failed read carries no values: a stale reading must not look like a fresh one.
        entry["er"] = (sample.error or "unknown")[:MAX_ERROR_CHARS]
    values = sample.values if sample.ok else {}
    for name, key in ENERGY_KEYS.items():
        if name == "total_kwh" and "import_kwh" in values:
            # Billing uses import; total only travels for a meter that has no import register.
            continue
        raw = values.get(name)
        if raw is not None and (text := format_energy_kwh(raw)) is not None:
            entry[key] = text
    for name, (key, quantum, low, high) in INSTANT_KEYS.items():
        raw = values.get(name)
        if raw is not None and (number := _format_instant(raw, quantum, low, high)) is not None:
            entry[key] = number
    if sample.relay_on is not None:
        entry["r"] = 1 if sample.relay_on else 0
    if cut:
        entry["lc"] = 1
    serial = getattr(sample, "serial", None) if sample.ok else None
    if serial is not None and SERIAL_PATTERN.fullmatch(serial):
        entry["sn"] = serial
    row = _diagnostics_row(diag)
    if row is not None:
        entry["dg"] = row
    return entry


def build_message(cycle: CycleInput, seq: int) -> dict[str, Any]:
    message = _base_message(cycle, seq)
    if cycle.profile_versions:
        message["pv"] = dict(sorted(cycle.profile_versions.items()))
    return message


def _base_message(cycle: CycleInput, seq: int) -> dict[str, Any]:
    return {
        "v": SCHEMA_VERSION,
        "g": cycle.thing_name,
        "sid": cycle.spool_id,
        "s": seq,
        "t": cycle.cycle_started_ms,
        "d": max(0, cycle.cycle_duration_ms),
        "sp": {
            "n": cycle.spool.pending_cycles,
            "th": cycle.spool.thinned_readings,
            "dr": cycle.spool.dropped_readings,
        },
        "m": [
            _meter_entry(
                s,
                cycle.cycle_started_ms,
                cycle.diagnostics.get(s.meter_id),
                s.meter_id in cycle.locally_cut,
            )
            for s in cycle.samples
        ],
    }


def budget_bytes(meter_count: int) -> int:
    return max(TELEMETRY_BUDGET_BYTES, -(-TELEMETRY_BUDGET_BYTES * meter_count // BUDGET_METERS))


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def _fit_budget(message: dict[str, Any], size: int, seq: int) -> dict[str, Any]:
    """Leave `dg` out of as few meters as it takes to fit the budget.

    Counters are the one field without a width bound. Which meters lose it rotates with
    the sequence number, so every meter's diagnostics still reach the cloud every few cycles.
    """
    entries: list[dict[str, Any]] = message["m"]
    budget = budget_bytes(len(entries))
    for offset in range(len(entries)):
        if size <= budget:
            break
        entry = entries[(seq + offset) % len(entries)]
        row = entry.pop("dg", None)
        if row is not None:
            size -= len(',"dg":') + len(_encode(row))
    if size > budget and "pv" in message:
        # Profile versions only change with a deployment: the next cycles carry them.
        size -= len(',"pv":') + len(_encode(message.pop("pv")))
    for entry in entries:
        if size <= budget:
            break
        serial = entry.pop("sn", None)
        if serial is not None:  # the bus reads it again (encode_cycle)
            size -= len(',"sn":') + len(_encode(serial))
    return message


@dataclass(frozen=True)
class Encoded:
    payload: bytes
    # Meters whose serial was read this cycle but left out to fit the budget.
    serials_left_out: frozenset[str] = frozenset()


def encode_cycle(cycle: CycleInput, seq: int) -> Encoded:
    message = build_message(cycle, seq)
    payload = _encode(message)
    left_out: frozenset[str] = frozenset()
    if len(payload) > budget_bytes(len(cycle.samples)):
        read = {e["i"] for e in message["m"] if "sn" in e}
        fitted = _fit_budget(message, len(payload), seq)
        payload = _encode(fitted)
        left_out = frozenset(read - {e["i"] for e in fitted["m"] if "sn" in e})
    if len(payload) > MAX_MESSAGE_BYTES:
        raise TelemetryTooLargeError(
            f"telemetry seq {seq} is {len(payload)} bytes, limit {MAX_MESSAGE_BYTES}"
        )
    return Encoded(payload, left_out)


def encode_message(cycle: CycleInput, seq: int) -> bytes:
    return encode_cycle(cycle, seq).payload
