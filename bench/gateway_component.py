"""Benchmark: the whole gateway component as it runs in a building, on 32 simulated meters.

Run: ``uv run --frozen python bench/gateway_component.py`` -> ``bench/results/gateway_component.json``.

One process is measured: ``python -m meter_gateway --config gateway.json`` with everything
it runs in production except the serial port (service, poller over Modbus TCP, SQLite
spool, MQTT transport to a local mosquitto, shadow sync). Around it, in other processes:
the meter simulator (``--mixed 32``: 16 SDM120 on two relay modules, 16 DDS238), mosquitto,
and this script, which plays the cloud (answers the named-shadow topics) and receives the
telemetry.

Figures:
* telemetry bytes per cycle: the real messages of the run (meter ids at the maximum length,
  so this is the typical message at its largest), each validated against the schema; and
  the worst case, built with the real encoder: every field at its widest, 128-character
  thing name, every relay cut locally, with a year of counters and with counters of any size;
* CPU time per cycle of the component process (utime + stime over the measured cycles,
  everything included: poll, encode, spool fsync, publish, shadow sync);
* peak RSS of the component process (VmHWM).
Targets (issue 3): telemetry at most 5 KB for 32 meters; peak RSS under 60 MB.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "greengrass_component"))
# The stand-in for the AWS shadow service and the MQTT probe are the end-to-end tests' own.
sys.path.insert(0, str(REPO / "tests" / "gateway" / "cloud"))

from gateway_bus import bus_layout, free_port  # noqa: E402
from jsonschema import Draft202012Validator  # noqa: E402
from mqtt_helpers import Mosquitto, MqttProbe, ShadowService, wait_until  # noqa: E402

from meter_gateway.bus import MeterDiagnostics, MeterSample  # noqa: E402
from meter_gateway.telemetry import (  # noqa: E402
    BUDGET_METERS,
    MAX_METER_ID_CHARS,
    TELEMETRY_BUDGET_BYTES,
    CycleInput,
    SpoolStats,
    encode_message,
)

RESULTS = REPO / "bench" / "results" / "gateway_component.json"
SCHEMA = REPO / "iot_rules" / "schemas" / "telemetry.v1.json"
THING = "gw-bench-component-1"
TOPIC = f"powerlet/gw/{THING}/telemetry"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "greengrass_component")}
POLL_INTERVAL_MS = 500
WARMUP_CYCLES = 5
MEASURED_CYCLES = 40
RSS_TARGET_MB = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def meter_id(address: int) -> str:
    # At the cap, so the real messages are as large as real ids can make them.
    return f"m-bench-unit-{address:04d}"[:MAX_METER_ID_CHARS]


def gateway_config(workdir: Path, modbus_port: int, mqtt_port: int) -> Path:
    meters = [{"meter_id": meter_id(m["address"]), **m} for m in bus_layout()]
    config = {
        "thing_name": THING,
        "poll_interval_ms": POLL_INTERVAL_MS,
        "state_dir": str(workdir / "state"),
        "bus": {"transport": "tcp", "host": "127.0.0.1", "tcp_port": modbus_port},
        "meters": meters,
        "spool": {"path": str(workdir / "spool.sqlite3")},
        "cloud": {"transport": "mqtt", "mqtt": {"host": "127.0.0.1", "port": mqtt_port}},
    }
    path = workdir / "gateway.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- the worst case, built with the real encoder ----------------------------------------
def _widest_sample(index: int) -> MeterSample:
    values = {
        "import_kwh": Decimal("999999999.999"),
        "export_kwh": Decimal("999999999.999"),
        "v": Decimal("999.9"),
        "a": Decimal("-999.99"),
        "w": Decimal("-99999"),
        "pf": Decimal("-0.999"),
        "hz": Decimal("99.99"),
    }
    mid = f"{index:02d}".rjust(MAX_METER_ID_CHARS, "x")
    return MeterSample(mid, True, values, True, 10**13 + 10**8, 10**6, None)


def worst_case_bytes(diagnostics: MeterDiagnostics) -> dict[str, Any]:
    samples = [_widest_sample(i) for i in range(BUDGET_METERS)]
    cycle = CycleInput(
        thing_name="g" * 128,
        spool_id="0123456789abcdef",
        cycle_started_ms=10**13 - 1,
        cycle_duration_ms=99_999_999,
        samples=samples,
        diagnostics={s.meter_id: diagnostics for s in samples},
        spool=SpoolStats(10**15, 10**15, 10**15),
        locally_cut=frozenset(s.meter_id for s in samples),
    )
    payload = encode_message(cycle, seq=2**53 - 1)
    meters = json.loads(payload)["m"]
    return {"bytes": len(payload), "meters_with_dg": sum("dg" in m for m in meters)}


# --- the run -----------------------------------------------------------------------------
def run_component(workdir: Path) -> dict[str, Any]:
    broker = Mosquitto(workdir)
    broker.start()
    modbus_port = free_port()
    sim_log = open(workdir / "simulator.log", "wb")  # noqa: SIM115
    simulator = subprocess.Popen(
        [sys.executable, "-m", "meter_gateway.simulator", "--tcp", f"127.0.0.1:{modbus_port}",
         "--mixed", str(BUDGET_METERS)],
        env=ENV, stdout=sim_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    shadows = ShadowService(broker.port).start()
    probe = MqttProbe(broker.port, "bench-ingest").start()
    probe.subscribe(TOPIC)
    gw_log = open(workdir / "gateway.log", "wb")  # noqa: SIM115
    gateway: subprocess.Popen[bytes] | None = None
    try:
        config = gateway_config(workdir, modbus_port, broker.port)
        gateway = subprocess.Popen(
            [sys.executable, "-m", "meter_gateway", "--config", str(config)],
            env=ENV, stdout=gw_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        pid = gateway.pid
        wait_until(lambda: len(probe.payloads(TOPIC)) >= WARMUP_CYCLES, 60, "warm-up cycles")
        cpu0, wall0, done0 = cpu_s(pid), time.monotonic(), len(probe.payloads(TOPIC))
        wait_until(
            lambda: len(probe.payloads(TOPIC)) >= done0 + MEASURED_CYCLES,
            MEASURED_CYCLES * POLL_INTERVAL_MS / 1000 * 4 + 30,
            "measured cycles",
        )
        cpu1, wall1, done1 = cpu_s(pid), time.monotonic(), len(probe.payloads(TOPIC))
        rss_mb = peak_rss_mb(pid)
        if gateway.poll() is not None:
            raise RuntimeError(f"gateway exited with {gateway.returncode}; see {workdir}")
    finally:
        if gateway is not None:
            stop(gateway)
        gw_log.close()
        probe.stop()
        shadows.stop()
        stop(simulator)
        sim_log.close()
        broker.stop()
    # The probe is stopped: no callback can append any more. Sizes need the raw bytes.
    raw = [p for t, p in probe.messages if t == TOPIC]
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    messages = [json.loads(p) for p in raw]
    for message in messages:
        validator.validate(message)
    sizes = [len(p) for p in raw]
    cycles = done1 - done0
    failed = sum("er" in m for msg in messages for m in msg["m"])
    return {
        "cycles_measured": cycles,
        "messages": len(messages),
        "meters_per_message": sorted({len(m["m"]) for m in messages}),
        "meter_id_chars": len(meter_id(1)),
        "failed_readings": failed,
        "telemetry_bytes": {
            "min": min(sizes),
            "mean": round(statistics.mean(sizes)),
            "max": max(sizes),
        },
        "cpu_ms_per_cycle": round((cpu1 - cpu0) * 1000 / cycles, 2),
        "cpu_clock_tick_ms": round(1000 / CLOCK_TICKS, 2),
        "wall_s": round(wall1 - wall0, 2),
        "cycle_duration_ms_mean": round(statistics.mean(m["d"] for m in messages), 1),
        "peak_rss_mb": round(rss_mb, 1),
    }


def main() -> int:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        print("mosquitto is not installed (make setup installs it)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-gw-component-") as tmp:
        component = run_component(Path(tmp))
    year = MeterDiagnostics(3_153_600, 3_153_600, 99_999, {2: 99_999}, 99_999, 99_999, True)
    huge = 10**15
    any_size = MeterDiagnostics(huge, huge, huge, {2: huge}, huge, huge, False)
    worst = {
        "a_year_of_10s_cycles_counters": worst_case_bytes(year),
        "counters_of_any_size": worst_case_bytes(any_size),
    }
    targets = {
        "telemetry_bytes_max": TELEMETRY_BUDGET_BYTES,
        "peak_rss_mb_below": RSS_TARGET_MB,
    }
    met = {
        "telemetry_typical": component["telemetry_bytes"]["max"] <= TELEMETRY_BUDGET_BYTES,
        "telemetry_worst_case": all(w["bytes"] <= TELEMETRY_BUDGET_BYTES for w in worst.values()),
        "peak_rss": component["peak_rss_mb"] < RSS_TARGET_MB,
        "every_reading_ok": component["failed_readings"] == 0,
    }
    result = {
        "setup": {
            "meters": BUDGET_METERS,
            "layout": "16 SDM120 on relay modules 101/102, 16 DDS238 (simulator --mixed 32)",
            "transport": "Modbus TCP to the simulator; MQTT 5 (awscrt) to a local mosquitto",
            "poll_interval_ms": POLL_INTERVAL_MS,
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        },
        "component": component,
        "telemetry_worst_case": worst,
        "targets": targets,
        "met": met,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
