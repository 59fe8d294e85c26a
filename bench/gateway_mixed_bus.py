"""The mixed bus of ``bench/gateway_bus.py``: single- and three-phase meters of eight models.

32 meters: 8 SDM120, 4 SDM230, 4 DDSU666, 4 SDM630, 4 DTSU666 on three 8-channel relay
modules; 4 DDS238, 2 Fineco EM115 and 2 Fineco EM737 with their own relays (the Fineco
read-back is a register of its own). One simulator process serves them; our poller runs
in its own process twice: with the serial-line plans (``read_cost="rtu"``, what an RS-485
bus costs) and with the TCP plans (largest allowed blocks, what a Modbus TCP meter link
costs). Against the same bus: the optimal RTU plan per profile by brute force, and the
one-value-per-request strategy (mbmd's) over the same values.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "greengrass_component"))

BYTE_MS = 1.04
SILENCE_BYTES = 7
CYCLES = 10
# (profile, addresses, relay module or None); modules have 8 channels, used in order.
LAYOUT: list[tuple[str, range, int | None]] = [
    ("sdm120", range(1, 9), 101),
    ("sdm230", range(9, 13), 102),
    ("ddsu666", range(13, 17), 102),
    ("sdm630", range(17, 21), 103),
    ("dtsu666", range(21, 25), 103),
    ("dds238", range(25, 29), None),
    ("fineco_em115", range(29, 31), None),
    ("fineco_em737", range(31, 33), None),
]
MODULES = (101, 102, 103)
THREE_PHASE = {"sdm630", "dtsu666", "fineco_em737"}


def devices() -> list[dict[str, Any]]:
    """Every meter with its relay link (module channel or its own relay)."""
    used: dict[int, int] = {}
    meters = []
    for profile, addresses, module in LAYOUT:
        for address in addresses:
            if module is None:
                relay = {"address": address, "profile": profile, "channel": 0}
            else:
                channel = used.get(module, 0)
                used[module] = channel + 1
                relay = {"address": module, "profile": "relay_module", "channel": channel}
            meters.append({"address": address, "profile": profile, "relay": relay})
    return meters


def simulator_spec() -> str:
    entries = []
    for meter in devices():
        relay = meter["relay"]
        suffix = f"@{relay['address']}/{relay['channel']}" if relay["address"] in MODULES else ""
        entries.append(f"{meter['profile']}:{meter['address']}{suffix}")
    entries += [f"relay_module:{m}" for m in MODULES]
    return ",".join(entries)


def profile_of(device_id: int) -> str:
    if device_id in MODULES:
        return "relay_module"
    return next(m["profile"] for m in devices() if m["address"] == device_id)


def frame_ms(record: dict[str, Any]) -> float:
    from meter_gateway.profiles import load_profile

    wire = int(record["request_bytes"]) + int(record["response_bytes"] or 0) + SILENCE_BYTES
    return wire * BYTE_MS + load_profile(profile_of(int(record["device_id"]))).turnaround_ms


def summarise(records: list[dict[str, Any]], cycles: float) -> dict[str, Any]:
    by_group: dict[str, list[dict[str, Any]]] = {
        "single_phase": [],
        "three_phase": [],
        "relay_modules": [],
    }
    for record in records:
        profile = profile_of(int(record["device_id"]))
        group = (
            "relay_modules"
            if profile == "relay_module"
            else "three_phase"
            if profile in THREE_PHASE
            else "single_phase"
        )
        by_group[group].append(record)
    out: dict[str, Any] = {
        "whole_bus": {
            "transactions_per_cycle": round(len(records) / cycles, 3),
            "bus_ms_per_cycle": round(sum(frame_ms(r) for r in records) / cycles, 1),
            "exception_responses": sum(r["exception_code"] is not None for r in records),
        }
    }
    for group, chosen in by_group.items():
        out[group] = {
            "transactions_per_cycle": round(len(chosen) / cycles, 3),
            "bus_ms_per_cycle": round(sum(frame_ms(r) for r in chosen) / cycles, 1),
        }
    return out


def run_poller(port: int, cycles: int, read_cost: str) -> None:
    """Role of the child process: only our poller, then its figures as JSON."""
    from meter_gateway.bus import BusSettings, MeterConfig, RelayLink, open_bus

    meters = [
        MeterConfig(f"m{m['address']:03d}", m["address"], m["profile"], RelayLink(**m["relay"]))
        for m in devices()
    ]

    async def main() -> dict[str, Any]:
        settings = BusSettings(
            transport="tcp", tcp_port=port, timeout_ms=1000, retries=2, read_cost=read_cost
        )
        bus = open_bus(settings)
        await bus.connect()
        failures = 0
        for _ in range(cycles):
            samples = await bus.poll(meters)
            failures += sum(not s.ok or s.relay_on is None for s in samples)
        await bus.close()
        return {"cycles": cycles, "failed_samples": failures}

    print(json.dumps(asyncio.run(main())))


def optimal_ms(profile_name: str) -> tuple[float, int]:
    """Brute force over every partition of what the profile must read (RTU cost)."""
    from meter_gateway.profiles import load_profile
    from meter_gateway.read_plan import needed_keys

    profile = load_profile(profile_name)
    specs = profile.all_registers()
    items = sorted(
        (specs[k].function_code or 0, specs[k].address or 0, specs[k].last_address)
        for k in needed_keys(profile)
    )
    relay = profile.relay
    if relay is not None and relay.readback is not None and not relay.is_coil:
        items = sorted(
            [*items, (relay.readback.function_code, relay.readback.address, relay.readback.address)]
        )
    best, best_n = math.inf, 0
    for cuts in itertools.product([False, True], repeat=len(items) - 1):
        groups, current = [], [items[0]]
        for item, cut in zip(items[1:], cuts, strict=True):
            if cut or item[0] != current[0][0]:
                groups.append(current)
                current = [item]
            else:
                current.append(item)
        groups.append(current)
        total = 0.0
        for group in groups:
            first, last = group[0][1], max(i[2] for i in group)
            if last - first + 1 > profile.max_read_registers or not profile.span_for(
                group[0][0], first, last
            ):
                total = math.inf
                break
            total += (20 + 2 * (last - first + 1)) * BYTE_MS + profile.turnaround_ms
        if total < best:
            best, best_n = total, len(groups)
    return best, best_n


def optimal_bus() -> dict[str, Any]:
    from meter_gateway.profiles import load_profile

    ms, transactions = 0.0, 0
    for meter in devices():
        plan_ms, plan_n = optimal_ms(meter["profile"])
        ms += plan_ms
        transactions += plan_n
    module_ms = (20 + 1) * BYTE_MS + load_profile("relay_module").turnaround_ms
    return {
        "how": "brute force per profile over every partition of what it must read (telemetry "
        "values, their inputs, the relay read-back), RTU cost; one FC01 read per module",
        "whole_bus_transactions_per_cycle": transactions + len(MODULES),
        "whole_bus_ms_per_cycle": round(ms + len(MODULES) * module_ms, 1),
    }


async def run_per_value(port: int, cycles: int) -> None:
    """mbmd's strategy: one request per value, for the same values our poller reads."""
    from pymodbus.client import AsyncModbusTcpClient

    from meter_gateway.profiles import load_profile
    from meter_gateway.read_plan import per_value_plan

    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=1)
    await client.connect()
    for _ in range(cycles):
        for meter in devices():
            for block in per_value_plan(load_profile(meter["profile"])).blocks:
                reader = (
                    client.read_input_registers
                    if block.function_code == 4
                    else client.read_holding_registers
                )
                await reader(block.address, count=block.count, device_id=meter["address"])
    client.close()


