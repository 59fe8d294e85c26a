"""Start the stand-in as a child process and provision it; used by tests and ``make run``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .processes import die_with_parent
from .resources import ProvisionedStack, StackNames, provision

DEFAULT_REGION = "ap-northeast-1"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def endpoint_env(endpoint: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """Everything a process needs to reach the stand-in instead of AWS.

    Dummy credentials because moto's server mode still wants signed requests;
    the endpoint variables are botocore's standard ones, so no code path differs
    from AWS.
    """
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


class LocalStack:
    """A moto server in a child process, provisioned with every resource."""

    def __init__(
        self,
        port: int | None = None,
        stage: str = "local",
        region: str = DEFAULT_REGION,
        conflict_rate: float = 0.0,
    ):
        self.conflict_rate = conflict_rate
        self.port = port or free_port()
        self.region = region
        self.names = StackNames(stage)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._saved_env: dict[str, str | None] = {}
        self.resources: ProvisionedStack | None = None

    def start(self, log_path: Path | None = None) -> ProvisionedStack:
        here = Path(__file__).resolve().parent
        child_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(_import_roots(here)),
            # ACM issues a DNS-validated certificate once the CNAME is seen: here after a
            # second (moto's default, 60 s, would make every domain test wait a minute).
            "MOTO_ACM_VALIDATION_WAIT": "1",
        }
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
            [
                sys.executable,
                "-m",
                "local_aws",
                "serve",
                "--port",
                str(self.port),
                "--conflict-rate",
                str(self.conflict_rate),
            ],
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        self._wait_ready()
        # This process's boto3 clients reach the stand-in through the standard
        # endpoint variables; stop() puts back what was there before, so a
        # second, short-lived stack cannot leave the process pointing at a
        # dead endpoint.
        self._saved_env = {key: os.environ.get(key) for key in self.env()}
        os.environ.update(self.env())
        self.resources = provision(self.names, self.region)
        # The reseller API in this process deploys to gateways with the component version
        # the stand-in now holds (read from the environment, as the Lambda reads it).
        # So does its brand-domain flow, with the stand-in's API (application/custom_domains.py).
        from chalicelib.application.reseller.config import ENV_COMPONENT_VERSION, ENV_REST_API_ID

        for name, value in (
            (ENV_COMPONENT_VERSION, self.resources.component_version),
            (ENV_REST_API_ID, self.resources.rest_api_id),
        ):
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        return self.resources

    def env(self) -> dict[str, str]:
        env = endpoint_env(self.endpoint, self.region)
        if self.resources:
            env.update(self.resources.function_env())
        return env

    def guard_stats(self) -> dict[str, object]:
        """Refused Scans (with callers) and injected transaction conflicts."""
        url = f"{self.endpoint}/_powerlet/scans"
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback
            return dict(json.load(resp))

    def sent_messages(self) -> dict[str, list[dict[str, object]]]:
        """E-mails and SMS the stand-in accepted (see ``local_aws.sent_messages``)."""
        url = f"{self.endpoint}/_powerlet/sent"
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback
            return dict(json.load(resp))

    def cloudtrail_events(self, after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """What CloudTrail would have sent EventBridge about the Cognito calls after the
        ``after``-th, and the count so far (see ``local_aws.cloudtrail_events``)."""
        url = f"{self.endpoint}/_powerlet/cloudtrail?after={after}"
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback
            answer = json.load(resp)
        return list(answer["events"]), int(answer["last"])

    def peak_rss_mb(self) -> float | None:
        """The stand-in process's peak resident memory so far (Linux), for the soak's report."""
        if self._proc is None or self._proc.poll() is not None:
            return None
        try:
            status = Path(f"/proc/{self._proc.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def stop(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc and self._proc.poll() is not None:
                raise RuntimeError(f"the AWS stand-in exited with code {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"the AWS stand-in did not listen on {self.port} in {START_TIMEOUT_S}s")

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _import_roots(here: Path) -> list[str]:
    repo = here.parent.parent
    roots = [str(repo / "functions"), str(repo / "infra"), str(repo)]
    existing = os.environ.get("PYTHONPATH")
    return roots + ([existing] if existing else [])


def apply_env(env: Mapping[str, str]) -> None:
    os.environ.update(env)
