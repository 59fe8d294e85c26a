"""Run the local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from local_aws.processes import die_with_parent
from local_aws.seed import seed_demo
from local_aws.stack import LocalStack

REPO = Path(__file__).resolve().parents[2]
API_READY_TIMEOUT_S = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_run", description=__doc__)
    parser.add_argument(
        "--aws-port", type=int, default=int(os.environ.get("POWERLET_AWS_PORT", 5010))
    )
    parser.add_argument(
        "--api-port", type=int, default=int(os.environ.get("POWERLET_API_PORT", 8000))
    )
    parser.add_argument("--no-wait", action="store_true", help="start, check, print, then stop")
    args = parser.parse_args(argv)

    state_dir = REPO / ".local"
    state_dir.mkdir(exist_ok=True)
    print(f">> starting the AWS stand-in (moto) on 127.0.0.1:{args.aws_port}", flush=True)
    stack = LocalStack(port=args.aws_port)
    resources = stack.start(log_path=state_dir / "aws-standin.log")
    print(">> seeding demo data", flush=True)
    demo = seed_demo(resources)
    env = {**os.environ, **stack.env()}
    (state_dir / "stack.env").write_text(
        "".join(f"{k}={v}\n" for k, v in sorted(stack.env().items()))
    )

    print(f">> starting the API (chalice local) on 127.0.0.1:{args.api_port}", flush=True)
    api_log = open(state_dir / "api.log", "ab")  # noqa: SIM115 - lives as long as the process
    api = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(Path(sys.executable).with_name("chalice")),
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.api_port),
            "--stage",
            "local",
        ],
        cwd=REPO / "functions",
        env=env,
        stdout=api_log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    children = [api]
    try:
        _wait_http(f"http://127.0.0.1:{args.api_port}/health", api)
        _print_banner(args, demo, resources.user_pool_id, resources.user_pool_client_id)
        if not args.no_wait:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            while not stop.wait(1.0):
                if api.poll() is not None:
                    print(f"!! the API exited ({api.returncode}); see .local/api.log", flush=True)
                    return 1
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        stack.stop()
        print(">> stopped", flush=True)
    return 0


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + API_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} process exited with {proc.returncode}; see .local/")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {API_READY_TIMEOUT_S}s")


def _print_banner(
    args: argparse.Namespace, demo: dict[str, object], pool: str, client: str
) -> None:
    api = f"http://127.0.0.1:{args.api_port}"
    logins = ", ".join(str(x["email"]) for x in demo["logins"])  # type: ignore[attr-defined]
    print(
        f"""
Powerlet is running locally (no AWS account).
  API            {api}   (try {api}/health)
  AWS stand-in   http://127.0.0.1:{args.aws_port}   (environment in .local/stack.env)
  User pool      {pool}  app client {client}
  Demo password  {demo["password"]}
  Logins         {logins}
  Sign in        TOKEN=$(make -s token USER=tenant@formosa.example)
                 curl -H "Authorization: Bearer $TOKEN" {api}/v1/me
Ctrl-C stops everything.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
