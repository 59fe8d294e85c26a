"""Read plans: fewest bus milliseconds, within the request limit and the readable spans."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from meter_gateway.profile_model import MeterProfile, ReadableSpan, RegisterSpec
from meter_gateway.profiles import load_profile
from meter_gateway.read_plan import (
    needed_keys,
    per_value_plan,
    plan_coil_read,
    plan_reads,
    read_frame_bytes,
    transaction_time_ms,
)

KEYS = ["import_kwh", "export_kwh", "total_kwh", "v", "a", "w", "pf", "hz"]


def test_the_wire_formula_of_the_design_brief() -> None:
    # (20 + 2N) bytes for an FC03/FC04 read of N registers, 1.04 ms a byte at 9600 8N1
    assert read_frame_bytes(4, 2) == 24
    assert read_frame_bytes(3, 27) == 74
    assert math.isclose(transaction_time_ms(read_frame_bytes(4, 2), 30), 24 * 1.04 + 30)


def test_sdm120_plan_bridges_small_gaps_and_splits_the_large_ones() -> None:
    # GIVEN the SDM120 map (V..PF close together, Hz..export together)
    plan = plan_reads(load_profile("sdm120"))
    # THEN two reads on a serial line: 0x0000+32, 0x0046+6 (the 38-register gap costs
    # more than a request)
    assert [(b.function_code, b.address, b.count) for b in plan.blocks] == [
        (4, 0x0000, 32),
        (4, 0x0046, 6),
    ]
    assert plan.bus_time_ms < per_value_plan(load_profile("sdm120")).bus_time_ms / 1.8


def test_only_what_telemetry_uses_is_read() -> None:
    # GIVEN the SDM120 (total kWh at 0x0156 next to import kWh at 0x0048)
    profile = load_profile("sdm120")
    # WHEN its plan is made
    read = {r.key for b in plan_reads(profile).blocks for r in b.registers}
    # THEN total kWh is not fetched: telemetry sends import and drops total
    assert "total_kwh" not in read and "import_kwh" in read
    # AND a meter with only a total register still reads it
    assert "total_kwh" in needed_keys(load_profile("ddsy1352"))


def test_over_tcp_the_largest_allowed_block_wins() -> None:
    # GIVEN the SDM120 over Modbus TCP, where a request is a round trip
    plan = plan_reads(load_profile("sdm120"), link="tcp")
    # THEN one read covers it all (within its 80-register limit)
    assert [(b.function_code, b.address, b.count) for b in plan.blocks] == [(4, 0x0000, 76)]


def test_computed_values_read_their_inputs_not_themselves() -> None:
    # GIVEN a three-phase meter without an average-voltage register
    profile = load_profile("dtsu666")
    read = {r.key for b in plan_reads(profile).blocks for r in b.registers}
    # THEN the phase voltages and currents are read, and no register for v or a
    assert {"v_l1", "v_l2", "v_l3", "a_l1", "a_l2", "a_l3"} <= read
    assert not {"v", "a"} & read


def test_dds238_plan_is_one_read_including_the_relay_read_back() -> None:
    plan = plan_reads(load_profile("dds238"))
    # total kWh (0x0000) is left out: telemetry carries import kWh
    assert [(b.function_code, b.address, b.count) for b in plan.blocks] == [(3, 0x0008, 19)]
    assert plan.blocks[0].relay_address == 0x001A
    assert plan.reads_relay


def test_relay_module_channels_are_read_in_one_request() -> None:
    block = plan_coil_read(load_profile("relay_module"), [5, 0, 3])
    assert (block.function_code, block.address, block.count) == (1, 0, 6)


def _brute_force_ms(profile: MeterProfile) -> float:
    """Minimum over every partition of the sorted registers into consecutive reads."""
    specs = sorted(
        (profile.registers[k] for k in needed_keys(profile)),  # type: ignore[index]
        key=lambda s: s.address or 0,
    )
    best = math.inf
    for cuts in itertools.product([False, True], repeat=len(specs) - 1):
        groups, current = [], [specs[0]]
        for spec, cut in zip(specs[1:], cuts, strict=True):
            if cut:
                groups.append(current)
                current = [spec]
            else:
                current.append(spec)
        groups.append(current)
        total = 0.0
        for group in groups:
            first, last = group[0].address, max(s.last_address for s in group)
            count = last - first + 1
            if count > profile.max_read_registers or not profile.span_for(4, first, last):
                total = math.inf
                break
            total += transaction_time_ms(read_frame_bytes(4, count), profile.turnaround_ms)
        best = min(best, total)
    return best


@st.composite
def profiles(draw: st.DrawFn) -> MeterProfile:
    count = draw(st.integers(min_value=1, max_value=8))
    kinds = draw(
        st.lists(st.sampled_from(["u16", "u32", "float32"]), min_size=count, max_size=count)
    )
    gaps = draw(st.lists(st.integers(min_value=0, max_value=40), min_size=count, max_size=count))
    registers: dict[str, RegisterSpec] = {}
    address = draw(st.integers(min_value=0, max_value=20))
    for key, kind, gap in zip(KEYS, kinds, gaps, strict=False):
        address += gap
        registers[key] = RegisterSpec(
            address=address,
            function_code=4,
            data_type=kind,  # type: ignore[arg-type]
            scale=Decimal(1),
            unit="",
        )
        address += 2 if kind != "u16" else 1
    span_split = draw(st.integers(min_value=0, max_value=address + 2))
    spans: tuple[ReadableSpan, ...] = (
        ReadableSpan(function_code=4, first=0, last=span_split),
        ReadableSpan(function_code=4, first=span_split + 1, last=address + 5),
    )
    # Keep every register inside one span, as a valid profile must.
    if any(s.address <= span_split < s.last_address for s in registers.values()):
        spans = (ReadableSpan(function_code=4, first=0, last=address + 5),)
    return MeterProfile(
        name="generated",
        model="generated",
        max_read_registers=draw(st.integers(min_value=2, max_value=125)),
        turnaround_ms=draw(st.integers(min_value=0, max_value=60)),
        readable_spans=spans,
        registers=registers,  # type: ignore[arg-type]
    )


@settings(max_examples=150, deadline=None)
@given(profile=profiles())
def test_the_plan_is_the_optimum_of_every_possible_partition(profile: MeterProfile) -> None:
    # GIVEN any register map, request limit, span split and turnaround
    # WHEN the planner plans it
    plan = plan_reads(profile)
    # THEN its modelled bus time equals the brute-force optimum
    assert math.isclose(plan.bus_time_ms, _brute_force_ms(profile), rel_tol=1e-9)
    # AND every register is read exactly once, inside limit and span
    covered = [r.key for b in plan.blocks for r in b.registers]
    assert sorted(covered) == sorted(needed_keys(profile))
    for block in plan.blocks:
        assert block.count <= profile.max_read_registers
        assert profile.span_for(4, block.address, block.address + block.count - 1)
    # AND it never costs more than one request per value
    assert plan.bus_time_ms <= per_value_plan(profile).bus_time_ms + 1e-9
