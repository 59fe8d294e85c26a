"""``python -m meter_gateway.simulator --tcp 127.0.0.1:5020 --meters sdm120:1-4,dds238:5-8``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from meter_gateway.errors import SimulatorError
from meter_gateway.simulator.control import serve_control
from meter_gateway.simulator.server import MeterSimulator
from meter_gateway.simulator.spec import mixed_bus_spec, parse_meter_spec


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT")
    return host, int(port)


def _initial_kwh(text: str) -> dict[int, float]:
    starts: dict[int, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        address, _, value = item.partition("=")
        try:
            starts[int(address)] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: expected ADDRESS=KWH") from None
        if not 1 <= int(address) <= 247 or starts[int(address)] < 0:
            raise argparse.ArgumentTypeError(f"{item!r}: address 1..247, kWh >= 0")
    return starts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m meter_gateway.simulator", description="Simulated Modbus meters"
    )
    serve = parser.add_mutually_exclusive_group(required=True)
    serve.add_argument("--tcp", type=_host_port, help="serve Modbus TCP on HOST:PORT (loopback)")
    serve.add_argument("--rtu", help="serve Modbus RTU on this serial port (e.g. /dev/pts/5)")
    meters = parser.add_mutually_exclusive_group(required=True)
    meters.add_argument("--meters", help="profile:address[-last][@module/channel],...")
    meters.add_argument(
        "--mixed", type=int, help="N meters: half sdm120 on relay modules, half dds238"
    )
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="simulated seconds per wall second (soaks run faster)",
    )
    parser.add_argument("--control", type=_host_port, help="control socket HOST:PORT (loopback)")
    parser.add_argument(
        "--initial-kwh",
        type=_initial_kwh,
        default={},
        help="starting import kWh per address, e.g. 1=1520.4,2=302.11 (matches a site's records)",
    )
    return parser


async def run(args: argparse.Namespace) -> None:
    devices = parse_meter_spec(args.meters) if args.meters else mixed_bus_spec(args.mixed)
    simulator = MeterSimulator(
        devices, seed=args.seed, time_scale=args.time_scale, initial_import_kwh=args.initial_kwh
    )
    if args.tcp:
        await simulator.start_tcp(*args.tcp)
    else:
        await simulator.start_rtu(args.rtu, baudrate=args.baudrate)
    control = await serve_control(simulator, *args.control) if args.control else None
    logging.getLogger(__name__).warning(
        "simulator ready: %d meters, %d relay modules",
        len(simulator.meters),
        len(simulator.relay_modules),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if control is not None:
        control.close()
    await simulator.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(run(args))
    except SimulatorError as exc:
        logging.getLogger(__name__).error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
