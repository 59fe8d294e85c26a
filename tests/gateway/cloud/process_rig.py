"""Processes for the end-to-end tests: the meter simulator, the gateway, over a real broker."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from mqtt_helpers import Mosquitto, MqttProbe, ShadowService, free_port, wait_until

REPO = Path(__file__).resolve().parents[3]
THING = "gw-e2e-1"
TOPIC = f"powerlet/gw/{THING}/telemetry"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "greengrass_component")}


class Simulator:
    """`python -m meter_gateway.simulator` over Modbus TCP, with its control socket."""

    def __init__(self, workdir: Path, meters: str, time_scale: float = 1.0) -> None:
        self.port = free_port()
        self.control_port = free_port()
        self.log = open(workdir / "simulator.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "meter_gateway.simulator",
                "--tcp", f"127.0.0.1:{self.port}",
                "--control", f"127.0.0.1:{self.control_port}",
                "--meters", meters,
                "--time-scale", str(time_scale),
            ],
            env=ENV, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(self._ready, what="simulator control socket")

    def _ready(self) -> bool:
        try:
            self.command({"cmd": "snapshot"})
            return True
        except OSError:
            return False

    def command(self, command: dict) -> dict:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as sock:
            sock.sendall(json.dumps(command).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)

    def meter(self, address: int) -> dict:
        return self.command({"cmd": "snapshot"})["snapshot"]["meters"][str(address)]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def gateway_config(workdir: Path, sim: Simulator, broker: Mosquitto, **overrides) -> Path:
    config = {
        "thing_name": THING,
        "poll_interval_ms": 200,
        "state_dir": str(workdir / "state"),
        "bus": {"transport": "tcp", "host": "127.0.0.1", "tcp_port": sim.port, "timeout_ms": 200},
        "meters": [
            {"meter_id": "flat-a", "address": 1, "profile": "dds238",
             "relay": {"address": 1, "profile": "dds238"}},
            {"meter_id": "flat-b", "address": 2, "profile": "dds238",
             "relay": {"address": 2, "profile": "dds238"}},
        ],
        "spool": {"path": str(workdir / "spool.sqlite3")},
        "cloud": {
            "transport": "mqtt",
            "mqtt": {"host": "127.0.0.1", "port": broker.port,
                     "min_reconnect_delay_ms": 100, "max_reconnect_delay_ms": 500},
            "publish_timeout_ms": 2_000,
            "shadow_timeout_ms": 2_000,
            "offline_after_ms": 3_000,
        },
    }  # fmt: skip
    for key, value in overrides.items():
        config[key] = {**config[key], **value} if isinstance(value, dict) else value
    path = workdir / "gateway.json"
    path.write_text(json.dumps(config, indent=2))
    return path


class Gateway:
    """`python -m meter_gateway --config file.json` as its own process."""

    def __init__(self, workdir: Path, config: Path) -> None:
        self.workdir = workdir
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        log = open(self.workdir / f"gateway-{self.runs}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "meter_gateway", "--config", str(self.config)],
            env=ENV, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.workdir.glob("gateway-*.log"))
        )


def spool_contents(path: Path) -> tuple[int, list[int]]:
    """(last sequence number allocated, sequence numbers still waiting) read from the file."""
    with sqlite3.connect(path) as db:
        next_seq = int(db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0])
        pending = [row[0] for row in db.execute("SELECT seq FROM cycles ORDER BY seq")]
    return next_seq - 1, pending


class Ingest:
    """The receiving side: dedups by sequence number as the cloud's ingest does."""

    def __init__(self, broker: Mosquitto) -> None:
        self.probe = MqttProbe(broker.port, "test-ingest", session=True).start()
        self.probe.subscribe(TOPIC)

    def messages(self) -> list[dict]:
        return self.probe.payloads(TOPIC)

    def first_arrivals(self) -> list[int]:
        """Sequence numbers in order of first arrival (a QoS 1 duplicate counts once)."""
        seen: set[int] = set()
        order = []
        for message in self.messages():
            if message["s"] not in seen:
                seen.add(message["s"])
                order.append(message["s"])
        return order

    def stop(self) -> None:
        self.probe.stop()


__all__ = [
    "THING",
    "TOPIC",
    "Gateway",
    "Ingest",
    "Mosquitto",
    "ShadowService",
    "Simulator",
    "gateway_config",
    "spool_contents",
    "wait_until",
]
