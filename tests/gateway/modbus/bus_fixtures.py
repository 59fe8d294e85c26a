"""Building blocks for the bus-against-simulator tests (plain helpers, no pytest magic)."""

from __future__ import annotations

from decimal import Decimal

from meter_gateway.bus import MeterConfig, MeterSample, RelayLink
from meter_gateway.simulator import DeviceSpec
from meter_gateway.simulator.meters import MeterState

# Two SDM120 on relay module 101 (channels 0 and 1), two DDS238 with their own relay.
SMALL_BUS = [
    DeviceSpec(1, "sdm120", 101, 0),
    DeviceSpec(2, "sdm120", 101, 1),
    DeviceSpec(3, "dds238"),
    DeviceSpec(4, "dds238"),
    DeviceSpec(101, "relay_module"),
]


def meter_configs(devices: list[DeviceSpec]) -> list[MeterConfig]:
    configs = []
    for device in devices:
        if device.profile == "relay_module":
            continue
        if device.relay_module is not None:
            relay = RelayLink(device.relay_module, "relay_module", device.channel or 0)
        elif device.profile == "dds238":
            relay = RelayLink(device.address, "dds238")
        else:
            relay = None
        configs.append(MeterConfig(f"m{device.address:03d}", device.address, device.profile, relay))
    return configs


# What one reading may differ from the simulator's state: the register's own resolution
# (DDS238 scaled integers) or float32 rounding (SDM120), plus the quantisation step.
TOLERANCE = {
    "sdm120": {
        "v": "0.05",
        "a": "0.001",
        "w": "0.05",
        "pf": "0.001",
        "hz": "0.005",
        "import_kwh": "0.001",
        "export_kwh": "0.001",
    },
    "dds238": {
        "v": "0.1",
        "a": "0.01",
        "w": "1",
        "pf": "0.001",
        "hz": "0.01",
        "import_kwh": "0.01",
        "export_kwh": "0.01",
    },
}


def assert_matches_state(sample: MeterSample, profile: str, state: MeterState) -> None:
    assert sample.ok, sample
    assert set(sample.values) == set(TOLERANCE[profile])
    for key, value in sample.values.items():
        expected = Decimal(state.value(key))
        allowed = Decimal(TOLERANCE[profile][key])
        assert abs(value - expected) <= allowed, (sample.meter_id, key, value, expected)
