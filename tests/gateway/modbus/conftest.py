"""Shared helpers of the Modbus-side tests: free loopback ports, a socat pty pair."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tcp_port() -> int:
    return free_tcp_port()


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two linked pseudo-terminals (a null-modem cable): (gateway end, simulator end)."""
    socat = shutil.which("socat")
    assert socat, "socat must be installed for the RTU tests"
    gateway_end = tmp_path / "gw.tty"
    meter_end = tmp_path / "meters.tty"
    process = subprocess.Popen(
        [
            socat,
            "-d",
            "-d",
            f"pty,raw,echo=0,link={gateway_end}",
            f"pty,raw,echo=0,link={meter_end}",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 5
        while not (gateway_end.exists() and meter_end.exists()):
            assert process.poll() is None, "socat exited early"
            assert time.monotonic() < deadline, "socat did not create the pty pair"
            time.sleep(0.02)
        yield os.fspath(gateway_end), os.fspath(meter_end)
    finally:
        process.terminate()
        process.wait(timeout=5)


def pts_name(link: str) -> str:
    """The /dev/pts/N a socat link points at (what the CLI prints)."""
    target = os.path.realpath(link)
    assert re.match(r"^/dev/pts/\d+$", target), target
    return target
