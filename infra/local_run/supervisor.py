"""Start, watch and stop the local stack's child processes.

Every child is started with ``die_with_parent`` so nothing outlives ``make
run``, even if it is killed; ``stop_all`` terminates them in reverse order and
kills what does not stop within a bound.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from local_aws.processes import die_with_parent

STOP_TIMEOUT_S = 10.0


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path


@dataclass
class Supervisor:
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path | None = None,
    ) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - handed to the child for its lifetime
        proc = subprocess.Popen(  # noqa: S603 - argv built by this package, no shell
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def exited(self) -> list[Child]:
        return [c for c in self.children if c.proc.poll() is not None]

    def stop(self, child: Child) -> None:
        """Stop one child (bounded) and forget it."""
        if child.proc.poll() is None:
            child.proc.terminate()
            try:
                child.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        self.children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in reversed(self.children):
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()


def wait_until(what: str, ready: Callable[[], bool], child: Child, timeout_s: float) -> None:
    """Poll ``ready`` until true; fail early, naming the log, if the child died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(
                f"{child.name} exited with {child.proc.returncode} before {what}; "
                f"see {child.log_path}"
            )
        if ready():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready within {timeout_s:.0f}s; see {child.log_path}")


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
                return bool(resp.status == 200)
        except OSError:
            return False

    return check


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}
