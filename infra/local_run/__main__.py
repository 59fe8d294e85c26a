"""``make run``: the whole system on this machine, in the foreground, until Ctrl-C.

What starts, in order, is ``local_run.system.LocalSystem``; this module adds
the demo portfolio, the ports people expect, the banner and the wait.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from local_aws import demo_data
from local_aws.demo_history import seed_history
from local_aws.resources import ProvisionedStack
from local_aws.seed import seed_demo

from .gateways import bus_lines, demo_gateways
from .system import STEPS, LocalSystem, PortsInUseError, Seeded, SystemOptions

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".local"


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

    STATE.mkdir(parents=True, exist_ok=True)
    system = LocalSystem(
        SystemOptions(
            state_dir=STATE,
            aws_port=args.aws_port,
            api_port=args.api_port,
            mqtt_port=args.mqtt_port,
            shadow_port=args.shadow_port,
            time_scale=args.time_scale,
            # each demo bus's simulator and its control port (demo_gateways)
            bus_ports=tuple(
                port
                for i in range(len(demo_data.GATEWAYS))
                for port in (args.modbus_port + i, args.modbus_port + 100 + i)
            ),
        ),
        progress=_step,
    )

    def seed(resources: ProvisionedStack) -> Seeded:
        info = seed_demo(resources, time_scale=args.time_scale)
        began = time.monotonic()
        past = seed_history(resources)
        print(
            f"       and its past since {past.started}: {past.messages} bus messages through "
            f"the real ingest ({past.held} held for review), {past.top_ups} top-ups, "
            f"{past.power_changes} power changes, bills for {', '.join(past.bills) or 'none'} "
            f"({time.monotonic() - began:.1f} s)",
            flush=True,
        )
        return Seeded(info, demo_gateways(args.modbus_port, args.modbus_port + 100))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        try:
            system.start(seed)
        except PortsInUseError as exc:
            print(f"!! cannot start: {exc}", file=sys.stderr, flush=True)
            return 2
        assert system.seeded is not None
        meter_count = sum(len(g.meters) for g in system.gateways)
        _print_banner(args, system, meter_count)
        print(f">> started in {system.started_in_s:.1f} s", flush=True)
        while not args.no_wait and not stop.wait(1.0):
            dead = system.supervisor.exited()
            if dead:
                for child in dead:
                    print(
                        f"!! {child.name} exited ({child.proc.returncode}); see {child.log_path}",
                        flush=True,
                    )
                return 1
    finally:
        print(">> stopping", flush=True)
        system.stop()
        print(">> stopped; no process left behind", flush=True)
    return 0


def _print_banner(args: argparse.Namespace, system: LocalSystem, meters: int) -> None:
    assert system.seeded is not None
    demo: dict[str, object] = system.seeded.info
    gws = len(system.gateways)
    api = system.api_url
    buses = "\n".join(f"                  {line}" for line in bus_lines(system.gateways))
    logins = ", ".join(str(x["email"]) for x in demo["logins"])  # type: ignore[attr-defined]
    print(
        f"""
Powerlet is running locally (no AWS account).
  Portal          {api}/signin  (staff)   {api}/tenant/signin  (tenants)
  Under the stage {api}/api/signin  (the deployed URL's shape: https://<api>/api/)
  Branded portals http://formosa.localhost:{system.api_port}/signin   http://thames.localhost:{system.api_port}/signin
  Demo password   {demo["password"]}
  Logins          {logins}
  Reseller API    key {demo.get("reseller_api_key", "-")}  (shown once; docs/brands.md)
  API token       TOKEN=$(make -s token USER=landlord@formosa.example)
                  curl -H "Authorization: Bearer $TOKEN" {api}/v1/me
  Buildings       {gws} gateways, {meters} simulated meters (time x{args.time_scale:g}):
{buses}
  MQTT devices    mqtts://localhost:{system.mqtt_port} (client certificate of {STATE / "iot-pki" / "ca.pem"}; IoT policies enforced)
  AWS stand-in    http://127.0.0.1:{system.aws_port}
  Logs            .local/logs/
Ctrl-C stops everything.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
