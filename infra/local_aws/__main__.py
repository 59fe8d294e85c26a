"""``python -m local_aws serve|up``: the AWS stand-in on this machine, no AWS account."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .keepalive import DEFAULT_IDLE_TIMEOUT_S
from .resources import StackNames, provision
from .server import make_standin_server
from .stack import DEFAULT_REGION, endpoint_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_aws", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve moto behind the no-Scan guard (foreground)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument(
        "--conflict-rate",
        type=float,
        default=0.0,
        help="share of DynamoDB transactions to cancel with TransactionConflict (0..1)",
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT_S,
        help="seconds a kept-alive connection may sit idle before the stand-in closes it",
    )
    up = sub.add_parser("up", help="serve, create every resource, seed demo data, write env file")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=5000)
    up.add_argument("--stage", default="local")
    up.add_argument("--env-file", type=Path, default=Path(".local/stack.env"))
    up.add_argument("--no-seed", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "serve":
        if not 0.0 <= args.conflict_rate < 1.0:
            parser.error("--conflict-rate must be in [0, 1)")
        if not args.idle_timeout > 0:
            parser.error("--idle-timeout must be a positive number of seconds")
        _serve_until_signal(
            make_standin_server(args.host, args.port, args.conflict_rate, args.idle_timeout)
        )
        return 0
    server = make_standin_server(args.host, args.port)

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://{args.host}:{args.port}"
    os.environ.update(endpoint_env(endpoint, DEFAULT_REGION))
    resources = provision(StackNames(args.stage), DEFAULT_REGION)
    env = {**endpoint_env(endpoint, DEFAULT_REGION), **resources.function_env()}
    summary: dict[str, object] = {"endpoint": endpoint}
    if not args.no_seed:
        from .seed import seed_demo

        os.environ.update(env)
        summary["demo"] = seed_demo(resources)
    args.env_file.parent.mkdir(parents=True, exist_ok=True)
    args.env_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
    print(json.dumps(summary, indent=2), flush=True)
    print(f"AWS stand-in ready at {endpoint}; environment in {args.env_file}", flush=True)
    _wait_for_signal()
    server.shutdown()
    return 0


def _serve_until_signal(server: object) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.serve_forever()  # type: ignore[attr-defined]


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


if __name__ == "__main__":
    sys.exit(main())
