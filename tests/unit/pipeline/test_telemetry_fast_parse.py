"""orjson's way through ``parse_event`` gives what the exact way gives, or steps aside.

A payload is first read by orjson and judged by ``plainly_valid`` (telemetry.py
``_plain``); only when that says no does the exact way (json.loads with Decimal numbers,
then ``check_telemetry``) read it. GIVEN payloads written with every spelling of a
number JSON allows in every place a number sits (a fraction where an integer belongs,
a bound approached from beyond, integers past 64 bits, numbers past a double, NaN),
lone surrogates, repeated keys and a byte-order mark, WHEN ``parse_event`` reads them
and the exact way reads them, THEN both give the same message, to the last digit of each
kept value, or refuse with the same words."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.pipeline import telemetry
from chalicelib.pipeline.errors import InvalidTelemetryError
from chalicelib.pipeline.telemetry import MeterRow, parse_event
from chalicelib.pipeline.telemetry_check import plainly_valid

THING = "pl-co_gw"
RECEIVED_MS = 1_795_000_002_000

# How a number may be written, near every edge the schema and the cloud draw.
NUMBERS = [
    "0", "1", "-1", "-0", "7", "30", "1.0", "0.0", "-0.0", "5.0", "1e2", "1E0", "0.98",
    "229.8", "1.10", "-12.5", "0.5", "-0.5",
    "1.00000000000000001", "-1.00000000000000001", "0.99999999999999999",
    "-0.00000000000000001", "1e-400", "-1e-400", "1E400", "-1E400",
    "9223372036854775807", "9223372036854775808", "18446744073709551616",
    "-9223372036854775809", "123456789012345678901234567890", "1000001", "-1000001",
    "NaN", "Infinity", "-Infinity",
]  # fmt: skip
TEXTS = ['"m1"', '"\\ud800"', '"x"', '"1.000"', '"1.000\\n"', '""', "null", "true", "[]"]
# Each field's own edges (its bounds from beyond, its type's neighbours), half the draws.
_BIG = ["9223372036854775808", "18446744073709551616", "123456789012345678901234567890"]
EDGES = {
    "pf": ["1.00000000000000001", "-1.00000000000000001", "1.0", "-1", "0.99999999999999999"],
    "hz": ["-0.00000000000000001", "-1e-400", "0.0", "-0.0", "0", "1e-400"],
    "w": ["287.0", "1.10", "-12.5", "1000001", "1E400", *_BIG],
    "r": ["1.0", "0.0", "true", "2"],
    "lc": ["1.0", "true", "0"],
    "v": ["1.0", "5", "1E400", *_BIG],
    "s": ["0", "1.0", "9223372036854775807", *_BIG],
    "t": ["1.795e12", "-1", *_BIG],
}
# How a gateway writes its powers and factors (meter_gateway/telemetry.py: Decimals).
_AS_SENT = {
    "v": ["229.8", "230", "0.1"],
    "a": ["1.25", "0", "-3.5"],
    "w": ["287", "-12", "0"],
    "pf": ["0.98", "-0.5", "1", "0"],
    "hz": ["50.01", "60", "0"],
}
_INTEGER = ["5.0", "-1", "1e2", *_BIG]


def _meter(index: int) -> dict[str, Any]:
    return {
        "i": f"m{index}",
        "dt": 30 * index,
        "ie": f"{1000 + index}.123",
        "xe": "0.000",
        "v": "@v",
        "a": "@a",
        "w": "@w",
        "pf": "@pf",
        "hz": "@hz",
        "r": 1,
        "dg": [0, 0, 0, 28, 0],
    }


def _document(meters: int) -> dict[str, Any]:
    return {
        "v": 1,
        "g": THING,
        "sid": "0123456789abcdef",
        "s": 7,
        "t": 1_795_000_000_000,
        "d": 300,
        "sp": {"n": 0, "th": 0, "dr": 0},
        "m": [_meter(i) for i in range(meters)],
        "pv": {"sdm120": "3.0123abcd"},
    }


def _slots(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [(k,) for k in ("v", "g", "s", "t", "d")]
    found += [("sp", k) for k in document["sp"]]
    for index, meter in enumerate(document["m"]):
        found += [("m", index, k) for k in meter if k != "dg"]
        found += [("m", index, "dg", j) for j in range(5)]
        found += [("m", index, k) for k in ("te", "lc", "er", "sn")]
    return found


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """A gateway's payload with zero to three values written another way (raw JSON)."""
    document = _document(draw(st.integers(1, 3)))
    raw: dict[str, str] = {}
    for meter in document["m"]:
        for key, written in _AS_SENT.items():
            raw[f"@{len(raw)}"] = draw(st.sampled_from(written))
            meter[key] = f"@{len(raw) - 1}"
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):  # a field with edges of its own, half the time
            key = draw(st.sampled_from(sorted(EDGES)))
            at = draw(st.integers(0, len(document["m"]) - 1))
            path = (key,) if key in document else ("m", at, key)
        else:
            path = draw(st.sampled_from(_slots(document)))
        holder: Any = document
        for key in path[:-1]:
            holder = holder[key]
        placeholder = f"@{len(raw)}"
        own = EDGES.get(path[-1], _INTEGER) if isinstance(path[-1], str) else _INTEGER
        raw[placeholder] = draw(
            st.sampled_from(own if draw(st.integers(0, 2)) else NUMBERS + TEXTS)
        )
        holder[path[-1]] = placeholder
    text = json.dumps(document, separators=(",", ":"))
    for placeholder, value in sorted(raw.items(), key=lambda p: -len(p[0])):
        text = text.replace(f'"{placeholder}"', value)
    if draw(st.booleans()):  # a key written twice: the last one counts, in both
        key, value = draw(st.sampled_from([("s", "8"), ("t", "1.5"), ("g", '"other"')]))
        text = text[:-1] + f',"{key}":{value}}}'
    if draw(st.integers(0, 19)) == 0:
        text = "\ufeff" + text
    return text.encode("utf-8", "surrogatepass")