def measure(simulator_factory: Any, script: str) -> dict[str, Any]:
    """Run the mixed bus; ``simulator_factory(args)`` starts the simulator process."""
    sim = simulator_factory(["--meters", simulator_spec()])
    result: dict[str, Any] = {
        "layout": [
            {
                "profile": p,
                "meters": len(a),
                "relay": "module" if m else "own",
                "phases": 3 if p in THREE_PHASE else 1,
            }
            for p, a, m in LAYOUT
        ],
        "meters": len(devices()),
        "relay_modules": len(MODULES),
    }
    try:
        for read_cost in ("rtu", "tcp"):
            done = subprocess.run(
                [sys.executable, script, "--role", "mixed-poller", "--port", str(sim.port),
                 "--cycles", str(CYCLES), "--read-cost", read_cost],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"mixed poller failed: {done.stderr[-2000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            result[f"ours_{read_cost}_plans"] = {
                **summarise(sim.take_requests(), CYCLES),
                "failed_samples": figures["failed_samples"],
            }
        asyncio.run(run_per_value(sim.port, 3))
        result["per_value_reader"] = summarise(sim.take_requests(), 3)
    finally:
        sim.stop()
    result["optimal_rtu"] = optimal_bus()
    ours = result["ours_rtu_plans"]["whole_bus"]["bus_ms_per_cycle"]
    result["ratios"] = {
        "ours_rtu_vs_optimal": round(ours / result["optimal_rtu"]["whole_bus_ms_per_cycle"], 3),
        "ours_rtu_vs_per_value_reader": round(
            ours / result["per_value_reader"]["whole_bus"]["bus_ms_per_cycle"], 3
        ),
    }
    return result
