"""Switching a relay as its profile says: read what the key needs, write, read back.

The writes are the profile's steps (any function code, any number of registers, values
computed from registers read just before). Whatever happened to the writes, the state is
read back afterwards when the profile says where: the relay's own word is the truth that
gets reported, never a guess (issue 17: a refused write was reported as ``unknown``
although the read-back showed the relay on).
"""

from __future__ import annotations

from decimal import Decimal

from meter_gateway.decode import raw_value
from meter_gateway.errors import DecodeError, ExpressionError
from meter_gateway.expressions import evaluate
from meter_gateway.modbus_link import ModbusLink
from meter_gateway.profile_model import MeterProfile, RelaySpec

__all__ = ["read_relay", "relay_of", "write_relay"]


def relay_of(profile: MeterProfile) -> RelaySpec:
    if profile.relay is None:
        raise DecodeError(f"profile {profile.name}: no relay")
    return profile.relay


async def _key_inputs(
    link: ModbusLink, device_id: int, profile: MeterProfile, channel: int
) -> dict[str, Decimal]:
    """``channel`` and the values of the registers read before writing (scaled)."""
    variables: dict[str, Decimal] = {"channel": Decimal(channel)}
    specs = profile.all_registers()
    for name in relay_of(profile).read_before_write:
        spec = specs[name]
        words = await link.read(
            spec.function_code or 0, device_id, spec.address or 0, spec.register_count
        )
        word_order, byte_order = profile.orders(spec)
        variables[name] = raw_value(name, spec, words, word_order, byte_order) * spec.scale
    return variables


def _word(value: Decimal, function_code: int) -> int:
    if value != value.to_integral_value():
        raise ExpressionError(f"a written value must be whole, got {value}")
    number = int(value)
    limit = 1 if function_code in (5, 15) else 0xFFFF
    if not 0 <= number <= limit:
        raise ExpressionError(f"written value {number} is outside 0..{limit}")
    return number


async def write_relay(
    link: ModbusLink, device_id: int, profile: MeterProfile, channel: int, on: bool
) -> None:
    """Every write step of ``on``/``off`` in order; the first failure raises."""
    relay = relay_of(profile)
    variables = await _key_inputs(link, device_id, profile, channel)
    for step in relay.steps(on):
        values = [_word(evaluate(v, variables), step.function_code) for v in step.values]
        address = step.address + channel * relay.channel_stride
        await link.write(step.function_code, device_id, address, values)


async def read_relay(
    link: ModbusLink, device_id: int, profile: MeterProfile, channel: int
) -> bool | None:
    """The state read back (None: the profile has no read-back, or the value is neither)."""
    relay = relay_of(profile)
    readback = relay.readback
    if readback is None:
        return None
    address = readback.address + channel * relay.channel_stride
    (raw,) = await link.read(readback.function_code, device_id, address, 1)
    return readback.state_of(raw)
