"""Serial numbers (docs/metering-data.md): the first serial a gateway reports is recorded;
a different one holds the reading, proposes a meter exchange and never charges the new
register as the old one's; recording the exchange adopts the new serial and charges the
new meter from its opening. The flat tariff is 5 TWD a kWh (500 minor); the tenancy
opened at 100.000 kWh.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from chalicelib.pipeline import ReadingCorrectionError
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import T0, Bus, event, minutes
from .test_validation import charged, held, one_meter, settle_now

pytestmark = pytest.mark.functional


def feed(bus: Bus, values: list[tuple[int, str, str | None]]) -> None:
    """One cycle per (minute after T0, register, serial read in that cycle or None)."""
    for minute, value, serial in values:
        serials = {"m-v": serial} if serial else None
        handlers.ingest_telemetry(
            event(bus, minute, T0 + minutes(minute), {"m-v": value}, serials=serials)
        )


def meter(pipeline: Container, bus: Bus):  # type: ignore[no-untyped-def]
    return pipeline.catalogue.get_meter(bus.company_id, "m-v")


def test_a_changed_serial_is_held_proposes_an_exchange_and_is_charged_once_recorded(
    pipeline: Container,
) -> None:
    # GIVEN a meter whose serial the gateway read at its start
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100", "11112222"), (2, "100.200", None)])
    assert meter(pipeline, bus).serial == "11112222"
    assert held(pipeline, bus) == []
    # WHEN it is swapped for a meter reading 0.050 kWh, whose serial the gateway reads
    # again after the swap's silence, and two more cycles follow without a serial
    feed(bus, [(3, "0.050", "33334444"), (4, "0.150", None), (5, "0.250", None)])
    # THEN every reading of the new meter is held for its serial
    assert held(pipeline, bus) == [
        ("0.050", "serial_changed", 1, "held"),
        ("0.150", "serial_changed", 2, "held"),
        ("0.250", "serial_changed", 3, "held"),
    ]
    # AND the meter carries an exchange proposal with the evidence
    proposal = meter(pipeline, bus).serial_proposal
    assert proposal["old_serial"] == "11112222"
    assert proposal["new_serial"] == "33334444"
    assert proposal["last_good"]["kwh"] == "100.200"
    assert proposal["first_new"]["kwh"] == "0.050"
    first_at = datetime.fromisoformat(proposal["first_new"]["at"])
    assert T0 + minutes(3) < first_at < T0 + minutes(4)
    # AND staff were told once (the proposal's alert, not also the run's)
    alerts = [n for n in pipeline.notifier.outbox(bus.company_id) if n.topic == "readings_held"]
    assert [(a.payload["reason"], a.payload["new_serial"]) for a in alerts] == [
        ("serial_changed", "33334444")
    ]
    # AND no money moved on the new register: only the old meter's 0.2 kWh is charged
    settle_now(pipeline, bus)
    assert charged(pipeline, bus) == 100
    # AND a held reading of the new serial cannot be accepted as the old meter's
    with pytest.raises(ReadingCorrectionError, match="exchange"):
        pipeline.corrections.decide(
            bus.company_id, "u-v", first_at, "accept", "user:s", "looks fine", T0 + minutes(6)
        )
    # WHEN staff record the proposed exchange (the values the proposal pre-fills)
    done = pipeline.corrections.exchange(
        bus.company_id, "u-v", first_at, Decimal("100.200"), Decimal("0.050"), "user:s",
        "serial 11112222 -> 33334444", T0 + minutes(6),
    )  # fmt: skip
    # THEN the new serial is the meter's, the proposal is gone, the held readings resolved
    after = meter(pipeline, bus)
    assert (after.serial, after.serial_proposal) == ("33334444", None)
    assert done.released == 3
    # AND the new meter's readings are charged from its opening, once: 0.3 kWh more
    feed(bus, [(7, "0.350", None), (8, "0.350", "33334444")])
    settle_now(pipeline, bus)
    assert charged(pipeline, bus) == 100 + 150
    assert [h[3] for h in held(pipeline, bus)] == ["accepted"] * 3


def test_the_same_serial_again_costs_no_write_and_changes_nothing(pipeline: Container) -> None:
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100", "55556666"), (2, "100.200", "55556666")])
    feed(bus, [(3, "100.300", "55556666")])
    assert meter(pipeline, bus).serial == "55556666"
    assert meter(pipeline, bus).serial_proposal is None
    assert held(pipeline, bus) == []
    settle_now(pipeline, bus)
    assert charged(pipeline, bus) == 150


def test_a_proposal_staff_call_the_same_meter_keeps_the_chain_and_charges_once(
    pipeline: Container,
) -> None:
    # GIVEN a serial that reads another way from minute 3 on the same meter (a misread,
    # or a reading order changed), its register going on from 100.200
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100", "11112222"), (2, "100.200", None)])
    feed(bus, [(3, "100.300", "22221111"), (4, "100.400", None)])
    assert [h[1] for h in held(pipeline, bus)] == ["serial_changed"] * 2
    # WHEN staff say it is the same meter
    done = pipeline.corrections.same_meter(
        bus.company_id, "u-v", "user:s", "serial misread", T0 + minutes(5)
    )
    # THEN the serial read is kept, the proposal gone, the held readings rejected
    after = meter(pipeline, bus)
    assert (after.serial, after.serial_proposal) == ("22221111", None)
    assert done.released == 2
    assert [h[3] for h in held(pipeline, bus)] == ["rejected"] * 2
    # AND the next good reading charges everything since the last good one, once
    feed(bus, [(6, "100.500", None)])
    settle_now(pipeline, bus)
    assert charged(pipeline, bus) == 250  # 0.5 kWh since the opening 100.000
    assert held(pipeline, bus) == [
        ("100.300", "serial_changed", 1, "rejected"),
        ("100.400", "serial_changed", 2, "rejected"),
    ]
    # AND a second answer is refused
    with pytest.raises(ReadingCorrectionError):
        pipeline.corrections.same_meter(bus.company_id, "u-v", "user:s", "again", T0 + minutes(7))
