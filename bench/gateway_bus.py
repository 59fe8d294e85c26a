"""Benchmark: poll 32 simulated meters (mixed profiles) and compare with peer readers.

Run: ``uv run --frozen python bench/gateway_bus.py`` -> ``bench/results/gateway_bus.json``.

What is measured, all against one simulator process serving the same 32 meters:

* our poller, in a process of its own that runs nothing else: Modbus transactions per
  meter per cycle, CPU time per cycle, peak RSS;
* modelled RS-485 bus time per cycle at 9600 baud 8N1 from the frames the simulator
  actually received and sent: (request + response + 7 silent bytes) x 1.04 ms + the
  profile's turnaround per transaction; writes would count the same way (none happen);
* the best possible plan per profile, found here by brute force over every partition
  of the needed registers (independent of the planner's dynamic programme);
* peers: mbmd's one-value-per-request strategy reproduced (13 requests per SDM120),
  sdm_modbus and modbus4mqtt run themselves from their own venvs when they install.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "greengrass_component"))
sys.path.insert(0, str(REPO / "bench"))

import gateway_mixed_bus  # noqa: E402

RESULTS = REPO / "bench" / "results" / "gateway_bus.json"
METER_COUNT = 32
SDM_COUNT = METER_COUNT // 2
MODULES = (101, 102)
BYTE_MS = 1.04
SILENCE_BYTES = 7
POLLER_CYCLES = 20
PEER_CYCLES = 3
PEER_VENVS = {"sdm_modbus": Path("/tmp/peer-sdm"), "modbus4mqtt": Path("/tmp/peer-m4m")}
# sdm_modbus 0.7.0 imports pymodbus.payload and register_read_message and passes slave=,
# all removed by pymodbus 3.7+; its own venv therefore pins the last compatible series.
PEER_REQUIREMENTS = {"sdm_modbus": ["sdm_modbus", "pymodbus<3.7"], "modbus4mqtt": ["modbus4mqtt"]}
# mbmd's SDM120 producer (meters/rs485/sdm120.go): 13 opcodes, one FC04 2-register read each.
MBMD_SDM120_OPCODES = [
    0x0000,
    0x0006,
    0x000C,
    0x0012,
    0x0018,
    0x001E,
    0x0046,
    0x0048,
    0x004A,
    0x004C,
    0x004E,
    0x0156,
    0x0158,
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bus_layout() -> list[dict[str, Any]]:
    """Same layout as ``--mixed 32``: SDM120 1..16 on modules 101/102, DDS238 17..32."""
    meters = []
    for address in range(1, METER_COUNT + 1):
        if address <= SDM_COUNT:
            relay = {
                "address": MODULES[(address - 1) // 8],
                "profile": "relay_module",
                "channel": (address - 1) % 8,
            }
            meters.append({"address": address, "profile": "sdm120", "relay": relay})
        else:
            meters.append(
                {
                    "address": address,
                    "profile": "dds238",
                    "relay": {"address": address, "profile": "dds238", "channel": 0},
                }
            )
    return meters


# --- the poller process ---------------------------------------------------------------
def run_poller(port: int, cycles: int) -> None:
    """Role of the child process: only the poller, then print its figures as JSON."""
    from meter_gateway.bus import BusSettings, MeterConfig, RelayLink, open_bus

    meters = [
        MeterConfig(f"m{m['address']:03d}", m["address"], m["profile"], RelayLink(**m["relay"]))
        for m in bus_layout()
    ]

    async def main() -> dict[str, Any]:
        # The simulator is reached over TCP, but the bus modelled is RS-485: plan for it.
        bus = open_bus(
            BusSettings(transport="tcp", tcp_port=port, timeout_ms=1000, retries=2, read_cost="rtu")
        )
        await bus.connect()
        cpu_ms: list[float] = []
        wall_ms: list[float] = []
        failures = 0
        for _ in range(cycles):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            samples = await bus.poll(meters)
            cpu_ms.append((time.process_time() - cpu0) * 1000)
            wall_ms.append((time.perf_counter() - wall0) * 1000)
            failures += sum(not s.ok or s.relay_on is None for s in samples)
        await bus.close()
        return {"cycles": cycles, "cpu_ms": cpu_ms, "wall_ms": wall_ms, "failed_samples": failures}

    figures = asyncio.run(main())
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


# --- simulator process and its control socket ------------------------------------------
class Simulator:
    def __init__(self, meters_args: list[str] | None = None) -> None:
        self.port = free_port()
        self.control_port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO / "greengrass_component")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "meter_gateway.simulator",
                "--tcp",
                f"127.0.0.1:{self.port}",
                *(meters_args or ["--mixed", str(METER_COUNT)]),
                "--time-scale",
                "60",
                "--seed",
                "2026",
                "--control",
                f"127.0.0.1:{self.control_port}",
            ],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.command({"cmd": "reset_requests"})
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("simulator did not start") from None
                time.sleep(0.05)

    def command(self, command: dict[str, Any]) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as conn:
            conn.sendall(json.dumps(command).encode() + b"\n")
            buffer = b""
            while not buffer.endswith(b"\n"):
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                buffer += chunk
        answer: dict[str, Any] = json.loads(buffer)
        return answer

    def take_requests(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.command({"cmd": "requests"})["requests"]
        self.command({"cmd": "reset_requests"})
        return records

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


# --- bus-time model ---------------------------------------------------------------------
def turnaround_ms(device_id: int) -> int:
    from meter_gateway.profiles import load_profile

    if device_id in MODULES:
        return load_profile("relay_module").turnaround_ms
    return load_profile("sdm120" if device_id <= SDM_COUNT else "dds238").turnaround_ms


def frame_ms(record: dict[str, Any]) -> float:
    wire = int(record["request_bytes"]) + int(record["response_bytes"] or 0) + SILENCE_BYTES
    return wire * BYTE_MS + turnaround_ms(int(record["device_id"]))


def summarise(records: list[dict[str, Any]], cycles: float, devices: list[int]) -> dict[str, Any]:
    """Transactions and modelled bus ms per cycle, over the given devices."""
    chosen = [r for r in records if r["device_id"] in devices]
    unanswered = sum(r["response_bytes"] is None for r in chosen)
    exceptions = sum(r["exception_code"] is not None for r in chosen)
    return {
        "transactions_per_cycle": round(len(chosen) / cycles, 3),
        "bus_ms_per_cycle": round(sum(frame_ms(r) for r in chosen) / cycles, 1),
        "unanswered": unanswered,
        "exception_responses": exceptions,
    }


def optimal_plan_ms(profile_name: str, include_relay: bool) -> tuple[float, int]:
    """Brute force: least modelled time over every partition of the needed addresses."""
    from meter_gateway.profiles import load_profile
    from meter_gateway.read_plan import needed_keys

    profile = load_profile(profile_name)
    specs = profile.all_registers()
    # What the poller must read: telemetry's values (total kWh only without import).
    items = sorted(
        (specs[k].function_code or 0, specs[k].address or 0, specs[k].last_address)
        for k in needed_keys(profile)
    )
    readback = profile.relay.readback if profile.relay else None
    if include_relay and readback is not None and not profile.relay.is_coil:  # type: ignore[union-attr]
        items = sorted([*items, (readback.function_code, readback.address, readback.address)])
    best, best_requests = math.inf, 0
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
            count = last - first + 1
            if count > profile.max_read_registers or not profile.span_for(group[0][0], first, last):
                total = math.inf
                break
            total += (20 + 2 * count) * BYTE_MS + profile.turnaround_ms
        if total < best:
            best, best_requests = total, len(groups)
    return best, best_requests


def coil_read_ms(channels: int) -> float:
    from meter_gateway.profiles import load_profile

    return (20 + math.ceil(channels / 8)) * BYTE_MS + load_profile("relay_module").turnaround_ms


# --- peers --------------------------------------------------------------------------------
async def run_mbmd_strategy(port: int, cycles: int) -> None:
    """mbmd reads one value per request: 13 for an SDM120. It has no DDS238 producer; the
    same one-value-per-request strategy is applied to the 7 values the gateway reads."""
    from pymodbus.client import AsyncModbusTcpClient

    from meter_gateway.profiles import load_profile
    from meter_gateway.read_plan import needed_keys

    dds = load_profile("dds238")
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=1)
    await client.connect()
    for _ in range(cycles):
        for address in range(1, METER_COUNT + 1):
            if address <= SDM_COUNT:
                for opcode in MBMD_SDM120_OPCODES:
                    await client.read_input_registers(opcode, count=2, device_id=address)
            else:
                for key in needed_keys(dds):
                    spec = dds.registers[key]  # type: ignore[index]
                    await client.read_holding_registers(
                        spec.address or 0, count=spec.register_count, device_id=address
                    )
    client.close()


def ensure_peer(name: str) -> tuple[Path | None, str]:
    venv = PEER_VENVS[name]
    python = venv / "bin" / "python"
    module = name
    check = [str(python), "-c", f"import {module}"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, "already installed"
    uv = shutil.which("uv")
    if uv is None:
        return None, "uv not found"
    steps = [
        [uv, "venv", "--allow-existing", str(venv)],
        [uv, "pip", "install", "--python", str(python), *PEER_REQUIREMENTS[name]],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return None, f"{' '.join(step[:3])} failed: {done.stderr.strip()[-400:]}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, f"installed but `import {module}` fails"
    return python, "installed now"


def peer_versions(python: Path, packages: list[str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    )
    done = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def run_sdm_modbus(sim: Simulator) -> dict[str, Any]:
    python, how = ensure_peer("sdm_modbus")
    if python is None:
        return {"ran": False, "why_not": how}
    addresses = ",".join(str(a) for a in range(1, SDM_COUNT + 1))
    done = subprocess.run(
        [
            str(python),
            str(REPO / "bench" / "peers" / "sdm_modbus_driver.py"),
            "--port",
            str(sim.port),
            "--addresses",
            addresses,
            "--cycles",
            str(PEER_CYCLES),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    records = sim.take_requests()
    if done.returncode != 0:
        return {"ran": False, "why_not": f"driver failed: {done.stderr.strip()[-400:]}"}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "ran": True,
        "install": how,
        "requirements": PEER_REQUIREMENTS["sdm_modbus"],
        "why_pinned": "sdm_modbus 0.7.0 imports pymodbus.payload and register_read_message and "
        "passes slave=, all gone in pymodbus 3.7+; with the newest pymodbus it "
        "cannot import, so its venv pins pymodbus<3.7",
        "versions": peer_versions(python, ["sdm_modbus", "pymodbus"]),
        "how": "the peer itself: SDM120(...).read_all() per meter per cycle, one shared TCP "
        "connection; sdm_modbus supports Eastron meters only, so it reads the 16 SDM120s",
        "reads_values": len(out["last_sample_keys"]),
        "sdm120": summarise(records, PEER_CYCLES, list(range(1, SDM_COUNT + 1))),
    }


def run_modbus4mqtt(sim: Simulator) -> dict[str, Any]:
    python, how = ensure_peer("modbus4mqtt")
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if python is None:
        return {"ran": False, "why_not": how}
    if not Path(mosquitto).exists():
        return {"ran": False, "why_not": "mosquitto not installed (modbus4mqtt needs a broker)"}
    from meter_gateway.profiles import load_profile

    results: dict[str, Any] = {
        "ran": True,
        "install": how,
        "requirements": PEER_REQUIREMENTS["modbus4mqtt"],
        "versions": peer_versions(python, ["modbus4mqtt", "pymodbus"]),
        "how": "the peer's own CLI (one process per device, as it is designed) against a local "
        "mosquitto, update_rate 1 s, one meter of each profile; scan_batching set to the "
        "largest aligned batch the meter accepts (80 for SDM120, 32 for DDS238). "
        "modbus4mqtt has no float type, so SDM120 floats are configured as uint32: the "
        "bus traffic is identical.",
    }
    workdir = Path(tempfile.mkdtemp(prefix="bench-m4m-"))
    broker_port = free_port()
    (workdir / "mosquitto.conf").write_text(
        f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
    )
    broker = subprocess.Popen(
        [mosquitto, "-c", str(workdir / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        for profile_name, address, batching in (("sdm120", 1, 80), ("dds238", SDM_COUNT + 1, 32)):
            profile = load_profile(profile_name)
            table = "input" if profile_name == "sdm120" else "holding"
            registers = [
                {
                    "pub_topic": f"{profile_name}/{key}",
                    "address": spec.address or 0,
                    "table": table,
                    "type": "uint32" if spec.register_count == 2 else "uint16",
                }
                for key, spec in profile.registers.items()
            ]
            readback = profile.relay.readback if profile.relay else None
            if readback is not None and readback.function_code == 3:
                registers.append(
                    {
                        "pub_topic": f"{profile_name}/relay",
                        "address": readback.address,
                        "table": "holding",
                    }
                )
            config = {
                "ip": "127.0.0.1",
                "port": sim.port,
                "device_address": address,
                "update_rate": 1,
                "scan_batching": batching,
                "registers": registers,
            }
            config_path = workdir / f"{profile_name}.yaml"
            config_path.write_text(json.dumps(config))  # JSON is YAML
            sim.take_requests()
            peer = subprocess.Popen(
                [
                    str(python),
                    "-m",
                    "modbus4mqtt.modbus4mqtt",
                    "--hostname",
                    "127.0.0.1",
                    "--port",
                    str(broker_port),
                    "--config",
                    str(config_path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(3.6)
            peer.terminate()
            peer.wait(timeout=10)
            records = [r for r in sim.take_requests() if r["device_id"] == address]
            first_read = min((r["address"] for r in records), default=None)
            cycles = sum(r["address"] == first_read for r in records)
            if not cycles:
                results[profile_name] = {"ran": False, "why_not": "no requests seen"}
                continue
            results[profile_name] = summarise(records, cycles, [address])
            results[profile_name]["cycles_observed"] = cycles
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    return results


# --- the benchmark -----------------------------------------------------------------------
def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else math.inf


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["bench", "poller", "mixed-poller"], default="bench")
    parser.add_argument("--port", type=int)
    parser.add_argument("--cycles", type=int, default=POLLER_CYCLES)
    parser.add_argument("--read-cost", choices=["rtu", "tcp"], default="rtu")
    args = parser.parse_args()
    if args.role == "poller":
        run_poller(args.port, args.cycles)
        return
    if args.role == "mixed-poller":
        gateway_mixed_bus.run_poller(args.port, args.cycles, args.read_cost)
        return

    sdm_ids = list(range(1, SDM_COUNT + 1))
    dds_ids = list(range(SDM_COUNT + 1, METER_COUNT + 1))
    all_ids = [*sdm_ids, *dds_ids, *MODULES]
    sim = Simulator()
    try:
        # Our poller, alone in its process.
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--role",
                "poller",
                "--port",
                str(sim.port),
                "--cycles",
                str(args.cycles),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"poller failed: {done.stderr[-2000:]}")
        poller = json.loads(done.stdout.strip().splitlines()[-1])
        records = sim.take_requests()
        cycles = poller["cycles"]
        ours: dict[str, Any] = {
            "whole_bus": summarise(records, cycles, all_ids),
            "sdm120": summarise(records, cycles, sdm_ids),
            "dds238": summarise(records, cycles, dds_ids),
            "relay_modules": summarise(records, cycles, list(MODULES)),
        }

        # mbmd's strategy, reproduced.
        asyncio.run(run_mbmd_strategy(sim.port, PEER_CYCLES))
        mbmd_records = sim.take_requests()
        mbmd: dict[str, Any] = {
            "ran": True,
            "how": "reproduced (mbmd is a Go daemon, not on PyPI): one FC04 request per value, "
            "13 requests for an SDM120 exactly as meters/rs485/sdm120.go lists them; mbmd "
            "has no DDS238 producer, so the same one-value-per-request strategy reads the "
            "7 values the gateway reads (7 requests). It reads no relay state.",
            "whole_bus": summarise(mbmd_records, PEER_CYCLES, all_ids),
            "sdm120": summarise(mbmd_records, PEER_CYCLES, sdm_ids),
            "dds238": summarise(mbmd_records, PEER_CYCLES, dds_ids),
        }
        sdm_peer = run_sdm_modbus(sim)
        m4m_peer = run_modbus4mqtt(sim)
    finally:
        sim.stop()

    sdm_opt_ms, sdm_opt_n = optimal_plan_ms("sdm120", include_relay=False)
    dds_opt_ms, dds_opt_n = optimal_plan_ms("dds238", include_relay=True)
    module_ms = coil_read_ms(8)
    optimal_bus_ms = SDM_COUNT * sdm_opt_ms + len(dds_ids) * dds_opt_ms + len(MODULES) * module_ms
    optimal: dict[str, Any] = {
        "how": "brute force over every partition of each profile's needed registers into block "
        "reads within max_read_registers and readable_spans; DDS238 includes its relay "
        "read-back, each relay module one FC01 read of its 8 channels",
        "sdm120_ms_per_meter": round(sdm_opt_ms, 1),
        "sdm120_requests": sdm_opt_n,
        "dds238_ms_per_meter": round(dds_opt_ms, 1),
        "dds238_requests": dds_opt_n,
        "relay_module_ms": round(module_ms, 1),
        "relay_module_requests": 1,
        "whole_bus_transactions_per_cycle": SDM_COUNT * sdm_opt_n
        + len(dds_ids) * dds_opt_n
        + len(MODULES),
        "whole_bus_ms_per_cycle": round(optimal_bus_ms, 1),
    }
    ours_bus = ours["whole_bus"]["bus_ms_per_cycle"]
    ours_meters_only = ours["sdm120"]["bus_ms_per_cycle"] + ours["dds238"]["bus_ms_per_cycle"]
    ratios: dict[str, Any] = {
        "ours_vs_optimal_whole_bus": ratio(ours_bus, optimal_bus_ms),
        "ours_vs_optimal_sdm120": ratio(ours["sdm120"]["bus_ms_per_cycle"], SDM_COUNT * sdm_opt_ms),
        "ours_vs_optimal_dds238": ratio(
            ours["dds238"]["bus_ms_per_cycle"], len(dds_ids) * dds_opt_ms
        ),
        "ours_vs_mbmd_whole_bus": ratio(ours_bus, mbmd["whole_bus"]["bus_ms_per_cycle"]),
        "ours_meter_reads_vs_mbmd": ratio(ours_meters_only, mbmd["whole_bus"]["bus_ms_per_cycle"]),
        "ours_vs_mbmd_sdm120": ratio(
            ours["sdm120"]["bus_ms_per_cycle"], mbmd["sdm120"]["bus_ms_per_cycle"]
        ),
        "ours_vs_mbmd_dds238": ratio(
            ours["dds238"]["bus_ms_per_cycle"], mbmd["dds238"]["bus_ms_per_cycle"]
        ),
    }
    if sdm_peer.get("ran"):
        ratios["ours_vs_sdm_modbus_sdm120"] = ratio(
            ours["sdm120"]["bus_ms_per_cycle"], sdm_peer["sdm120"]["bus_ms_per_cycle"]
        )
    if m4m_peer.get("ran") and "bus_ms_per_cycle" in m4m_peer.get("sdm120", {}):
        m4m_sdm = m4m_peer["sdm120"]["bus_ms_per_cycle"]
        m4m_dds = m4m_peer["dds238"]["bus_ms_per_cycle"]
        ratios["ours_vs_modbus4mqtt_sdm120"] = ratio(
            ours["sdm120"]["bus_ms_per_cycle"] / SDM_COUNT, m4m_sdm
        )
        ratios["ours_vs_modbus4mqtt_dds238"] = ratio(
            ours["dds238"]["bus_ms_per_cycle"] / len(dds_ids), m4m_dds
        )
        ratios["ours_vs_modbus4mqtt_meters_extrapolated"] = ratio(
            ours_meters_only, SDM_COUNT * m4m_sdm + len(dds_ids) * m4m_dds
        )

    # Single- and three-phase meters of eight models on one bus (gateway_mixed_bus.py).
    mixed_bus = gateway_mixed_bus.measure(Simulator, __file__)
    cpu = poller["cpu_ms"][1:] or poller["cpu_ms"]  # first cycle includes connecting
    result: dict[str, Any] = {
        "benchmark": "gateway_bus",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "bus": {
            "meters": METER_COUNT,
            "sdm120": SDM_COUNT,
            "dds238": len(dds_ids),
            "relay_modules": len(MODULES),
            "baud": 9600,
            "framing": "8N1",
            "transport_measured": "Modbus TCP to the simulator",
            "bus_model": "RS-485 9600 baud 8N1: (request + response + 7) bytes x 1.04 ms + "
            "turnaround per transaction, from the frames the simulator saw",
            "turnaround_ms": {
                "sdm120": turnaround_ms(1),
                "dds238": turnaround_ms(SDM_COUNT + 1),
                "relay_module": turnaround_ms(MODULES[0]),
            },
        },
        "ours": {
            **ours,
            "transactions_per_meter_per_cycle": {
                "sdm120": round(ours["sdm120"]["transactions_per_cycle"] / SDM_COUNT, 3),
                "dds238": round(ours["dds238"]["transactions_per_cycle"] / len(dds_ids), 3),
                "relay_module_share_per_sdm120": round(
                    ours["relay_modules"]["transactions_per_cycle"] / SDM_COUNT, 3
                ),
                "whole_bus_per_meter": round(
                    ours["whole_bus"]["transactions_per_cycle"] / METER_COUNT, 3
                ),
            },
            "cycles": cycles,
            "failed_samples": poller["failed_samples"],
            "cpu_ms_per_cycle": {"mean": round(statistics.mean(cpu), 2), "max": round(max(cpu), 2)},
            "wall_ms_per_cycle_over_tcp_loopback": round(statistics.mean(poller["wall_ms"][1:]), 1),
            "peak_rss_mb_poller_process": round(poller["peak_rss_mb"], 1),
        },
        "optimal": optimal,
        "peers": {"mbmd": mbmd, "sdm_modbus": sdm_peer, "modbus4mqtt": m4m_peer},
        "ratios": ratios,
        "mixed_bus": mixed_bus,
        "targets": {
            "bus_time_within_1_1x_optimal": ratios["ours_vs_optimal_whole_bus"] <= 1.1,
            "bus_time_at_most_one_third_of_per_value_reader": ratios["ours_vs_mbmd_whole_bus"]
            <= 1 / 3,
            "peak_rss_under_60_mb": poller["peak_rss_mb"] < 60,
        },
        # The bounds of the targets above, as numbers (docs/performance.md, bench/report.py).
        "limits": {
            "ours_vs_optimal_whole_bus_at_most": 1.1,
            "ours_vs_mbmd_whole_bus_at_most": 1 / 3,
            "peak_rss_mb_below": 60,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {
                "ratios": ratios,
                "targets": result["targets"],
                "ours": result["ours"]["transactions_per_meter_per_cycle"],
                "mixed_bus": {
                    k: mixed_bus[k]["whole_bus"]
                    for k in ("ours_rtu_plans", "ours_tcp_plans", "per_value_reader")
                }
                | {"optimal_rtu": mixed_bus["optimal_rtu"], "ratios": mixed_bus["ratios"]},
                "cpu_ms_per_cycle": result["ours"]["cpu_ms_per_cycle"],
                "peak_rss_mb": result["ours"]["peak_rss_mb_poller_process"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
