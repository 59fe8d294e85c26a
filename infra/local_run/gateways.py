"""Turn the seeded catalogue into what runs in a building: one simulated bus
and one gateway component (plain-MQTT mode) per gateway.

The gateway configuration has the shape of the component recipe's
configuration; the simulator's meters start at the readings the tenancies
were opened with, so the cloud's first reading continues the records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.data.catalogue import Catalogue
from chalicelib.data.models import Gateway, Meter
from local_aws import demo_data

POLL_INTERVAL_MS = 5_000


@dataclass(frozen=True)
class LocalGateway:
    gateway: Gateway
    meters: tuple[Meter, ...]
    modbus_port: int
    control_port: int

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

    def config(self, state_dir: Path, mqtt_port: int) -> dict[str, Any]:
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
            "poll_interval_ms": POLL_INTERVAL_MS,
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
                "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": thing},
                "offline_after_ms": 60_000,
            },
        }

    def write_config(self, state_dir: Path, mqtt_port: int) -> Path:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / "gateway.json"
        path.write_text(json.dumps(self.config(state_dir, mqtt_port), indent=2) + "\n")
        return path


def demo_gateways(first_modbus_port: int, first_control_port: int) -> list[LocalGateway]:
    catalogue = Catalogue()
    out = []
    for index, spec in enumerate(demo_data.GATEWAYS):
        gateway = catalogue.get_gateway(spec["company_id"], spec["gateway_id"])
        meters = tuple(catalogue.list_meters_of_gateway(spec["company_id"], spec["gateway_id"]))
        out.append(
            LocalGateway(gateway, meters, first_modbus_port + index, first_control_port + index)
        )
    return out
