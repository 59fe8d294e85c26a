"""The building's main meter: when a local day ends, its energy is compared with the
sum of the unit meters and a loss above the property's percentage alerts staff once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.notifications import NotificationStore
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional

# 23:30 in Taipei on Friday 20 November; local midnight is 16:00 UTC.
EVENING = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
DAY = date(2026, 11, 20)


def _building(pipeline: Container, percent: str | None) -> Bus:
    """Two flats and the building's main meter (no unit) on one bus."""
    bus = make_bus(
        pipeline.ledger,
        [MeterSpec("m-1", "u-1", FLAT_TWD, tenant=False), MeterSpec("m-2", "u-2", FLAT_TWD)],
    )
    Catalogue.save_all(
        [builders.meter(bus.company_id, "m-main", bus.gateway_id, 90, profile="sdm630")]
    )
    pipeline.settings_store.set_main_meter(
        bus.company_id, bus.property_id, "m-main", percent, actor="test", at=EVENING
    )
    return bus


def _day(bus: Bus, main_step: str, unit_step: str) -> None:
    """Every 10 minutes from 23:30 to 00:10: each flat uses `unit_step` kWh a cycle and the
    main meter `main_step`."""
    for seq, minute in enumerate(range(0, 50, 10), start=1):
        readings = {
            "m-1": f"{100 + seq * float(unit_step):.3f}",
            "m-2": f"{200 + seq * float(unit_step):.3f}",
            "m-main": f"{5000 + seq * float(main_step):.3f}",
        }
        handlers.ingest_telemetry(event(bus, seq, EVENING + minutes(minute), readings))


def _energy_alerts(bus: Bus) -> list[dict[str, object]]:
    return [
        dict(n.payload)
        for n in NotificationStore().newest(bus.company_id, 50)
        if n.topic == "energy_loss"
    ]


def test_a_loss_above_the_percentage_alerts_staff_once(pipeline: Container) -> None:
    # GIVEN a building whose main meter counts 3 kWh a cycle while its two flats count
    # 1 kWh each: a third of the energy is not on any unit meter
    bus = _building(pipeline, None)
    _day(bus, "3", "1")
    # THEN the day's end raised one energy_loss alert with the figures
    [alert] = _energy_alerts(bus)
    assert alert["day"] == DAY.isoformat() and alert["main_meter"] == "m-main"
    # the day holds the cycles 23:40 and 23:50 (23:30 is the chain's first reading)
    assert (alert["main_kwh"], alert["units_kwh"], alert["loss_kwh"]) == (
        "6.000",
        "4.000",
        "2.000",
    )
    assert (alert["loss_percent"], alert["alert_percent"]) == ("33.3", "5.0")
    # WHEN a late message rolls the day up again
    handlers.ingest_telemetry(
        event(
            bus,
            99,
            EVENING + minutes(25),
            {"m-1": "100.500", "m-2": "200.500", "m-main": "5001.000"},
        )
    )
    # THEN the alert is not sent twice
    assert len(_energy_alerts(bus)) == 1


def test_a_loss_within_the_allowance_says_nothing(pipeline: Container) -> None:
    # GIVEN a 40 % allowance and a third lost
    bus = _building(pipeline, "40")
    _day(bus, "3", "1")
    # THEN no alert
    assert _energy_alerts(bus) == []
    # AND the property's days show the comparison all the same
    premises = pipeline.catalogue.get_property(bus.company_id, bus.property_id)
    result = pipeline.energy_balances.of_property(bus.company_id, premises, DAY, DAY)
    [day] = result.days
    assert (day.status.value, str(day.loss_percent), result.incomplete) == (
        "ok",
        "33.3",
        frozenset(),
    )


def test_a_day_waits_for_every_bus_of_the_building(pipeline: Container) -> None:
    # GIVEN the building has a second bus, silent so far (its day is not rolled up)
    bus = _building(pipeline, None)
    second = f"{bus.gateway_id}-b"
    Catalogue.save_all(
        [
            builders.gateway(
                bus.company_id, second, f"{bus.thing_name}-b", property_id=bus.property_id
            ),
            builders.meter(bus.company_id, "m-3", second, 1, unit_id="u-3", profile="dds238"),
        ]
    )
    # WHEN the first bus rolls the day up, a third of the main meter's energy unaccounted
    _day(bus, "3", "1")
    # THEN nothing is said: the other bus's flats may hold the difference
    assert _energy_alerts(bus) == []
    premises = pipeline.catalogue.get_property(bus.company_id, bus.property_id)
    assert (
        DAY in pipeline.energy_balances.of_property(bus.company_id, premises, DAY, DAY).incomplete
    )
    # WHEN the second bus rolls the day up with 1 kWh in its flat
    pipeline.usage_days.put_day(bus.company_id, second, DAY, "Asia/Taipei", {"m-3": "1.000"}, 8)
    # THEN the day is complete and its loss (6 - 4 - 1 = 1 kWh, 16.7 %) is alerted
    [alert] = pipeline.energy_balances.alerts_for_day(bus.company_id, premises, DAY)
    assert (alert.payload["loss_kwh"], alert.payload["loss_percent"]) == ("1.000", "16.7")
