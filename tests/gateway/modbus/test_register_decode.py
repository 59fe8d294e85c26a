"""Decoding each profile from raw register bytes in the datasheets' formats."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meter_gateway.decode import decode_block, decode_register, relay_state_in_block
from meter_gateway.errors import DecodeError
from meter_gateway.profiles import load_profile
from meter_gateway.read_plan import plan_reads
from meter_gateway.simulator.meters import encode_value


def words(raw: bytes) -> list[int]:
    """Big-endian bytes as they appear on the wire -> 16-bit registers."""
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def test_sdm120_float32_big_endian_values_from_datasheet_bytes() -> None:
    # GIVEN the SDM120 profile and wire bytes of IEEE-754 big-endian floats
    profile = load_profile("sdm120")
    cases = {
        "v": (bytes.fromhex("43660000"), Decimal("230.0")),  # 230.0 V
        "a": (bytes.fromhex("40200000"), Decimal("2.500")),  # 2.5 A
        "w": (bytes.fromhex("440FC000"), Decimal("575.0")),  # 575.0 W
        "pf": (bytes.fromhex("3F733333"), Decimal("0.950")),  # 0.95
        "hz": (bytes.fromhex("4248147B"), Decimal("50.02")),  # 50.02 Hz
        "import_kwh": (struct.pack(">f", 1234.567), Decimal("1234.567")),
    }
    for key, (raw, expected) in cases.items():
        # WHEN one value is decoded from its two registers
        value = decode_register(key, profile.registers[key], words(raw))  # type: ignore[index]
        # THEN it is the datasheet value at the key's fixed scale
        assert value == expected, key
        assert value.as_tuple().exponent == expected.as_tuple().exponent


def test_dds238_scaled_integers_from_datasheet_bytes() -> None:
    # GIVEN the DDS238 holding registers 0x0008..0x001A as one block read returns them
    profile = load_profile("dds238")
    (block,) = plan_reads(profile).blocks
    registers = [0] * block.count
    base = block.address
    registers[8 - base : 10 - base] = words(bytes.fromhex("00000064"))  # export 1.00 kWh
    registers[10 - base : 12 - base] = words(bytes.fromhex("00002FD5"))  # import 122.45 kWh
    registers[12 - base] = 0x08FC  # 2300 x 0.1 = 230.0 V
    registers[13 - base] = 0x01F4  # 500 x 0.01 = 5.00 A
    registers[14 - base] = 0xFF9C  # s16 -100 W (exporting)
    registers[16 - base] = 0x03D6  # 982 x 0.001 = 0.982
    registers[17 - base] = 0x1389  # 5001 x 0.01 = 50.01 Hz
    registers[26 - base] = 1  # relay on
    # WHEN the block is decoded
    values = decode_block(block, registers)
    # THEN every value has the datasheet scale and the relay reads back on
    assert values == {
        "export_kwh": Decimal("1.000"),
        "import_kwh": Decimal("122.450"),
        "v": Decimal("230.0"),
        "a": Decimal("5.000"),
        "w": Decimal("-100.0"),
        "pf": Decimal("0.982"),
        "hz": Decimal("50.01"),
    }
    readback = profile.relay.readback  # type: ignore[union-attr]
    assert relay_state_in_block(block, registers, readback) is True  # type: ignore[arg-type]
    registers[26 - base] = 0
    assert relay_state_in_block(block, registers, readback) is False  # type: ignore[arg-type]
    registers[26 - base] = 7
    assert relay_state_in_block(block, registers, readback) is None  # type: ignore[arg-type]


def test_a_nan_float_is_refused_not_reported() -> None:
    # GIVEN a meter that returns NaN for its import register
    spec = load_profile("sdm120").registers["import_kwh"]
    # WHEN / THEN decoding refuses it
    with pytest.raises(DecodeError, match="import_kwh"):
        decode_register("import_kwh", spec, words(bytes.fromhex("7FC00000")))


def test_a_short_block_is_refused() -> None:
    block = plan_reads(load_profile("dds238")).blocks[0]
    with pytest.raises(DecodeError, match="expected 19 registers"):
        decode_block(block, [0] * 10)


@given(energy_kwh=st.decimals(min_value=0, max_value=Decimal("42949672.95"), places=2))
def test_dds238_energy_round_trips_through_the_register_encoding(energy_kwh: Decimal) -> None:
    # GIVEN any energy a DDS238 can show (u32 hundredths of a kWh)
    spec = load_profile("dds238").registers["import_kwh"]
    # WHEN the simulator encodes it and the gateway decodes it
    decoded = decode_register("import_kwh", spec, encode_value(spec, float(energy_kwh)))
    # THEN the reading is exact (never more than the meter's own resolution off)
    assert abs(decoded - energy_kwh) <= Decimal("0.01")
    assert decoded <= energy_kwh + Decimal("0.000001")  # a counter never rounds up


@given(value=st.floats(min_value=0, max_value=99_999, allow_nan=False, allow_infinity=False))
def test_sdm120_float32_round_trip_stays_within_float32_precision(value: float) -> None:
    spec = load_profile("sdm120").registers["import_kwh"]
    decoded = decode_register("import_kwh", spec, encode_value(spec, value))
    tolerance = max(Decimal("0.0005"), Decimal(value) * Decimal("1e-7")) + Decimal("0.0005")
    assert abs(decoded - Decimal(value)) <= tolerance
