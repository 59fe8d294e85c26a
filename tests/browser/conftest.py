"""The browser tier: real headless Chromium (Debian's /usr/bin/chromium driven
by Playwright) against the app served as API Gateway serves it
(``local_run.api_gateway``: chalice's local server, under the stage and at the
root) on the AWS stand-in with the demo portfolio. Every test runs twice: under
the stage prefix (``/api``, the deployed URL) and at the root (a custom domain).
Fails, never skips, when Chromium is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_aws.processes import die_with_parent
from local_aws.seed import seed_demo
from local_aws.stack import LocalStack, free_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = os.environ.get("POWERLET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_READY_TIMEOUT_S = 60.0


# The deployed URL ends in the API Gateway stage; a custom domain serves the root.
MOUNTS = {"stage": "/api", "root": ""}


@dataclass(frozen=True)
class Portal:
    origin: str  # http://127.0.0.1:<port>
    mount: str  # "/api" or ""
    # The stand-in's environment (endpoints, table, user pool), for a test that puts data
    # in through the app's own handlers, as the IoT rule would.
    env: dict[str, str]

    @property
    def url(self) -> str:
        """Where the portal is: every page path goes after this."""
        return f"{self.origin}{self.mount}"


# Module scope: Playwright's sync API keeps an event loop running on the main
# thread while it is open, which would break asyncio.run() in later tiers.
@pytest.fixture(scope="module", params=sorted(MOUNTS), ids=sorted(MOUNTS))
def portal(request: pytest.FixtureRequest) -> Iterator[Portal]:
    """A fresh stand-in and server per mount: the tests change the demo data."""
    ARTIFACTS.mkdir(exist_ok=True)
    saved = dict(os.environ)
    stack = LocalStack()
    resources = stack.start(log_path=ARTIFACTS / "browser-aws-standin.log")
    try:
        seed_demo(resources)
        with served(stack, MOUNTS[request.param]) as portal:
            yield portal
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def served(stack: LocalStack, mount: str) -> Iterator[Portal]:
    """The app on chalice's local server against ``stack``, the pages under ``mount``."""
    port = free_port()
    env = {
        **os.environ,
        **stack.env(),
        "POWERLET_STAGE": "local",
        "POWERLET_COOKIE_SECURE": "0",  # plain-http localhost only
        "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO / "infra"), str(REPO)]),
    }
    log = open(ARTIFACTS / "browser-api.log", "ab")  # noqa: SIM115
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_run.api_gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--stage",
            "local",
        ],
        cwd=REPO / "functions",
        preexec_fn=die_with_parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        origin = f"http://127.0.0.1:{port}"
        _wait_ready(f"{origin}{mount}/health", api)
        yield Portal(origin, mount, stack.env())
    finally:
        api.terminate()
        try:
            api.wait(timeout=10)
        except subprocess.TimeoutExpired:
            api.kill()
            api.wait()
        log.close()


@pytest.fixture(scope="module")
def portal_url(portal: Portal) -> str:
    return portal.url


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + API_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the local API exited ({proc.returncode}); see browser-api.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {API_READY_TIMEOUT_S}s")


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (make setup)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
