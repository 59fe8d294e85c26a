"""Telemetry: one message per cycle, valid against telemetry.v1.json, under 5 KB for 32 meters."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from cloud_fakes import MeterDiagnostics, MeterSample
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from meter_gateway.telemetry import CycleInput, SpoolStats, encode_message, format_energy_kwh

SCHEMAS = Path(__file__).resolve().parents[3] / "iot_rules" / "schemas"
CYCLE_MS = 1_764_288_000_000
_VALIDATOR = Draft202012Validator(json.loads((SCHEMAS / "telemetry.v1.json").read_text()))


def _worst_case_sample(index: int) -> MeterSample:
    # Every value present at its widest; ids like the ones the portal hands out (12 chars).
    return MeterSample(
        meter_id=f"b07-flat-{index:03d}",
        ok=True,
        values={
            "import_kwh": Decimal("123456.789"),
            "export_kwh": Decimal("1234.567"),
            "total_kwh": Decimal("124691.356"),
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


def _worst_case_diag() -> MeterDiagnostics:
    # A year of 10 s cycles: seven-digit counters.
    return MeterDiagnostics(3_153_600, 12_345, 1_234, {2: 123, 4: 5}, 58, 0, True)


def _cycle(
    samples: list[MeterSample],
    diag: dict[str, MeterDiagnostics],
    cut: frozenset[str] = frozenset(),
) -> CycleInput:
    return CycleInput(
        thing_name="powerlet-gw-0123456789abcdef",
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


def test_32_meters_worst_case_fits_in_5_kb_and_validates(telemetry_validator):
    # GIVEN 32 meters, every value present at its widest, large diagnostics counters
    samples = [_worst_case_sample(i) for i in range(32)]
    diag = {s.meter_id: _worst_case_diag() for s in samples}
    cycle = _cycle(samples, diag, cut=frozenset({samples[0].meter_id}))
    # WHEN the cycle is encoded
    payload = encode_message(cycle, seq=987_654_321)
    # THEN it is at most 5 KB and valid against the schema
    assert len(payload) <= 5 * 1024, len(payload)
    message = json.loads(payload)
    telemetry_validator.validate(message)
    assert len(message["m"]) == 32
    assert message["m"][0]["ie"] == "123456.789"
    assert message["m"][0]["lc"] == 1


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
            meter_id=st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True),
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
