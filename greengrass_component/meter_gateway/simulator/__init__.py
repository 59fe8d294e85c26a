"""Meter simulator: N meters of the shipped profiles served over Modbus TCP or RTU.

Usable in-process by tests (``MeterSimulator``, asyncio) and as a process by the local
stack (``python -m meter_gateway.simulator``).
"""

from meter_gateway.simulator.clock import ManualClock, ScaledClock, SimClock
from meter_gateway.simulator.meters import SimulatedMeter, SimulatedRelayModule
from meter_gateway.simulator.server import MeterSimulator, RequestRecord
from meter_gateway.simulator.spec import DeviceSpec, mixed_bus_spec, parse_meter_spec

__all__ = [
    "DeviceSpec",
    "ManualClock",
    "MeterSimulator",
    "RequestRecord",
    "ScaledClock",
    "SimClock",
    "SimulatedMeter",
    "SimulatedRelayModule",
    "mixed_bus_spec",
    "parse_meter_spec",
]
