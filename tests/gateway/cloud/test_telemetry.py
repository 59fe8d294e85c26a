"""Telemetry: one message per cycle, valid against telemetry.v1.json, under 5 KB for 32 meters."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest
from cloud_fakes import MeterDiagnostics, MeterSample
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from meter_gateway.config import parse_config
from meter_gateway.errors import ConfigError
from meter_gateway.telemetry import (
    BUDGET_METERS,
    MAX_ERROR_CHARS,
    MAX_METER_ID_CHARS,
    MAX_READ_OFFSET_MS,
    METER_ID_PATTERN,
    TELEMETRY_BUDGET_BYTES,
    CycleInput,
    SpoolStats,
    encode_cycle,
    encode_message,
    format_energy_kwh,
)

SCHEMAS = Path(__file__).resolve().parents[3] / "iot_rules" / "schemas"
CYCLE_MS = 1_764_288_000_000
_VALIDATOR = Draft202012Validator(json.loads((SCHEMAS / "telemetry.v1.json").read_text()))


def _widest_sample(index: int, meter_id: str | None = None) -> MeterSample:
    # Every value the builder sends at its widest: 9-digit energies, the negative extremes
    # of the plausible ranges (the minus sign is one more byte), `dt` past its clamp.
    return MeterSample(
        meter_id=meter_id or f"{index:02d}".rjust(MAX_METER_ID_CHARS, "x"),
        ok=True,
        values={
            "import_kwh": Decimal("999999999.999"),
            "export_kwh": Decimal("999999999.999"),
            "total_kwh": Decimal("999999999.999"),
            "v": Decimal("999.9"),
            "a": Decimal("-999.99"),
            "w": Decimal("-99999"),
            "pf": Decimal("-0.999"),
            "hz": Decimal("99.99"),
        },
        relay_on=True,
        read_at_ms=CYCLE_MS + 10 * MAX_READ_OFFSET_MS,
        latency_ms=45,
        error=None,
    )


def _typical_sample(index: int) -> MeterSample:
    # A busy flat: ids like the demo's (`m-khh-office-2`), realistic widths.
    return MeterSample(
        meter_id=f"m-b07-flat-{index:03d}",
        ok=True,
        values={
            "import_kwh": Decimal("123456.789"),
            "export_kwh": Decimal("1234.567"),
            "v": Decimal("231.7"),
            "a": Decimal("38.214"),
            "w": Decimal("-8851.3"),
            "pf": Decimal("-0.987"),
            "hz": Decimal("49.98"),
        },
        relay_on=True,
        read_at_ms=CYCLE_MS + 2_345,
        latency_ms=45,
        error=None,
    )


def _year_of_diagnostics() -> MeterDiagnostics:
    # A year of 10 s cycles with a flaky line (3 153 600 successes stay on the gateway).
    return MeterDiagnostics(3_153_600, 12_345, 1_234, {2: 123, 4: 5}, 58, 0, True)


def _huge_diagnostics() -> MeterDiagnostics:
    # Counters have no width bound: this is what the budget guard exists for.
    big = 10**15
    return MeterDiagnostics(big, big, big, {2: big}, 10**9, big, False)


def _cycle(
    samples: list[MeterSample],
    diag: dict[str, MeterDiagnostics],
    cut: frozenset[str] = frozenset(),
    thing_name: str = "powerlet-gw-0123456789abcdef",
) -> CycleInput:
    return CycleInput(
        thing_name=thing_name,
        spool_id="0123456789abcdef",
        cycle_started_ms=CYCLE_MS,
        cycle_duration_ms=4_321,
        samples=samples,
        diagnostics=diag,
        spool=SpoolStats(
            pending_cycles=123_456, thinned_readings=1_234_567, dropped_readings=12_345
        ),
        locally_cut=cut,
    )


def _true_worst_case(diagnostics: MeterDiagnostics) -> CycleInput:
    samples = [_widest_sample(i) for i in range(BUDGET_METERS)]
    return CycleInput(
        thing_name="g" * 128,  # the longest thing name AWS IoT (and config.py) allows
        spool_id="0123456789abcdef",
        cycle_started_ms=CYCLE_MS,  # 13 digits until the year 2286
        cycle_duration_ms=99_999_999,
        samples=samples,
        diagnostics={s.meter_id: diagnostics for s in samples},
        spool=SpoolStats(10**15, 10**15, 10**15),
        locally_cut=frozenset(s.meter_id for s in samples),
    )


def test_32_meters_true_worst_case_fits_in_5_kb_and_validates(telemetry_validator):
    # GIVEN 32 meters with the longest ids allowed, every optional field at its widest,
    # every relay cut locally, a 128-char thing name and counters of any size
    cycle = _true_worst_case(_huge_diagnostics())
    # WHEN the cycle is encoded by the real builder
    payload = encode_message(cycle, seq=2**53 - 1)
    # THEN it is at most 5 KB and valid against the schema
    assert len(payload) <= TELEMETRY_BUDGET_BYTES == 5120, len(payload)
    message = json.loads(payload)
    telemetry_validator.validate(message)
    entry = message["m"][0]
    assert len(entry["i"]) == MAX_METER_ID_CHARS
    assert set(entry) >= {"i", "dt", "ie", "xe", "v", "a", "w", "pf", "hz", "r", "lc"}
    assert entry["dt"] == MAX_READ_OFFSET_MS


def test_the_worst_case_without_diagnostics_is_what_bounds_the_meter_id():
    # GIVEN the worst case whose counters were all left out to fit
    payload = encode_message(_true_worst_case(_huge_diagnostics()), seq=2**53 - 1)
    message = json.loads(payload)
    assert all("dg" not in m for m in message["m"])
    # THEN one more character per id would break 5 KB: the cap is the largest that fits
    assert len(payload) + BUDGET_METERS > TELEMETRY_BUDGET_BYTES, len(payload)


def test_diagnostics_travel_whenever_they_fit(telemetry_validator):
    # GIVEN 32 busy meters with demo-style ids and a year of counters
    samples = [_typical_sample(i) for i in range(BUDGET_METERS)]
    diag = {s.meter_id: _year_of_diagnostics() for s in samples}
    # WHEN encoded
    payload = encode_message(_cycle(samples, diag, cut=frozenset({samples[0].meter_id})), seq=9)
    # THEN every meter carries its diagnostics and the message is under 5 KB
    message = json.loads(payload)
    telemetry_validator.validate(message)
    assert len(payload) <= TELEMETRY_BUDGET_BYTES, len(payload)
    assert all(m["dg"] == [12_345, 1_234, 128, 58, 0] for m in message["m"])
    assert message["m"][0]["ie"] == "123456.789"
    assert message["m"][0]["lc"] == 1


def test_left_out_diagnostics_rotate_so_every_meter_reports_them():
    # GIVEN the worst case with a year of counters: only some meters' dg fit
    cycle = _true_worst_case(_year_of_diagnostics())
    carried: set[int] = set()
    # WHEN consecutive cycles are encoded
    for seq in range(1, 1 + BUDGET_METERS):
        payload = encode_message(cycle, seq=seq)
        assert len(payload) <= TELEMETRY_BUDGET_BYTES
        entries = json.loads(payload)["m"]
        with_dg = {i for i, m in enumerate(entries) if "dg" in m}
        assert 0 < len(with_dg) < BUDGET_METERS
        carried |= with_dg
    # THEN over a few cycles every meter's diagnostics reached the cloud
    assert carried == set(range(BUDGET_METERS))


def test_an_unplugged_meter_with_the_longest_error_is_smaller_than_a_reading():
    # GIVEN the longest error string the bus could hand over, on the widest entry
    widest = _widest_sample(0)
    failed = dataclasses.replace(widest, ok=False, error="e" * 200)
    # WHEN both are encoded THEN the error is cut to the schema's limit and the entry
    # stays smaller than a full reading (so the worst case above is the true one)
    failed_msg = json.loads(encode_message(_cycle([failed], {}), seq=1))
    full_msg = json.loads(encode_message(_cycle([widest], {}), seq=1))
    assert failed_msg["m"][0]["er"] == "e" * MAX_ERROR_CHARS
    assert len(json.dumps(failed_msg["m"][0])) < len(json.dumps(full_msg["m"][0]))


def test_the_component_refuses_a_meter_id_longer_than_the_cap():
    # GIVEN a configuration with a meter id one character over the cap
    meter = {"address": 1, "profile": "dds238"}
    parse_config({"meters": [{"meter_id": "a" * MAX_METER_ID_CHARS, **meter}]})
    # WHEN it is validated THEN it is refused, naming the field
    with pytest.raises(ConfigError, match=r"meters\.0\.meter_id"):
        parse_config({"meters": [{"meter_id": "a" * (MAX_METER_ID_CHARS + 1), **meter}]})


def test_the_schema_and_the_component_share_the_id_cap(telemetry_validator):
    # GIVEN the schema's id pattern THEN it is the component's
    schema = json.loads((SCHEMAS / "telemetry.v1.json").read_text())
    assert schema["$defs"]["meter"]["properties"]["i"]["pattern"] == METER_ID_PATTERN


def test_offline_meter_carries_the_error_and_no_values(telemetry_validator):
    # GIVEN a meter that timed out (the bus may still hand back stale values)
    sample = MeterSample(
        "flat-1", False, {"import_kwh": Decimal("5")}, None, CYCLE_MS, 300, "timeout"
    )
    # WHEN encoded
    message = json.loads(encode_message(_cycle([sample], {}), seq=1))
    # THEN the entry says why, carries no reading, and is valid
    telemetry_validator.validate(message)
    assert message["m"][0] == {"i": "flat-1", "dt": 0, "er": "timeout"}


def test_energy_is_a_decimal_string_with_three_decimals_never_a_float():
    # GIVEN an import register that a float would round (0.1 + 0.2 territory)
    sample = MeterSample(
        "m1", True, {"import_kwh": Decimal("9007199254.7409")}, None, CYCLE_MS, 1, None
    )
    raw = encode_message(_cycle([sample], {}), seq=1).decode()
    # THEN the text on the wire is a string, never a JSON number
    assert '"ie":' not in raw  # above the schema's 9 integer digits: left out, not mangled
    sample = MeterSample("m1", True, {"import_kwh": Decimal("0.3")}, None, CYCLE_MS, 1, None)
    raw = encode_message(_cycle([sample], {}), seq=1).decode()
    assert '"ie":"0.300"' in raw


def test_non_finite_and_negative_values_are_left_out(telemetry_validator):
    # GIVEN a float32 meter that returned NaN/Inf and a decoding that gave a negative energy
    values = {"import_kwh": Decimal("-1"), "v": Decimal("NaN"), "w": Decimal("Infinity")}
    sample = MeterSample("m1", True, values, False, CYCLE_MS, 1, None)
    message = json.loads(encode_message(_cycle([sample], {}), seq=1))
    # THEN nothing bogus travels, and the relay state still does
    telemetry_validator.validate(message)
    assert message["m"][0] == {"i": "m1", "dt": 0, "r": 0}


@given(st.decimals(min_value=0, max_value=Decimal("999999999.999"), places=3))
def test_energy_round_trips_exactly(value):
    # GIVEN any energy with 3 decimals WHEN formatted THEN parsing the text gives it back
    text = format_energy_kwh(value)
    assert text is not None
    assert Decimal(text) == value
    assert len(text.split(".")[1]) == 3


@given(
    st.lists(
        st.builds(
            MeterSample,
            meter_id=st.from_regex(r"[A-Za-z0-9_-]{1,17}", fullmatch=True),
            ok=st.booleans(),
            values=st.dictionaries(
                st.sampled_from(
                    ["import_kwh", "export_kwh", "total_kwh", "v", "a", "w", "pf", "hz"]
                ),
                st.decimals(allow_nan=True, allow_infinity=True)
                | st.decimals(min_value=-2, max_value=2, places=4),
            ),
            relay_on=st.none() | st.booleans(),
            read_at_ms=st.integers(CYCLE_MS, CYCLE_MS + 60_000),
            latency_ms=st.integers(0, 5_000),
            error=st.none() | st.sampled_from(["timeout", "crc", "exception:02"]),
        ),
        max_size=8,
    )
)
def test_whatever_the_bus_returns_the_message_is_valid(samples):
    # GIVEN arbitrary samples (odd values included) WHEN encoded THEN the schema accepts it
    _VALIDATOR.validate(json.loads(encode_message(_cycle(samples, {}), seq=7)))


def test_connection_failures_and_backwards_readings_travel_in_dg(telemetry_validator):
    # GIVEN a meter whose link failed twice and whose register once went backwards
    sample = _typical_sample(0)
    diag = MeterDiagnostics(10, 1, 0, {}, 40, 0, True)
    diag.connect_failures = 2
    diag.backwards = 1
    # WHEN encoded
    message = json.loads(encode_message(_cycle([sample], {sample.meter_id: diag}), seq=1))
    # THEN dg carries them after the five counters the cloud already reads
    telemetry_validator.validate(message)
    assert message["m"][0]["dg"] == [1, 0, 0, 40, 0, 2, 1]


def test_profile_versions_travel_and_give_way_to_the_budget(telemetry_validator):
    # GIVEN the profiles a gateway runs
    versions = {"sdm120": "2.0123abcd", "fineco_em115": "1.89abcdef"}
    sample = _typical_sample(0)
    cycle = _cycle([sample], {})
    # WHEN a normal cycle is encoded
    message = json.loads(encode_message(dataclasses.replace(cycle, profile_versions=versions), 1))
    # THEN `pv` names each profile's version and content hash, and the schema accepts it
    telemetry_validator.validate(message)
    assert message["pv"] == versions
    # AND in the true worst case it is left out rather than break 5 KB
    worst = dataclasses.replace(
        _true_worst_case(_huge_diagnostics()),
        profile_versions={f"profile_{i:02d}": "999999.0123abcd" for i in range(64)},
    )
    payload = encode_message(worst, seq=2**53 - 1)
    assert len(payload) <= TELEMETRY_BUDGET_BYTES
    assert "pv" not in json.loads(payload)
    telemetry_validator.validate(json.loads(payload))


def test_a_serial_read_this_cycle_travels_as_sn_and_fits_a_typical_bus(telemetry_validator):
    # GIVEN a typical 32-meter cycle in which four meters had their serial read
    samples = [_typical_sample(i) for i in range(BUDGET_METERS)]
    samples[:4] = [dataclasses.replace(s, serial=f"1234567{i}") for i, s in enumerate(samples[:4])]
    cycle = dataclasses.replace(
        _cycle(samples, {s.meter_id: _year_of_diagnostics() for s in samples}),
        profile_versions={"sdm120": "3.0123abcd", "dds238": "2.89abcdef"},
    )
    # WHEN it is encoded
    encoded = encode_cycle(cycle, seq=7)
    message = json.loads(encoded.payload)
    telemetry_validator.validate(message)
    # THEN the four carry `sn`, the others none, and nothing had to be left out
    assert [m.get("sn") for m in message["m"][:5]] == [f"1234567{i}" for i in range(4)] + [None]
    assert encoded.serials_left_out == frozenset()
    assert len(encoded.payload) <= TELEMETRY_BUDGET_BYTES


def test_in_the_true_worst_case_a_serial_gives_way_and_is_reported_for_reading_again(
    telemetry_validator,
):
    # GIVEN the widest possible cycle in which four serials were read
    worst = _true_worst_case(_huge_diagnostics())
    samples = [
        dataclasses.replace(s, serial="99999999999999999999") if i < 4 else s
        for i, s in enumerate(worst.samples)
    ]
    encoded = encode_cycle(dataclasses.replace(worst, samples=samples), seq=2**53 - 1)
    # THEN it still fits 5 KB, and the serials left out are named for the bus to read again
    assert len(encoded.payload) <= TELEMETRY_BUDGET_BYTES
    telemetry_validator.validate(json.loads(encoded.payload))
    assert encoded.serials_left_out == {s.meter_id for s in samples[:4]}


def test_a_serial_the_schema_would_refuse_is_not_sent(telemetry_validator):
    sample = dataclasses.replace(_typical_sample(1), serial="not a serial!")
    message = json.loads(encode_message(_cycle([sample], {}), seq=1))
    telemetry_validator.validate(message)
    assert "sn" not in message["m"][0]
