"""Read plans: which Modbus requests fetch what a meter must report, in the least link time.

Only what telemetry and the cloud's validation use is read (``needed_keys``): the
telemetry values the profile maps, minus total kWh when import kWh is there (telemetry
drops it), plus the registers computed values need, plus the relay read-back.

The cost of a read depends on the link. On RS-485 (design brief) one FC03/FC04 read of N
registers costs (20 + 2N) byte times plus the meter's turnaround, so merging two runs
pays for the gap registers and saves a request's overhead. Over Modbus TCP a request
costs a round trip and a register almost nothing, so the largest allowed blocks win.
Per function code the planner chooses the partition of the sorted registers into block
reads that minimises the modelled cost (dynamic programming, exact), within the
profile's request size limit and readable spans.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from meter_gateway.errors import ReadPlanError
from meter_gateway.profile_model import TELEMETRY_KEYS, MeterProfile, RegisterSpec

# 9600 baud, 8N1: 10 bits a character, 1.04 ms (the design brief's constant).
BYTE_TIME_MS_9600_8N1 = 1.04
# 3.5 character times of silence before the request and before the response.
INTER_FRAME_SILENCE_BYTES = 7
# Address byte + function code byte + CRC16: what RTU adds to a PDU's payload.
RTU_ENVELOPE_BYTES = 4
COIL_FUNCTION_CODES = frozenset({1, 2})
# Modbus TCP: a request is a round trip (loopback to a LAN gateway, a few ms); a register
# adds two bytes to a frame that is sent anyway. The small per-register cost only breaks
# ties between plans with the same number of requests.
TCP_REQUEST_MS = 5.0
TCP_REGISTER_MS = 0.001
LinkCost = Literal["rtu", "tcp"]


def read_frame_bytes(function_code: int, count: int) -> int:
    """Request + response + silence of one read, in bytes on the wire."""
    request = 8
    data = math.ceil(count / 8) if function_code in COIL_FUNCTION_CODES else 2 * count
    response = 5 + data
    return request + response + INTER_FRAME_SILENCE_BYTES


def write_frame_bytes(function_code: int, count: int) -> int:
    """Request + response + silence of one write (FC05, FC06, FC15, FC16)."""
    if function_code in (5, 6):
        return 8 + 8 + INTER_FRAME_SILENCE_BYTES
    data = math.ceil(count / 8) if function_code == 15 else 2 * count
    return (9 + data) + 8 + INTER_FRAME_SILENCE_BYTES


def transaction_time_ms(
    frame_bytes: int, turnaround_ms: float, byte_time_ms: float = BYTE_TIME_MS_9600_8N1
) -> float:
    return frame_bytes * byte_time_ms + turnaround_ms


@dataclass(frozen=True)
class PlannedRegister:
    key: str
    spec: RegisterSpec


@dataclass(frozen=True)
class ReadBlock:
    """One read request: ``count`` registers (or coils) from ``address``."""

    function_code: int
    address: int
    count: int
    registers: tuple[PlannedRegister, ...] = ()
    # Address of the relay state inside this block, when the block also reads it back.
    relay_address: int | None = None

    def time_ms(self, turnaround_ms: float) -> float:
        return transaction_time_ms(read_frame_bytes(self.function_code, self.count), turnaround_ms)

    def cost(self, turnaround_ms: float, link: LinkCost) -> float:
        if link == "tcp":
            return TCP_REQUEST_MS + TCP_REGISTER_MS * self.count
        return self.time_ms(turnaround_ms)


@dataclass(frozen=True)
class ReadPlan:
    profile: str
    turnaround_ms: int
    blocks: tuple[ReadBlock, ...]

    @property
    def bus_time_ms(self) -> float:
        return sum(block.time_ms(self.turnaround_ms) for block in self.blocks)

    @property
    def reads_relay(self) -> bool:
        return any(block.relay_address is not None for block in self.blocks)


@dataclass(frozen=True)
class _Item:
    """A run of addresses that must be read: one register value or the relay state."""

    function_code: int
    first: int
    last: int
    register: PlannedRegister | None


def needed_keys(profile: MeterProfile) -> list[str]:
    """Registers a poll must read: the telemetry values (and what computed ones need)."""
    wanted: list[str] = [key for key in TELEMETRY_KEYS if key in profile.registers]
    if "import_kwh" in wanted and "total_kwh" in wanted:
        wanted.remove("total_kwh")  # telemetry sends import; total only when there is none
    specs = profile.all_registers()
    needed: list[str] = []
    for key in wanted:
        names = sorted(specs[key].dependencies()) if specs[key].computed else [key]
        needed.extend(name for name in names if name not in needed)
    return needed


def output_keys(profile: MeterProfile) -> list[str]:
    """The values a poll reports (computed ones included, their inputs left out)."""
    wanted: list[str] = [key for key in TELEMETRY_KEYS if key in profile.registers]
    if "import_kwh" in wanted and "total_kwh" in wanted:
        wanted.remove("total_kwh")
    return wanted


def _items(profile: MeterProfile, include_relay: bool) -> list[_Item]:
    specs = profile.all_registers()
    items = [
        _Item(
            spec.function_code or 0,
            spec.address or 0,
            spec.last_address,
            PlannedRegister(key, spec),
        )
        for key in needed_keys(profile)
        for spec in (specs[key],)
    ]
    relay = profile.relay
    if include_relay and relay is not None and relay.readback is not None and not relay.is_coil:
        # Only a relay that lives in the meter itself rides along in the meter's reads;
        # a relay module's channels are read per module (plan_coil_read).
        address = relay.readback.address
        items.append(_Item(relay.readback.function_code, address, address, None))
    return items


def _block_of(items: Sequence[_Item]) -> ReadBlock:
    first = items[0].first
    last = max(item.last for item in items)
    relay_address = next((item.first for item in items if item.register is None), None)
    return ReadBlock(
        function_code=items[0].function_code,
        address=first,
        count=last - first + 1,
        registers=tuple(item.register for item in items if item.register is not None),
        relay_address=relay_address,
    )


def _fits(profile: MeterProfile, items: Sequence[_Item]) -> bool:
    first = items[0].first
    last = max(item.last for item in items)
    if last - first + 1 > profile.max_read_registers:
        return False
    return profile.span_for(items[0].function_code, first, last) is not None


def _best_partition(profile: MeterProfile, items: list[_Item], link: LinkCost) -> list[ReadBlock]:
    """Exact minimum-time partition of address-sorted items into consecutive block reads."""
    size = len(items)
    best_ms = [0.0] + [math.inf] * size
    cut_at = [0] * (size + 1)
    for end in range(1, size + 1):
        for start in range(end - 1, -1, -1):
            group = items[start:end]
            if items[end - 1].last - items[start].first + 1 > profile.max_read_registers:
                break  # widening further left only grows the block
            if not _fits(profile, group):
                continue
            cost = best_ms[start] + _block_of(group).cost(profile.turnaround_ms, link)
            if cost < best_ms[end]:
                best_ms[end] = cost
                cut_at[end] = start
    if math.isinf(best_ms[size]):
        raise ReadPlanError(
            f"profile {profile.name}: a register does not fit in one read "
            f"(max_read_registers={profile.max_read_registers} or readable_spans)"
        )
    blocks: list[ReadBlock] = []
    end = size
    while end > 0:
        start = cut_at[end]
        blocks.append(_block_of(items[start:end]))
        end = start
    blocks.reverse()
    return blocks


def plan_reads(
    profile: MeterProfile, include_relay: bool = True, link: LinkCost = "rtu"
) -> ReadPlan:
    """The least-cost read plan for one meter of ``profile`` on a ``link`` (rtu or tcp)."""
    by_function: dict[int, list[_Item]] = {}
    for item in _items(profile, include_relay):
        by_function.setdefault(item.function_code, []).append(item)
    blocks: list[ReadBlock] = []
    for function_code in sorted(by_function):
        items = sorted(by_function[function_code], key=lambda item: item.first)
        for previous, current in itertools.pairwise(items):
            if current.first <= previous.last:
                raise ReadPlanError(
                    f"profile {profile.name}: registers overlap at 0x{current.first:04X}"
                )
        blocks.extend(_best_partition(profile, items, link))
    return ReadPlan(profile=profile.name, turnaround_ms=profile.turnaround_ms, blocks=tuple(blocks))


def plan_coil_read(profile: MeterProfile, channels: Sequence[int]) -> ReadBlock:
    """One FC01 read covering every used channel of a relay module.

    A coil costs one bit on the wire, so a single read from the lowest to the highest
    used channel is always cheaper than any split.
    """
    relay = profile.relay
    if relay is None or relay.readback is None or not relay.is_coil or relay.channel_stride != 1:
        raise ReadPlanError(f"profile {profile.name}: no coil relay to read")
    if not channels or min(channels) < 0 or max(channels) >= relay.channels:
        raise ReadPlanError(
            f"profile {profile.name}: channels {sorted(channels)} outside 0..{relay.channels - 1}"
        )
    first = relay.readback.address + min(channels)
    return ReadBlock(
        function_code=relay.readback.function_code,
        address=first,
        count=max(channels) - min(channels) + 1,
    )


def per_value_plan(profile: MeterProfile, keys: Sequence[str] | None = None) -> ReadPlan:
    """One request per value (the strategy of per-value readers such as mbmd)."""
    specs = profile.all_registers()
    chosen = keys if keys is not None else needed_keys(profile)
    blocks = tuple(
        ReadBlock(
            function_code=specs[key].function_code or 0,
            address=specs[key].address or 0,
            count=specs[key].register_count,
            registers=(PlannedRegister(key, specs[key]),),
        )
        for key in chosen
    )
    return ReadPlan(profile=profile.name, turnaround_ms=profile.turnaround_ms, blocks=blocks)
