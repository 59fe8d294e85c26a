"""The main loop in one process: poll -> spool -> publish in order; link loss; relays."""

from __future__ import annotations

import asyncio
import json
import logging

from cloud_fakes import FakeBus, FakeMeter, FakeTransport, meter_config

from meter_gateway.config import parse_config
from meter_gateway.enforcement import RelayStateStore
from meter_gateway.service import GatewayService
from meter_gateway.shadows import shadow_name
from meter_gateway.spool import Spool

TOPIC = "powerlet/gw/gw-unit/telemetry"


def _service(tmp_path, transport: FakeTransport, bus: FakeBus) -> GatewayService:
    config = parse_config(
        {"thing_name": "gw-unit", "poll_interval_ms": 200, "spool": {"publish_window": 4}}
    )
    return GatewayService(
        config,
        thing_name="gw-unit",
        bus=bus,
        meters=[meter_config(mid, i + 1) for i, mid in enumerate(bus.meters)],
        transport=transport,
        spool=Spool(tmp_path / "spool.db", max_cycles=1_000, max_bytes=10_000_000),
        store=RelayStateStore(tmp_path / "relay_state.json"),
    )


async def _until(predicate, timeout_s: float = 10) -> None:
    async def loop() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout_s)


async def test_cycles_made_while_the_link_is_down_go_out_in_order_when_it_returns(
    tmp_path, telemetry_validator
):
    transport = FakeTransport()
    bus = FakeBus({"m1": FakeMeter(), "m2": FakeMeter()})
    service = _service(tmp_path, transport, bus)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:
        # GIVEN a few cycles published, then the link drops for 5 cycles
        await _until(lambda: len(transport.published) >= 2)
        transport.connected = False
        await _until(lambda: service.spool.stats().pending_cycles >= 5)
        # WHEN it returns
        transport.connected = True
        await _until(lambda: service.spool.stats().pending_cycles == 0 and service.cycles >= 10)
    finally:
        stop.set()
        await running
    # THEN every cycle was published once, in sequence order, all valid telemetry
    messages = [json.loads(p) for t, p in transport.published if t == TOPIC]
    assert [m["s"] for m in messages] == list(range(1, len(messages) + 1))
    # (`n` counts the cycles waiting before this one: the fifth saw four)
    assert max(m["sp"]["n"] for m in messages) >= 4
    for message in messages:
        telemetry_validator.validate(message)


async def test_a_desired_change_switches_the_relay_between_cycles(tmp_path):
    transport = FakeTransport()
    bus = FakeBus({"m1": FakeMeter()})
    service = _service(tmp_path, transport, bus)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:
        await _until(lambda: service.cycles >= 1)
        transport.cloud_sets_desired(
            shadow_name("m1"), {"power": "off", "reason": "manual_off", "cmd": "k1", "cutoff": None}
        )
        await _until(lambda: (transport.book.reported(shadow_name("m1")) or {}).get("cmd") == "k1")
        # THEN the next telemetry shows the relay open
        await _until(lambda: json.loads(transport.published[-1][1])["m"][0].get("r") == 0)
    finally:
        stop.set()
        await running
    assert bus.meters["m1"].relay_on is False


async def test_a_meter_going_silent_is_logged_once_and_its_return_once(tmp_path, caplog):
    transport = FakeTransport()
    bus = FakeBus({"m1": FakeMeter(), "m2": FakeMeter()})
    service = _service(tmp_path, transport, bus)
    caplog.set_level(logging.INFO, logger="meter_gateway.service")
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:
        # GIVEN a meter that stops answering for several cycles, then answers again
        await _until(lambda: service.cycles >= 1)
        bus.meters["m2"].online = False
        silent_from = service.cycles
        await _until(lambda: service.cycles >= silent_from + 4)
        bus.meters["m2"].online = True
        back_from = service.cycles
        await _until(lambda: service.cycles >= back_from + 2)
    finally:
        stop.set()
        await running
    # THEN the gateway said so once each way, not once per cycle
    lines = [r.getMessage() for r in caplog.records if r.name == "meter_gateway.service"]
    assert lines.count("meter m2 does not answer: timeout") == 1, lines
    assert lines.count("meter m2 answers again") == 1, lines
    assert not any("m1" in line for line in lines)


async def test_a_serial_read_in_a_cycle_is_published_and_one_left_out_is_read_again(
    tmp_path, telemetry_validator, monkeypatch
):
    import meter_gateway.service as service_module
    from meter_gateway.telemetry import Encoded, encode_cycle

    # GIVEN meter m1's serial read in the first cycle
    transport = FakeTransport()
    bus = FakeBus({"m1": FakeMeter(serial="12345678"), "m2": FakeMeter()})
    service = _service(tmp_path, transport, bus)
    await service._poll_once()
    # THEN the cycle carries it as `sn` for that meter only
    (cycle,) = service.spool.peek(10)
    message = json.loads(cycle.payload)
    telemetry_validator.validate(message)
    assert [m.get("sn") for m in message["m"]] == ["12345678", None]
    assert bus.serials_read_again == []

    # WHEN a cycle's message had to leave a serial out to fit its budget
    def left_out(cycle_input, seq):  # type: ignore[no-untyped-def]
        return Encoded(encode_cycle(cycle_input, seq).payload, frozenset({"m2"}))

    monkeypatch.setattr(service_module, "encode_cycle", left_out)
    await service._poll_once()
    # THEN the bus is told to read that serial again for the next cycle
    assert bus.serials_read_again == ["m2"]
