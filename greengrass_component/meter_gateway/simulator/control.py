"""A small control socket for a simulator running as a process (loopback TCP, JSON lines).

Commands, one JSON object a line, one JSON answer a line::

    {"cmd": "silence", "address": 3}     unplug device 3 (it stops answering)
    {"cmd": "answer", "address": 3}      plug it back
    {"cmd": "exchange", "address": 3, "serial": 123, "import_kwh": 0.5}
                                         swap meter 3 for another (serial and register)
    {"cmd": "snapshot"}                  meters' state and relay modules' coils
    {"cmd": "requests"}                  every recorded request since the last reset
    {"cmd": "reset_requests"}
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

from meter_gateway.errors import SimulatorError
from meter_gateway.simulator.server import MeterSimulator

MAX_COMMAND_BYTES = 4096


def handle_command(simulator: MeterSimulator, command: dict[str, object]) -> dict[str, object]:
    name = command.get("cmd")
    try:
        if name in ("silence", "answer"):
            address = command.get("address")
            if not isinstance(address, int):
                return {"ok": False, "error": "address must be an integer"}
            simulator.set_silent(address, name == "silence")
            return {"ok": True}
        if name == "exchange":
            address, serial, energy = (command.get(k) for k in ("address", "serial", "import_kwh"))
            if not isinstance(address, int) or not isinstance(serial, int):
                return {"ok": False, "error": "address and serial must be integers"}
            if not isinstance(energy, int | float) or energy < 0:
                return {"ok": False, "error": "import_kwh must be a number >= 0"}
            simulator.exchange(address, serial, float(energy))
            return {"ok": True}
        if name == "snapshot":
            return {"ok": True, "snapshot": simulator.snapshot()}
        if name == "requests":
            return {"ok": True, "requests": [asdict(r) for r in simulator.requests()]}
        if name == "reset_requests":
            simulator.reset_requests()
            return {"ok": True}
    except SimulatorError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": False, "error": f"unknown cmd {name!r}"}


async def serve_control(simulator: MeterSimulator, host: str, port: int) -> asyncio.Server:
    if host not in ("127.0.0.1", "localhost"):
        raise SimulatorError("the control socket only listens on loopback")

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                if len(line) > MAX_COMMAND_BYTES:
                    answer: dict[str, object] = {"ok": False, "error": "command too long"}
                else:
                    try:
                        command = json.loads(line)
                    except json.JSONDecodeError:
                        answer = {"ok": False, "error": "not JSON"}
                    else:
                        answer = (
                            handle_command(simulator, command)
                            if isinstance(command, dict)
                            else {"ok": False, "error": "expected an object"}
                        )
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(on_client, host, port, limit=8 * 1024 * 1024)


async def send_command(host: str, port: int, command: dict[str, object]) -> dict[str, object]:
    """Client side, for tests and the benchmark."""
    reader, writer = await asyncio.open_connection(host, port, limit=64 * 1024 * 1024)
    try:
        writer.write(json.dumps(command).encode() + b"\n")
        await writer.drain()
        answer = json.loads(await reader.readline())
    finally:
        writer.close()
    if not isinstance(answer, dict):
        raise SimulatorError("control socket answered with a non-object")
    return answer