def _event(payload: bytes) -> dict[str, Any]:
    return {
        "raw": base64.b64encode(payload).decode(),
        "thing_name": THING,
        "client_id": THING,
        "received_at_ms": RECEIVED_MS,
    }


def _read(event: dict[str, Any]) -> str:
    """What ``parse_event`` says: the message to the last digit, or its refusal."""
    try:
        return repr(parse_event(event))
    except InvalidTelemetryError as refused:
        return f"refused: {refused}"


def _exactly(event: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patched:
        patched.setattr(telemetry, "_plain", lambda payload: None)
        return _read(event)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_the_fast_way_reads_every_payload_as_the_exact_way_does(payload: bytes) -> None:
    event = _event(payload)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _read(event) == _exactly(event, monkeypatch), payload


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ('"pf":0.98', '"pf":1.00000000000000001'),  # a float of 1.0: beyond 1 exactly
        ('"hz":50', '"hz":-1e-400'),  # a float of -0.0: below 0 exactly
        ('"w":287', '"w":287.0'),  # kept: Decimal("287.0"), not a float's 287.0
        ('"w":287', '"w":1.10'),  # kept as "1.10", which a float cannot say
        ('"s":7', '"s":123456789012345678901234567890'),  # orjson: a float
        ('"r":1', '"r":1.0'),  # one of [0, 1] by value, kept as Decimal("1.0")
        ('"dt":0', '"dt":0.0'),  # not an integer
    ],
)
def test_a_payload_orjson_would_misread_goes_the_exact_way(
    where: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a payload whose orjson reading differs from the exact one where it matters
    document = _document(1)
    document["m"][0].update(v=229.8, a=1.25, w=287, pf=0.98, hz=50, dt=0)
    payload = json.dumps(document, separators=(",", ":"))
    assert where in payload
    payload = payload.replace(where, text)
    # THEN the fast way steps aside, and parse_event says what the exact way says
    assert telemetry._plain(payload.encode()) is None
    event = _event(payload.encode())
    assert _read(event) == _exactly(event, monkeypatch)


def test_a_gateways_message_is_read_by_orjson_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a 32-meter message as a gateway writes it (powers and factors with fractions)
    document = _document(32)
    for meter in document["m"]:
        meter.update(v=229.8, a=1.25, w=287, pf=0.98, hz=50.01)
    payload = json.dumps(document, separators=(",", ":")).encode()
    assert plainly_valid(telemetry._plain(payload))
    exact = _exactly(_event(payload), monkeypatch)
    # WHEN the exact way cannot be taken THEN the message is read, the same
    monkeypatch.setattr(telemetry, "_decode", lambda payload: pytest.fail("exact way taken"))
    assert _read(_event(payload)) == exact
    assert "Decimal('1031.123')" in exact


exports = st.one_of(
    st.none(),
    st.from_regex(r"\A[0-9]{1,3}\.[0-9]{0,4}\Z"),
    st.sampled_from(["0.000", "0.0", "0", "0E+3", "-0.000"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.integers(0, 3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(exports, min_size=1, max_size=8))
@example(["0.000", "0", "0.0", "0E+3", "-0.000", Decimal("0.000"), 0, "0.000", "1.50", "1.5"])
def test_a_stored_export_reads_as_its_own_decimal(sent: list[Any]) -> None:
    # GIVEN export readings one after another, equal values spelt differently among them
    # (the container remembers the Decimal of an export's text, telemetry._EXPORTS)
    at = datetime(2026, 11, 20, tzinfo=UTC)
    for exported in sent:
        row = MeterRow.from_compact(["m1", 30, "1.000", exported, None, 1, None], at)
        # THEN each reads as its own text's Decimal, exponent and all
        expected = None if exported is None else Decimal(exported)
        assert repr(row.export_kwh) == repr(expected), exported
