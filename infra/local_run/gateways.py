"""Turn the seeded catalogue into what runs in a building: one simulated bus
and one gateway component (MQTT over TLS with its thing's certificate) per gateway.

The gateway configuration has the shape of the component recipe's
configuration; the simulator's meters start at the readings the tenancies
were opened with, so the cloud's first reading continues the records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.data.catalogue import Catalogue
from chalicelib.data.models import Gateway, Meter
from local_aws import demo_data
from local_iot.pki import DeviceCredentials

POLL_INTERVAL_MS = 5_000
OFFLINE_AFTER_MS = 60_000


@dataclass(frozen=True)
class LocalGateway:
    gateway: Gateway
    meters: tuple[Meter, ...]
    modbus_port: int
    control_port: int
    # Per bus, so one building can run faster than another (the end-to-end tier).
    poll_interval_ms: int = POLL_INTERVAL_MS
    offline_after_ms: int = OFFLINE_AFTER_MS
    time_scale: float | None = None  # None: the system's
    mqtt_port: int | None = None  # None: the broker's; a test may put a cuttable link between

    @property
    def name(self) -> str:
        return str(self.gateway.gateway_id)

    def simulator_spec(self) -> str:
        entries: list[str] = []
        modules: set[int] = set()
        for meter in self.meters:
            relay = meter.relay or {}
            if relay.get("profile") == "relay_module":
                modules.add(int(relay["address"]))
                entries.append(
                    f"{meter.profile}:{int(meter.bus_address)}@{relay['address']}/{relay['channel']}"
                )
            else:
                entries.append(f"{meter.profile}:{int(meter.bus_address)}")
        entries += [f"relay_module:{address}" for address in sorted(modules)]
        return ",".join(entries)

    def initial_kwh(self) -> str:
        return ",".join(
            f"{int(m.bus_address)}={m.last_kwh}" for m in self.meters if m.last_kwh is not None
        )

    def config(
        self, state_dir: Path, mqtt_port: int, credentials: DeviceCredentials
    ) -> dict[str, Any]:
        meters = []
        for meter in self.meters:
            entry: dict[str, Any] = {
                "meter_id": meter.meter_id,
                "address": int(meter.bus_address),
                "profile": meter.profile,
            }
            if meter.relay:
                entry["relay"] = {
                    "address": int(meter.relay["address"]),
                    "profile": meter.relay["profile"],
                    "channel": int(meter.relay.get("channel", 0)),
                }
            meters.append(entry)
        thing = str(self.gateway.thing_name)
        return {
            "thing_name": thing,
            "poll_interval_ms": self.poll_interval_ms,
            "state_dir": str(state_dir / "state"),
            "bus": {
                "transport": "tcp",
                "host": "127.0.0.1",
                "tcp_port": self.modbus_port,
                "timeout_ms": 300,
                "retries": 1,
                "backoff_ms": 50,
                "inter_frame_delay_ms": 0,
                "offline_after_failures": 3,
            },
            "meters": meters,
            "spool": {"path": str(state_dir / "spool.sqlite3")},
            "cloud": {
                "transport": "mqtt",
                "mqtt": {
                    # TLS with the thing's certificate, as against AWS IoT Core; the name
                    # is the one in the local broker's certificate.
                    "host": "localhost",
                    "port": self.mqtt_port or mqtt_port,
                    "tls": True,
                    "cert_path": str(credentials.cert_path),
                    "key_path": str(credentials.key_path),
                    "ca_path": str(credentials.ca_path),
                    # Retry about as often as it polls: a restored link is used within a
                    # few cycles (make run's 5 s polling keeps the component's defaults).
                    "min_reconnect_delay_ms": min(500, self.poll_interval_ms),
                    "max_reconnect_delay_ms": max(1_000, min(30_000, self.poll_interval_ms * 6)),
                },
                "offline_after_ms": self.offline_after_ms,
            },
        }

    def write_config(self, state_dir: Path, mqtt_port: int, credentials: DeviceCredentials) -> Path:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / "gateway.json"
        config = self.config(state_dir, mqtt_port, credentials)
        path.write_text(json.dumps(config, indent=2) + "\n")
        return path


def bus_lines(gateways: Iterable[LocalGateway]) -> list[str]:
    """What is on each simulated bus, for the banner and docs/local-iot.md: the Modbus
    TCP port a tool can poll, the simulator's control port, and each meter by address,
    model and the unit it measures."""
    names = {str(u[2]): str(u[3]) for u in demo_data.UNITS}
    lines = []
    for gw in gateways:
        lines.append(
            f"{gw.name} ({gw.gateway.property_id}): Modbus TCP 127.0.0.1:{gw.modbus_port}, "
            f"simulator control 127.0.0.1:{gw.control_port}"
        )
        for meter in sorted(gw.meters, key=lambda m: int(m.bus_address)):
            what = (
                f"{names.get(str(meter.unit_id), meter.unit_id)} ({meter.unit_id})"
                if meter.unit_id
                else "the building's main meter"
            )
            relay = meter.relay or {}
            switch = (
                f", relay module {relay['address']} channel {relay['channel']}"
                if relay.get("profile") == "relay_module"
                else ""
            )
            lines.append(
                f"  address {int(meter.bus_address):>3}  {meter.profile:<8} {what}{switch}"
            )
    return lines


def demo_gateways(first_modbus_port: int, first_control_port: int) -> list[LocalGateway]:
    ids = [(spec["company_id"], spec["gateway_id"]) for spec in demo_data.GATEWAYS]
    return [
        LocalGateway(gw, meters, first_modbus_port + i, first_control_port + i)
        for i, (gw, meters) in enumerate(load_buses(ids))
    ]


def load_buses(ids: Iterable[tuple[str, str]]) -> list[tuple[Gateway, tuple[Meter, ...]]]:
    """Each (company, gateway) with its meters, as the catalogue holds them."""
    catalogue = Catalogue()
    return [
        (
            catalogue.get_gateway(company_id, gateway_id),
            tuple(catalogue.list_meters_of_gateway(company_id, gateway_id)),
        )
        for company_id, gateway_id in ids
    ]
