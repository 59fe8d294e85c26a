"""`python -m meter_gateway --config file.json` (local stack) or `--greengrass` (on a core device).

With --greengrass the configuration is the component's own (IPC GetConfiguration), so the
recipe's ComponentConfiguration and the JSON file have one shape and one validator.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

from meter_gateway.config import GatewayConfig, load_config, parse_config
from meter_gateway.enforcement import RelayStateStore
from meter_gateway.errors import ConfigError, GatewayError, StateStoreError
from meter_gateway.spool import Spool
from meter_gateway.transport.base import CloudTransport

log = logging.getLogger("meter_gateway")

EXIT_CONFIG = 2
EXIT_FAILURE = 1
RELAY_STATE_FILE = "relay_state.json"
ACCESS_CONTROL_KEY = "accessControl"
# pymodbus logs every time-out and bad frame at ERROR. The bus counts the same events per
# meter (telemetry `dg`) and the service logs a meter going silent and coming back once, so
# at INFO a dead meter would otherwise write a line per probe for as long as it is dead.
# At DEBUG its warnings and errors help to diagnose a bus; its frame dumps never do.
LIBRARY_LOG_LEVELS: dict[str, dict[str, int]] = {
    "DEBUG": {"pymodbus": logging.WARNING},
    "INFO": {"pymodbus": logging.CRITICAL},
    "WARNING": {"pymodbus": logging.CRITICAL},
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m meter_gateway", description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", type=Path, help="JSON configuration file")
    source.add_argument(
        "--greengrass", action="store_true", help="read the component configuration over IPC"
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return parser


def _greengrass_config() -> GatewayConfig:
    from meter_gateway.transport.ipc import read_component_configuration

    raw: Any = read_component_configuration()
    if isinstance(raw, dict):
        # Greengrass keeps the IPC authorisation policies in the same configuration tree.
        raw = {key: value for key, value in raw.items() if key != ACCESS_CONTROL_KEY}
    return parse_config(raw, source="component configuration")


def load_relay_state(path: Path) -> RelayStateStore:
    """The persisted relay state; a damaged file is set aside rather than crash-looping.

    Without it the gateway knows no cutoff until the cloud answers, so it does not cut: the
    safe side for the tenant.
    """
    store = RelayStateStore(path)
    try:
        store.load()
    except StateStoreError:
        aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
        log.exception("relay state unreadable; moved to %s, starting without it", aside)
        path.rename(aside)
        store = RelayStateStore(path)
    return store


def make_transport(config: GatewayConfig, thing_name: str) -> CloudTransport:
    if config.cloud.transport == "mqtt":
        from meter_gateway.transport.mqtt import MqttTransport

        return MqttTransport(config.cloud.mqtt, thing_name)
    from meter_gateway.transport.ipc import IpcTransport

    return IpcTransport(thing_name)


async def run(config: GatewayConfig) -> None:
    from meter_gateway.bus import open_bus
    from meter_gateway.service import GatewayService

    thing_name = config.resolved_thing_name()
    store = load_relay_state(Path(config.state_dir) / RELAY_STATE_FILE)
    spool = Spool.open_or_recover(
        config.spool.path, max_cycles=config.spool.max_cycles, max_bytes=config.spool.max_bytes
    )
    library = config.profile_library()
    service = GatewayService(
        config,
        thing_name=thing_name,
        bus=open_bus(config.bus, library),
        profile_versions=library.versions(config.profile_names()),
        meters=config.meter_configs(),
        transport=make_transport(config, thing_name),
        spool=spool,
        store=store,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("gateway %s: %d meters, spool %s", thing_name, len(config.meters), spool.path)
    await service.run(stop)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name, library_level in LIBRARY_LOG_LEVELS[level].items():
        logging.getLogger(name).setLevel(library_level)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        config = _greengrass_config() if args.greengrass else load_config(args.config)
        config.resolved_thing_name()
    except ConfigError as exc:
        print(f"meter_gateway: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        asyncio.run(run(config))
    except GatewayError:
        log.exception("gateway stopped on an error")
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":
    sys.exit(main())
