"""make run refuses, before it starts anything, a port another process listens on: a
second `make run` (or one that did not stop) used to start a stand-in that could not
bind, then seed the other run's stand-in and die in a traceback
(LedgerEntryConflictError on the demo's first top-up)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_aws.stack import free_port
from local_run.system import LocalSystem, PortsInUseError, SystemOptions, ports_in_use

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        yield int(held.getsockname()[1])


def test_a_port_someone_listens_on_is_named_and_a_free_one_is_not(listening: int) -> None:
    free = free_port()
    assert ports_in_use([("AWS stand-in", listening), ("API", free)]) == [
        f"AWS stand-in {listening}"
    ]


def test_the_system_refuses_to_start_on_a_taken_port_and_starts_nothing(
    listening: int, tmp_path: Path
) -> None:
    # GIVEN a system asked for a simulated bus port something already listens on
    system = LocalSystem(SystemOptions(state_dir=tmp_path, bus_ports=(listening,)))
    seeded: list[object] = []
    # WHEN it starts  THEN it refuses, naming the port and what to do
    with pytest.raises(PortsInUseError, match=f"simulated bus {listening}.*Another `make run`"):
        system.start(lambda resources: seeded.append(resources))  # type: ignore[arg-type, return-value]
    # and neither the stand-in nor the seed ran
    assert system.stack._proc is None
    assert seeded == []


def test_make_runs_entry_point_says_so_and_exits_without_a_traceback(listening: int) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            str(REPO / d) for d in ("functions", "greengrass_component", "infra", ".")
        ),
    }
    ran = subprocess.run(
        [sys.executable, "-m", "local_run", "--aws-port", str(listening), "--no-wait"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2, ran.stderr
    assert f"!! cannot start: already in use: AWS stand-in {listening}" in ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout
