"""The ``--meters`` specification: which devices sit on the simulated bus.

Grammar (comma-separated entries)::

    <profile>:<address>[-<last address>][@<relay module address>/<channel>]

``sdm120:1-4,dds238:5-8,relay_module:101`` puts four SDM120s at 1..4, four DDS238s at
5..8 and a relay module at 101; meters without a relay of their own are paired with the
relay modules' channels in address order unless an entry names ``@module/channel``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meter_gateway.errors import SimulatorError

MAX_DEVICES = 247
_ENTRY = re.compile(
    r"^(?P<profile>[a-z0-9_]{1,32}):(?P<first>\d{1,3})(?:-(?P<last>\d{1,3}))?"
    r"(?:@(?P<module>\d{1,3})/(?P<channel>\d{1,2}))?$"
)


@dataclass(frozen=True)
class DeviceSpec:
    address: int
    profile: str
    relay_module: int | None = None
    channel: int | None = None


def parse_meter_spec(text: str) -> list[DeviceSpec]:
    devices: list[DeviceSpec] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if not match:
            raise SimulatorError(
                f"meter spec entry {entry!r}: expected profile:address[-last][@module/channel]"
            )
        first = int(match["first"])
        last = int(match["last"] or first)
        if not 1 <= first <= last <= MAX_DEVICES:
            raise SimulatorError(f"meter spec entry {entry!r}: addresses must be 1..247, ascending")
        module = int(match["module"]) if match["module"] else None
        channel = int(match["channel"]) if match["channel"] else None
        if module is not None and first != last:
            raise SimulatorError(f"meter spec entry {entry!r}: @module/channel needs one address")
        devices.extend(
            DeviceSpec(a, match["profile"], module, channel) for a in range(first, last + 1)
        )
    addresses = [device.address for device in devices]
    if len(set(addresses)) != len(addresses):
        raise SimulatorError("meter spec: an address is used twice")
    if len(devices) > MAX_DEVICES:
        raise SimulatorError(f"meter spec: more than {MAX_DEVICES} devices")
    return devices


def mixed_bus_spec(meter_count: int, channels_per_module: int = 8) -> list[DeviceSpec]:
    """Half SDM120 (on relay module channels), half DDS238, modules at 101 and up."""
    if not 1 <= meter_count <= 200:
        raise SimulatorError("meter_count must be within 1..200")
    sdm_count = meter_count // 2
    devices = [
        DeviceSpec(
            address,
            "sdm120",
            101 + (address - 1) // channels_per_module,
            (address - 1) % channels_per_module,
        )
        for address in range(1, sdm_count + 1)
    ]
    devices += [DeviceSpec(address, "dds238") for address in range(sdm_count + 1, meter_count + 1)]
    module_count = -(-sdm_count // channels_per_module)
    devices += [DeviceSpec(101 + i, "relay_module") for i in range(module_count)]
    return devices
