"""Run Debian's mosquitto on a loopback port with a generated config, and follow its log."""

from __future__ import annotations

import getpass
import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .broker_log import BrokerEvent, parse_line
from .errors import BrokerStartError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
MAX_QUEUED_MESSAGES = 10_000  # per client: a device offline for a day at 1-minute polls fits
MAX_PACKET_BYTES = 128 * 1024  # AWS IoT's MQTT message limit


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(found).exists():
        raise BrokerStartError("mosquitto is not installed (apt-get install mosquitto)")
    return found


def mosquitto_config(port: int, workdir: Path) -> str:
    return "".join(
        line + "\n"
        for line in (
            f"listener {port} 127.0.0.1",
            "allow_anonymous true",
            # As root mosquitto would switch to user 'mosquitto'; stay whoever runs us.
            f"user {getpass.getuser()}",
            # Sessions are kept across client reconnects, but not across broker restarts:
            # the local stack starts clean, like moto.
            "persistence false",
            f"max_queued_messages {MAX_QUEUED_MESSAGES}",
            f"message_size_limit {MAX_PACKET_BYTES}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_type debug",  # the only level that names who sent each PUBLISH
            "connection_messages true",
            "log_timestamp true",
            "log_timestamp_format %s",
        )
    )


class Mosquitto:
    """A mosquitto child process; ``on_event`` gets every parsed log event, in order."""

    def __init__(
        self,
        port: int,
        workdir: Path,
        on_event: Callable[[BrokerEvent], None],
        log_path: Path | None = None,
    ) -> None:
        self.port = port
        self.workdir = workdir
        self._on_event = on_event
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(mosquitto_config(self.port, self.workdir))
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, our generated config
            [find_mosquitto(), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._reader = threading.Thread(target=self._follow_log, name="mosquitto-log", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerStartError(
                    f"mosquitto exited with code {self._proc.returncode} (port {self.port} taken?)"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerStartError(f"mosquitto did not listen on {self.port} in {START_TIMEOUT_S} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=STOP_TIMEOUT_S)
            self._reader = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _follow_log(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        sink = open(self._log_path, "ab") if self._log_path else None  # noqa: SIM115
        try:
            for raw in proc.stderr:
                if sink:
                    sink.write(raw)
                    sink.flush()
                event = parse_line(raw.decode("utf-8", "replace"))
                if event is None:
                    continue
                try:
                    self._on_event(event)
                except Exception:  # a bad event must not stop presence for everyone else
                    log.exception("handling broker event %r failed", event)
        finally:
            if sink:
                sink.close()
