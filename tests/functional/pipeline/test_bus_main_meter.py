"""A bus's own main meter (issue 17: a main meter per property *or per bus*): compared with
that bus's other meters only, alerted as soon as that one gateway rolls the day up, and
never counted as a unit meter by the property's own comparison."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib.application.building_balance import MainMeterUpdate, as_json
from chalicelib.application.settings_errors import InvalidSettingsError
from chalicelib.auth.principal import Principal, Role
from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.notifications import NotificationStore
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional

EVENING = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # 23:30 in Taipei
DAY = date(2026, 11, 20)


def _admin(bus: Bus) -> Principal:
    return Principal(bus.company_id, "admin", "admin@example.com", Role.COMPANY_ADMIN)


def _building(pipeline: Container) -> tuple[Bus, str]:
    """Two flats and the bus's main meter on one bus; a second bus, silent, with a flat."""
    bus = make_bus(
        pipeline.ledger,
        [MeterSpec("m-1", "u-1", FLAT_TWD, tenant=False), MeterSpec("m-2", "u-2", FLAT_TWD)],
    )
    second = f"{bus.gateway_id}-b"
    Catalogue.save_all(
        [
            builders.meter(bus.company_id, "m-bus", bus.gateway_id, 90, profile="sdm630"),
            builders.gateway(
                bus.company_id, second, f"{bus.thing_name}-b", property_id=bus.property_id
            ),
            builders.meter(bus.company_id, "m-3", second, 1, unit_id="u-3", profile="dds238"),
            builders.meter(bus.company_id, "m-b-main", second, 91, profile="sdm630"),
        ]
    )
    return bus, second


def _day(bus: Bus, main_step: str, unit_step: str) -> None:
    for seq, minute in enumerate(range(0, 50, 10), start=1):
        readings = {
            "m-1": f"{100 + seq * float(unit_step):.3f}",
            "m-2": f"{200 + seq * float(unit_step):.3f}",
            "m-bus": f"{5000 + seq * float(main_step):.3f}",
        }
        handlers.ingest_telemetry(event(bus, seq, EVENING + minutes(minute), readings))


def _energy_alerts(bus: Bus) -> list[tuple[str, dict[str, object]]]:
    return [
        (str(n.subject_ref), dict(n.payload))
        for n in NotificationStore().newest(bus.company_id, 50)
        if n.topic == "energy_loss"
    ]


def test_a_bus_main_meter_is_alerted_without_waiting_for_the_other_buses(
    pipeline: Container,
) -> None:
    # GIVEN a bus whose own main meter is declared (the other bus never reports)
    bus, _second = _building(pipeline)
    pipeline.building_balance.set_main_meter(
        _admin(bus),
        bus.property_id,
        MainMeterUpdate(meter_id="m-bus", gateway_id=bus.gateway_id),
        EVENING,
    )
    # WHEN its day ends with a third of the bus main meter's energy on no flat of the bus
    _day(bus, "3", "1")
    # THEN the bus's loss is alerted at once, naming the bus (the property has no main
    # meter, so nothing waits for the silent bus)
    [(subject, alert)] = _energy_alerts(bus)
    assert subject == f"gateway:{bus.gateway_id}" and alert["bus"] == bus.gateway_id
    assert (alert["main_meter"], alert["main_kwh"], alert["units_kwh"], alert["loss_kwh"]) == (
        "m-bus",
        "6.000",
        "4.000",
        "2.000",
    )
    # AND the energy balance JSON shows the bus beside the (empty) property comparison
    now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    shown = as_json(
        pipeline.building_balance.of_property(_admin(bus), bus.property_id, now),
        pipeline.building_balance.of_buses(_admin(bus), bus.property_id, now),
    )
    assert shown["main_meter_id"] is None
    [row] = shown["buses"]
    assert row["gateway_id"] == bus.gateway_id and row["main_meter_id"] == "m-bus"
    assert [d["loss_kwh"] for d in row["days"]] == ["2.000"]


def test_the_property_comparison_does_not_count_a_bus_main_meter_as_a_unit(
    pipeline: Container,
) -> None:
    # GIVEN the second bus's own main meter, and the property's main meter on the first
    bus, second = _building(pipeline)
    admin = _admin(bus)
    balance = pipeline.building_balance
    balance.set_main_meter(
        admin, bus.property_id, MainMeterUpdate(meter_id="m-b-main", gateway_id=second), EVENING
    )
    balance.set_main_meter(admin, bus.property_id, MainMeterUpdate(meter_id="m-bus"), EVENING)
    # WHEN both buses roll the day up (the second bus's main meter counts 50 kWh)
    _day(bus, "3", "1")
    pipeline.usage_days.put_day(
        bus.company_id, second, DAY, "Asia/Taipei", {"m-3": "1.000", "m-b-main": "50.000"}, 8
    )
    premises = pipeline.catalogue.get_property(bus.company_id, bus.property_id)
    [day] = pipeline.energy_balances.of_property(bus.company_id, premises, DAY, DAY).days
    # THEN the units are the flats only (4 + 1 kWh), not the second bus's main meter
    assert (str(day.main_kwh), str(day.units_kwh)) == ("6.000", "5.000")


@pytest.mark.parametrize(
    ("update", "field"),
    [
        # a meter of the other bus, a unit's meter, a bus that is not the property's
        (MainMeterUpdate(meter_id="m-b-main", gateway_id="{gw}"), "meter_id"),
        (MainMeterUpdate(meter_id="m-1", gateway_id="{gw}"), "meter_id"),
        (MainMeterUpdate(meter_id="m-bus", gateway_id="elsewhere"), "gateway_id"),
    ],
)
def test_a_bus_main_meter_must_be_a_meter_of_that_bus_with_no_unit(
    pipeline: Container, update: MainMeterUpdate, field: str
) -> None:
    bus, _second = _building(pipeline)
    if update.gateway_id == "{gw}":
        update = update.model_copy(update={"gateway_id": bus.gateway_id})
    with pytest.raises(InvalidSettingsError) as refused:
        pipeline.building_balance.set_main_meter(_admin(bus), bus.property_id, update, EVENING)
    assert refused.value.field == field


def test_one_meter_is_never_both_the_property_and_a_bus_main_meter(pipeline: Container) -> None:
    bus, _second = _building(pipeline)
    admin, balance = _admin(bus), pipeline.building_balance
    balance.set_main_meter(admin, bus.property_id, MainMeterUpdate(meter_id="m-bus"), EVENING)
    with pytest.raises(InvalidSettingsError, match="already another main meter"):
        balance.set_main_meter(
            admin,
            bus.property_id,
            MainMeterUpdate(meter_id="m-bus", gateway_id=bus.gateway_id),
            EVENING,
        )
