"""A one-meter prepaid bus for the due-mark tests (tests/unit/pipeline: the mark on any
tariff, and the time-of-use mark until its band edge)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.data import builders
from chalicelib.domain.tariff_versions import parse_timeline
from chalicelib.pipeline.context import BusContext, MeterContext, cycle_of_unit, in_force

OPENED = datetime(2026, 11, 1, tzinfo=UTC)


def bus_with(
    tariff: dict[str, Any],
    thresholds: list[int],
    allowance: int,
    *,
    tz: str = "Asia/Taipei",
    moved_in: str = "2026-11-01",
) -> BusContext:
    """Meter m1 on prepaid unit u1 (account a1, tenancy t1 from ``moved_in``) on
    ``tariff``, in a property in ``tz`` with ``allowance`` of emergency credit; the
    company's low-credit levels are ``thresholds``."""
    co = "co"
    premises = builders.taipei_property(co, time_zone=tz, emergency_credit_minor=allowance)
    unit = builders.unit(
        co,
        "u1",
        "p1",
        name="u1",
        unit_type="flat",
        billing_mode="prepaid",
        tariff=tariff,
        meter_id="m1",
        account_id="a1",
        tenancy_id="t1",
    )
    tenancy = builders.tenancy(
        co, "t1", "u1", "sub", moved_in, account_id="a1", opening_kwh="1000.000"
    )
    timeline = parse_timeline(tariff)
    ctx = MeterContext(
        builders.meter(co, "m1", "gw", 1, unit_id="u1"),
        unit,
        tenancy,
        in_force(timeline, OPENED.date()),
        timeline,
        cycle_of_unit(unit, premises),
    )
    return BusContext(
        gateway=builders.gateway(co, "gw", "pl-co_gw", property_id="p1"),
        premises=premises,
        company=builders.company(co, "Co", OPENED, low_credit_thresholds_minor=thresholds),
        meters={"m1": ctx},
    )
