"""Telemetry decoding and validation (pure)."""

from __future__ import annotations

import base64
import json
from dataclasses import fields
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.pipeline.errors import InvalidTelemetryError
from chalicelib.pipeline.telemetry import MAX_RAW_BYTES, MeterRow, parse_event

THING = "powerlet-co-gw"


def payload(**overrides: Any) -> dict[str, Any]:
    base = {
        "v": 1,
        "g": THING,
        "sid": "0123456789abcdef",
        "s": 7,
        "t": 1_795_000_000_000,
        "d": 300,
        "sp": {"n": 0, "th": 0, "dr": 0},
        "m": [
            {"i": "m1", "dt": 20, "ie": "12.345", "xe": "0.000", "w": -12.5, "r": 1},
            {"i": "m2", "dt": 40, "er": "timeout", "dg": [3, 0, 0, None, 6]},
        ],
    }
    base.update(overrides)
    return base


def as_event(document: Any, thing: str = THING, client_id: str | None = None) -> dict[str, Any]:
    """The rule's event; the publisher is the topic's gateway unless ``client_id`` says."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return {
        "raw": base64.b64encode(raw).decode(),
        "thing_name": thing,
        "client_id": thing if client_id is None else client_id,
        "received_at_ms": 1_795_000_001_000,
    }


def test_a_valid_cycle_parses_with_decimals_and_diagnostics() -> None:
    # GIVEN a valid cycle WHEN parsed
    telemetry = parse_event(as_event(payload()))
    # THEN numbers are Decimal (never float) and a failed meter keeps its error
    first, second = telemetry.rows
    assert first.import_kwh == Decimal("12.345") and isinstance(first.watts, Decimal)
    assert first.watts == Decimal("-12.5")
    assert (second.error, second.import_kwh, second.consecutive_failures) == ("timeout", None, 6)
    assert telemetry.message_id == f"{THING}/0123456789abcdef/7"


@pytest.mark.parametrize(
    ("document", "thing", "fragment"),
    [
        (b"\xff\xfe", THING, "not JSON"),
        (payload(v=2), THING, "schema telemetry.v1"),
        (payload(m=[{"i": "m1", "dt": 1, "ie": "1.5"}]), THING, "m/0/ie"),
        (payload(m=[{"i": "m1", "dt": 1, "ie": "1.000", "er": "crc"}]), THING, "schema"),
        (payload(), "powerlet-other", "not the topic's"),
        (payload(m=[{"i": "m1", "dt": 1}, {"i": "m1", "dt": 2}]), THING, "twice"),
        (b"x" * (MAX_RAW_BYTES + 1), THING, "larger than"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(document: Any, thing: str, fragment: str) -> None:
    # GIVEN a bad message WHEN parsed THEN the error names the problem
    with pytest.raises(InvalidTelemetryError) as caught:
        parse_event(as_event(document, thing))
    assert fragment in caught.value.reason


def test_events_without_raw_or_not_base64_are_refused() -> None:
    for event in ({"thing_name": THING}, {"raw": "%%%", "thing_name": THING}, [1, 2]):
        with pytest.raises(InvalidTelemetryError):
            parse_event(event)


def test_compact_rows_round_trip() -> None:
    # GIVEN a parsed row WHEN stored compactly and read back THEN nothing is lost
    telemetry = parse_event(as_event(payload()))
    for row in telemetry.rows:
        back = MeterRow.from_compact(row.compact(telemetry.cycle_at), telemetry.cycle_at)
        assert (back.meter_id, back.read_at, back.import_kwh, back.watts, back.error) == (
            row.meter_id,
            row.read_at,
            row.import_kwh,
            row.watts,
            row.error,
        )


def test_the_gateways_new_diagnostics_and_profile_versions_are_accepted() -> None:
    # GIVEN a cycle from a gateway of issue 17: dg with connection failures and backwards
    # readings, and the profiles it runs (`pv`)
    document = payload(pv={"sdm120": "2.0123abcd", "fineco_em115": "1.89abcdef"})
    document["m"][1]["dg"] = [3, 0, 0, None, 6, 2, 1]
    # WHEN parsed THEN it is accepted and the fields the cloud already reads are unchanged
    telemetry = parse_event(as_event(document))
    assert telemetry.rows[1].consecutive_failures == 6
    # AND a malformed version string is still refused
    with pytest.raises(InvalidTelemetryError, match="pv"):
        parse_event(as_event(payload(pv={"sdm120": "two"})))


def _raw_cycle(meter_json: str, **root: str) -> bytes:
    """A cycle written as JSON text, for numbers Python's json.dumps cannot write."""
    fields = {
        "v": "1",
        "g": f'"{THING}"',
        "sid": '"0123456789abcdef"',
        "s": "7",
        "t": "1795000000000",
        "d": "300",
        "sp": '{"n":0,"th":0,"dr":0}',
        "m": f"[{meter_json}]",
    } | root
    return ("{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}").encode()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        # JSON has no NaN or Infinity (Python's json takes them unless told not to)
        (_raw_cycle('{"i":"m1","dt":1,"ie":"1.000","w":NaN}'), "NaN is not a JSON number"),
        (_raw_cycle('{"i":"m1","dt":1,"ie":"1.000","w":-Infinity}'), "-Infinity is not a JSON"),
        (_raw_cycle('{"i":"m1","dt":1,"ie":"1.000","pf":Infinity}'), "not a JSON number"),
        # an integer beyond Python's int-from-text limit is not JSON we take
        (_raw_cycle('{"i":"m1","dt":1}', s="9" * 5000), "not JSON"),
        # schema-valid, but past what the cloud can store or compute with
        (_raw_cycle('{"i":"m1","dt":1}', t="1" + "0" * 20), "400 days"),
        (_raw_cycle('{"i":"m1","dt":1}', s=str(2**63)), "sequence number above"),
        (_raw_cycle('{"i":"m1","dt":1,"ie":"1.000","w":1E+999999}'), "power 1E+999999 W"),
        (_raw_cycle('{"i":"m1","dt":1,"ie":"1.000","w":-1000001}'), "power -1000001 W"),
        # a kWh must be the decimal text, never a JSON number
        (_raw_cycle('{"i":"m1","dt":1,"ie":1.5}'), "m/0/ie: number Decimal('1.5')"),
        (_raw_cycle('{"i":"m1","dt":1,"ie":1000}'), "m/0/ie"),
        # a power is a number, not text; a counter an integer, not 1.0
        (_raw_cycle('{"i":"m1","dt":1,"w":"12.5"}'), "m/0/w"),
        (_raw_cycle('{"i":"m1","dt":1,"dg":[0,1.0,0,null,0]}'), "m/0/dg/1"),
        (_raw_cycle('{"i":"m1","dt":true}'), "m/0/dt"),
        # unknown fields, where the schema allows none
        (_raw_cycle('{"i":"m1","dt":1,"kwh":"1.000"}'), "'kwh' unexpected"),
        (_raw_cycle('{"i":"m1","dt":1}', extra="1"), "'extra' unexpected"),
    ],
)
def test_bad_numbers_and_fields_are_refused_with_a_clear_reason(raw: bytes, fragment: str) -> None:
    # GIVEN a message with a number or field the contract or the cloud cannot take
    # WHEN parsed THEN it is refused (dead-lettered), never half-read or a crash
    with pytest.raises(InvalidTelemetryError) as caught:
        parse_event(as_event(raw))
    assert fragment in caught.value.reason, caught.value.reason


def test_more_meters_than_a_bus_holds_are_refused() -> None:
    meters = [{"i": f"m{n}", "dt": 0} for n in range(248)]
    with pytest.raises(InvalidTelemetryError, match="248 meters, more than 247"):
        parse_event(as_event(payload(m=meters)))


def test_numbers_are_the_json_text_exactly_and_never_float() -> None:
    # GIVEN numbers a float would change (17 significant digits, an exponent, zeros)
    raw = _raw_cycle(
        '{"i":"m1","dt":1,"ie":"123456789.999","xe":"0.000","w":0.10000000000000000555,'
        '"v":2.298E+2,"pf":1.000}'
    )
    # WHEN parsed
    row = parse_event(as_event(raw)).rows[0]
    # THEN each is the Decimal of its text, and no value of the row is a float
    assert row.import_kwh == Decimal("123456789.999")
    assert str(row.watts) == "0.10000000000000000555"
    assert not any(isinstance(getattr(row, f.name), float) for f in fields(row))
    # AND a whole-number power stays exact too
    assert parse_event(as_event(payload())).rows[0].watts == Decimal("-12.5")
