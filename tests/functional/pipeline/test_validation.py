"""Readings you can bill on (docs/metering-data.md): validation holds a bad reading before
it can move money or a relay, a run of them tells staff once, and a person's meter
exchange or decision charges exactly what was used.

Every bus is a DDS238 (65 A, 230 V): in one minute it can register at most
65 x 230 W x 1/60 h x 1.25 + 0.020 = 0.331 kWh. The flat tariff is 5 TWD a kWh (500 minor).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.pipeline import ReadingCorrectionError
from chalicelib.pipeline.telemetry import rows_of
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional

CREDIT = 10_000
READ_DELAY = timedelta(milliseconds=100)  # the rig reads each meter 100 ms in


def one_meter(pipeline: Container, credit: int = CREDIT) -> Bus:
    return make_bus(pipeline.ledger, [MeterSpec("m-v", "u-v", FLAT_TWD, credit_minor=credit)])


def feed(bus: Bus, values: list[tuple[int, str]]) -> list[dict[str, object]]:
    """One cycle per (minute after T0, register) in that order; seq follows the minute."""
    return [
        handlers.ingest_telemetry(event(bus, minute, T0 + minutes(minute), {"m-v": value}))
        for minute, value in values
    ]


def charged(pipeline: Container, bus: Bus) -> int:
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-v"])
    return CREDIT - int(account.balance_minor)


def settle_now(pipeline: Container, bus: Bus) -> None:
    """What a top-up or a tariff change does first: charge everything good so far."""
    pipeline.settings_rollout.settle_unit(bus.company_id, "u-v", T0 + minutes(600))


def held(pipeline: Container, bus: Bus) -> list[tuple[str, str, int, str]]:
    items = pipeline.held_readings.of_meter(bus.company_id, "m-v")
    return sorted((str(h.reading_kwh), str(h.reason), int(h.run), str(h.status)) for h in items)


def topics(pipeline: Container, bus: Bus) -> list[str]:
    return [n.topic for n in pipeline.notifier.outbox(bus.company_id)]


def stored_quarantine(pipeline: Container, bus: Bus) -> dict[str, str | None]:
    cycles = pipeline.telemetry.cycles_between(
        bus.company_id, bus.gateway_id, T0, T0 + minutes(1000)
    )
    return {str(r.import_kwh): r.quarantine for c in cycles for r in rows_of(c)}


def test_a_misread_zero_is_held_and_the_next_reading_charges_only_what_was_used(
    pipeline: Container,
) -> None:
    # GIVEN a meter at 100.000 that reads 0.000 once (a bus glitch), then goes on
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100"), (2, "0.000"), (3, "100.300")])
    settle_now(pipeline, bus)
    # THEN the zero is stored held, with its reason and the reading it was checked against
    assert stored_quarantine(pipeline, bus)["0.000"] == "backwards"
    assert held(pipeline, bus) == [("0.000", "backwards", 1, "held")]
    # AND only the 0.3 kWh really used is charged (1.50 TWD), not the register again
    assert charged(pipeline, bus) == 150
    # AND one held reading needs nobody: no alert
    assert "readings_held" not in topics(pipeline, bus)


def test_a_high_misread_is_held_and_never_charged(pipeline: Container) -> None:
    # GIVEN a message raising the register by 50 kWh in a minute (a glitch, or forged)
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100"), (2, "150.100"), (3, "100.200")])
    settle_now(pipeline, bus)
    # THEN it is held as a spike, with the limit it broke
    (item,) = pipeline.held_readings.of_meter(bus.company_id, "m-v")
    assert (item.reason, item.energy_kwh, item.limit_kwh) == ("spike", "50.000", "0.331")
    # AND nothing of it is charged: 0.2 kWh at 5 TWD
    assert charged(pipeline, bus) == 100
    # AND the tenant is not cut off for it
    state = pipeline.telemetry.get_state(bus.company_id, bus.gateway_id).meter("m-v")
    assert state.power == "on"


def test_the_most_a_meter_can_pass_is_not_held(pipeline: Container) -> None:
    # GIVEN 0.330 kWh in a minute: just under the DDS238's 65 A at 230 V with the margin
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.000"), (2, "100.330")])
    # THEN it is a good reading
    assert held(pipeline, bus) == []


def test_a_reading_stamped_in_the_future_is_held(pipeline: Container) -> None:
    # GIVEN a gateway whose clock runs an hour ahead for one cycle
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100")])
    ahead = event(bus, 2, T0 + minutes(62), {"m-v": "100.200"})
    ahead["received_at_ms"] = int((T0 + minutes(2)).timestamp() * 1000)
    handlers.ingest_telemetry(ahead)
    # THEN it is held for its clock
    assert held(pipeline, bus) == [("100.200", "clock", 1, "held")]


def test_a_reset_is_held_told_once_and_a_meter_exchange_charges_both_sides_once(
    pipeline: Container,
) -> None:
    # GIVEN a meter used 0.5 kWh, then replaced at 00:40 by one starting at 0.000
    bus = one_meter(pipeline)
    feed(bus, [(10, "100.100"), (20, "100.300"), (40, "100.500")])
    feed(bus, [(50, "0.010"), (60, "0.110"), (70, "0.210"), (80, "0.260")])
    settle_now(pipeline, bus)
    # THEN the new register's readings are held, one alert tells staff with the evidence
    assert [h[1] for h in held(pipeline, bus)] == ["backwards"] * 4
    alerts = [n for n in pipeline.notifier.outbox(bus.company_id) if n.topic == "readings_held"]
    assert len(alerts) == 1
    assert alerts[0].payload["last_good_kwh"] == "100.500"
    # AND only the old register's 0.5 kWh is charged so far; the tenant keeps power
    assert charged(pipeline, bus) == 250
    # WHEN staff record the exchange: old meter's final 100.500, new opening 0.000, at 00:45
    swap_at = T0 + minutes(45)
    done = pipeline.corrections.exchange(
        bus.company_id, "u-v", swap_at, Decimal("100.500"), Decimal("0.000"), "user:s", "swap",
        T0 + minutes(90),
    )  # fmt: skip
    # THEN the held readings of the new register are resolved by it
    assert done.released == 4
    assert {h[3] for h in held(pipeline, bus)} == {"accepted"}
    # AND the next readings charge from the new register: 0.26 + 0.04 kWh more
    feed(bus, [(100, "0.300")])
    settle_now(pipeline, bus)
    assert charged(pipeline, bus) == 250 + 150
    # AND a replay of the exchange charges nothing twice
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-v"])
    assert account.settled_kwh == "0.300"


def test_a_new_meter_with_a_higher_register_never_charges_the_difference(
    pipeline: Container,
) -> None:
    # GIVEN a meter replaced by a used one reading 5000.000
    bus = one_meter(pipeline)
    feed(bus, [(10, "100.100"), (20, "100.200"), (30, "5000.000"), (40, "5000.100")])
    # THEN the higher register is held (more than the meter could pass), nothing charged
    assert [h[1] for h in held(pipeline, bus)] == ["spike", "spike"]
    # WHEN the exchange is recorded: final 100.200, opening 5000.000 at 00:25
    pipeline.corrections.exchange(
        bus.company_id, "u-v", T0 + minutes(25), Decimal("100.200"), Decimal("5000.000"),
        "user:s", "swap", T0 + minutes(45),
    )  # fmt: skip
    feed(bus, [(50, "5000.200")])
    settle_now(pipeline, bus)
    # THEN 0.2 kWh on the old side and 0.2 kWh on the new are charged, no more
    assert charged(pipeline, bus) == 200


def test_an_estimate_replaces_a_held_reading_and_is_charged_once(pipeline: Container) -> None:
    # GIVEN a held spike
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100"), (2, "180.000")])
    at = T0 + minutes(2) + READ_DELAY
    # WHEN staff replace it with an estimate of 100.150
    pipeline.corrections.decide(
        bus.company_id, "u-v", at, "estimate", "user:s", "usual use", T0 + minutes(5),
        estimate_kwh=Decimal("100.150"),
    )  # fmt: skip
    # THEN the account is charged up to the estimate at once: 0.15 kWh, and the tenant's
    # ledger says it was an estimate
    assert charged(pipeline, bus) == 75
    memos = [e.memo for e in pipeline.ledger.entries(bus.company_id, bus.accounts["u-v"])]
    assert "0.050 kWh (estimated reading)" in memos  # from 100.100 to the estimate
    (item,) = pipeline.held_readings.of_meter(bus.company_id, "m-v")
    assert (item.status, item.replacement_kwh, item.reading_kwh) == (
        "replaced",
        "100.150",
        "180.000",
    )
    # AND the next readings are checked against the estimate, and a decision is final
    feed(bus, [(3, "100.250")])
    assert [h[3] for h in held(pipeline, bus)] == ["replaced"]
    with pytest.raises(ReadingCorrectionError):
        pipeline.corrections.decide(
            bus.company_id, "u-v", at, "reject", "user:s", "again", T0 + minutes(6)
        )


def test_a_reading_below_the_last_good_one_cannot_be_accepted(pipeline: Container) -> None:
    # GIVEN a held misread zero
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100"), (2, "0.000")])
    # WHEN someone tries to accept it THEN they are told to record an exchange instead
    with pytest.raises(ReadingCorrectionError, match="meter exchange"):
        pipeline.corrections.decide(
            bus.company_id, "u-v", T0 + minutes(2) + READ_DELAY, "accept", "user:s", "ok",
            T0 + minutes(5),
        )  # fmt: skip
