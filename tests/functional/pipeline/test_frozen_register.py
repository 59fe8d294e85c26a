"""A frozen register (docs/metering-data.md): the register stands still while the meter's
own power readings say it passed several of its steps. Held, never charged differently,
and a run of them tells staff once.

Every bus is a DDS238 (register steps of 0.01 kWh): three steps, 30 Wh, must move it.
At 2 kW a minute passes 33 Wh. The flat tariff is 5 TWD a kWh (500 minor).
"""

from __future__ import annotations

import pytest

from chalicelib.pipeline.telemetry import rows_of
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import T0, event, minutes
from .test_validation import charged, held, one_meter, settle_now, topics

pytestmark = pytest.mark.functional


def feed(bus, values: list[tuple[int, str, int]]) -> None:  # type: ignore[no-untyped-def]
    """One cycle per (minute after T0, register, watts)."""
    for minute, value, watts in values:
        handlers.ingest_telemetry(
            event(bus, minute, T0 + minutes(minute), {"m-v": value}, watts={"m-v": watts})
        )


def test_a_register_standing_still_at_2_kw_is_held_frozen_and_a_run_tells_staff_once(
    pipeline: Container,
) -> None:
    # GIVEN a meter drawing 2 kW whose register sticks at 100.100 for four minutes
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100", 2000), (2, "100.100", 2000), (3, "100.100", 2000)])
    feed(bus, [(4, "100.100", 2000), (5, "100.100", 2000)])
    # THEN from the first minute in which 2 kW must have moved it, each reading is held
    assert held(pipeline, bus) == [
        ("100.100", "frozen", 1, "held"),
        ("100.100", "frozen", 2, "held"),
        ("100.100", "frozen", 3, "held"),
        ("100.100", "frozen", 4, "held"),
    ]
    # AND the held item carries the evidence: the power, what it passed, the limit
    newest = pipeline.held_readings.newest(bus.company_id, "m-v")
    assert newest is not None
    assert (newest.watts, newest.drawn_kwh, newest.limit_kwh, newest.anchor_kwh) == (
        "2000",
        "0.132",
        "0.030",
        "100.100",
    )
    # AND the run of three told staff once, with the last good reading
    alerts = [n for n in pipeline.notifier.outbox(bus.company_id) if n.topic == "readings_held"]
    assert len(alerts) == 1
    assert alerts[0].payload["reason"] == "frozen"
    assert alerts[0].payload["last_good_kwh"] == "100.100"
    # WHEN the register moves again
    feed(bus, [(6, "100.300", 2000)])
    settle_now(pipeline, bus)
    # THEN the energy it shows is charged once: 0.3 kWh since the opening 100.000
    assert charged(pipeline, bus) == 150


def test_one_frozen_reading_needs_nobody(pipeline: Container) -> None:
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100", 2000), (2, "100.100", 2000), (3, "100.140", 2000)])
    assert held(pipeline, bus) == [("100.100", "frozen", 1, "held")]
    assert "readings_held" not in topics(pipeline, bus)


def test_a_still_register_at_low_power_or_with_too_little_time_is_not_held(
    pipeline: Container,
) -> None:
    # GIVEN an idle flat (30 W: below what a meter must count) and a 1 kW load for a
    # minute (17 Wh: less than three steps of the register), then the register moves
    bus = one_meter(pipeline)
    feed(bus, [(1, "100.100", 30), (2, "100.100", 30), (3, "100.100", 1000)])
    feed(bus, [(4, "100.100", 1000), (5, "100.120", 1000)])
    # THEN nothing is held, and the evidence is stored only while it grows
    assert held(pipeline, bus) == []
    cycles = pipeline.telemetry.cycles_between(bus.company_id, bus.gateway_id, T0, T0 + minutes(10))
    stills = [r.still_wh for c in cycles for r in rows_of(c)]
    assert stills == [None, None, None, 16, None]
    settle_now(pipeline, bus)
    assert charged(pipeline, bus) == 60  # from the opening 100.000: 0.12 kWh
