"""``make run``: the whole system on this machine, in the foreground, until Ctrl-C.

Order: AWS stand-in -> demo data -> local IoT (broker, rules, shadows,
presence) -> simulated meter buses -> gateway components (plain MQTT) -> the
API under ``chalice local``. Everything the cloud code needs reaches it through
endpoint variables only.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from local_aws.seed import seed_demo
from local_aws.stack import LocalStack

from .gateways import demo_gateways
from .supervisor import Supervisor, http_ok, read_env_file, wait_until

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".local"
STEPS = 6
READY_TIMEOUT_S = 90.0


def _step(n: int, text: str) -> None:
    print(f">> [{n}/{STEPS}] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    env_port = os.environ.get
    parser = argparse.ArgumentParser(prog="local_run", description=__doc__)
    parser.add_argument("--aws-port", type=int, default=int(env_port("POWERLET_AWS_PORT", "5010")))
    parser.add_argument("--api-port", type=int, default=int(env_port("POWERLET_API_PORT", "8000")))
    parser.add_argument(
        "--mqtt-port", type=int, default=int(env_port("POWERLET_MQTT_PORT", "1884"))
    )
    parser.add_argument("--shadow-port", type=int, default=5081)
    parser.add_argument("--modbus-port", type=int, default=5020, help="first simulated bus")
    parser.add_argument("--time-scale", type=float, default=30.0, help="simulated s per wall s")
    parser.add_argument("--no-wait", action="store_true", help="start, check, print, then stop")
    args = parser.parse_args(argv)

    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(STATE / "logs")
    stack = LocalStack(port=args.aws_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        _step(1, f"AWS stand-in (moto) on 127.0.0.1:{args.aws_port}")
        resources = stack.start(log_path=STATE / "logs" / "aws-standin.log")
        _step(2, "demo data: companies, properties, units, meters, tenancies, logins")
        demo = seed_demo(resources)
        stack_env_file = STATE / "stack.env"
        stack_env_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(stack.env().items())))

        _step(3, f"local IoT: MQTT broker on {args.mqtt_port}, rules, shadow service, presence")
        iot_env_file = STATE / "iot.env"
        iot_env_file.unlink(missing_ok=True)
        base_env = {**os.environ, **stack.env(), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        iot = supervisor.start(
            "local-iot",
            [
                sys.executable,
                "-m",
                "local_iot",
                "--mqtt-port",
                str(args.mqtt_port),
                "--shadow-api-port",
                str(args.shadow_port),
                "--env-file",
                str(stack_env_file),
                "--write-env",
                str(iot_env_file),
            ],
            base_env,
        )
        wait_until("the local IoT", iot_env_file.exists, iot, READY_TIMEOUT_S)
        cloud_env = {**base_env, **read_env_file(iot_env_file)}

        gateways = demo_gateways(args.modbus_port, args.modbus_port + 100)
        meter_count = sum(len(g.meters) for g in gateways)
        _step(4, f"simulated meters: {len(gateways)} buses, {meter_count} meters over Modbus TCP")
        for gw in gateways:
            sim = supervisor.start(
                f"simulator-{gw.name}",
                [
                    sys.executable,
                    "-m",
                    "meter_gateway.simulator",
                    "--tcp",
                    f"127.0.0.1:{gw.modbus_port}",
                    "--meters",
                    gw.simulator_spec(),
                    "--initial-kwh",
                    gw.initial_kwh(),
                    "--time-scale",
                    str(args.time_scale),
                    "--control",
                    f"127.0.0.1:{gw.control_port}",
                ],
                base_env,
            )
            wait_until(f"simulator {gw.name}", _port_open(gw.modbus_port), sim, READY_TIMEOUT_S)

        _step(5, "gateway components in plain-MQTT mode")
        for gw in gateways:
            config = gw.write_config(STATE / "gateways" / gw.name, args.mqtt_port)
            supervisor.start(
                f"gateway-{gw.name}",
                [sys.executable, "-m", "meter_gateway", "--config", str(config)],
                base_env,
            )

        _step(6, f"API and portal (chalice local) on 127.0.0.1:{args.api_port}")
        api = supervisor.start(
            "api",
            [
                str(Path(sys.executable).with_name("chalice")),
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.api_port),
                "--stage",
                "local",
                # The reloader forks a worker the supervisor could not reach.
                "--no-autoreload",
            ],
            cloud_env,
            cwd=REPO / "functions",
        )
        wait_until(
            "the API", http_ok(f"http://127.0.0.1:{args.api_port}/health"), api, READY_TIMEOUT_S
        )
        _print_banner(args, demo, len(gateways), meter_count)

        while not args.no_wait and not stop.wait(1.0):
            dead = supervisor.exited()
            if dead:
                for child in dead:
                    print(
                        f"!! {child.name} exited ({child.proc.returncode}); see {child.log_path}",
                        flush=True,
                    )
                return 1
    finally:
        print(">> stopping", flush=True)
        supervisor.stop_all()
        stack.stop()
        print(">> stopped; no process left behind", flush=True)
    return 0


def _port_open(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    return check


def _print_banner(args: argparse.Namespace, demo: dict[str, object], gws: int, meters: int) -> None:
    api = f"http://127.0.0.1:{args.api_port}"
    logins = ", ".join(str(x["email"]) for x in demo["logins"])  # type: ignore[attr-defined]
    print(
        f"""
Powerlet is running locally (no AWS account).
  Portal and API  {api}/   (health: {api}/health)
  Demo password   {demo["password"]}
  Logins          {logins}
  API token       TOKEN=$(make -s token USER=landlord@formosa.example)
                  curl -H "Authorization: Bearer $TOKEN" {api}/v1/me
  Buildings       {gws} gateways, {meters} simulated meters (time x{args.time_scale:g})
  MQTT broker     127.0.0.1:{args.mqtt_port}    AWS stand-in http://127.0.0.1:{args.aws_port}
  Logs            .local/logs/
Ctrl-C stops everything.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
