"""Bills use valid readings only, and the 15-minute buckets never decide energy silently."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain import (
    ClosingKind,
    Reading,
    interpolate,
    kwh,
    parse_tariff,
    postpaid_bill,
)
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .billing_rig import NOVEMBER, TZ, bill_entries, bills, local, run, store
from .rig import FLAT_TWD, OPENING_KWH, TOU_TWD, Bus, MeterSpec, event, make_bus

pytestmark = pytest.mark.functional

DEC_2 = local("2026-12-02", "09:00")


def test_quarantined_rows_are_absent_for_the_closing_and_the_time_of_use_shape(
    pipeline: Container,
) -> None:
    # GIVEN a flat and a time-of-use unit read hourly on November's last evening, where
    # validation quarantined a spike of each (the flat meter's at 23:50, the last row)
    bus = make_bus(
        pipeline.ledger,
        [
            MeterSpec("m-f", "u-f", FLAT_TWD, mode="postpaid", credit_minor=0),
            MeterSpec("m-t", "u-t", TOU_TWD, mode="postpaid", credit_minor=0),
        ],
    )
    start = local("2026-11-30", "09:00")
    usable: list[Reading] = [Reading(local("2026-11-01"), kwh(OPENING_KWH))]
    for hour in range(15):  # 09:00 .. 23:00
        at = start + timedelta(hours=hour)
        value = f"{100 + 2 * (hour + 1):.3f}"
        spike = hour == 5
        store(
            pipeline,
            bus,
            hour + 1,
            at,
            {"m-f": value, "m-t": ("999.000", "spike") if spike else value},
        )
        if not spike:
            usable.append(Reading(at, kwh(value)))
    store(pipeline, bus, 20, local("2026-11-30", "23:50"), {"m-f": ("150.000", "spike")})
    # WHEN November is billed
    run(pipeline, bus, DEC_2)
    # THEN the flat bill closes on the last valid reading (130.000 at 23:00), not the spike
    (flat,) = bills(pipeline, bus, "u-f")
    assert (flat.closing_kwh, flat.closing_at) == ("130.000", local("2026-11-30", "23:00"))
    assert int(flat.total_minor) == 30 * 500
    # AND the time-of-use bill is the domain's bill of the valid readings alone
    (tou,) = bills(pipeline, bus, "u-t")
    expected = postpaid_bill(parse_tariff(TOU_TWD), NOVEMBER, usable, tz=TZ)
    assert int(tou.total_minor) == expected.total_minor
    bands = {
        line["refs"]["band"]: line["quantity"] for line in tou.lines if line["code"] == "energy"
    }
    assert bands == {
        line.refs["band"]: str(line.quantity) for line in expected.lines if line.code == "energy"
    }


def reset_on_the_last_evening(pipeline: Container) -> Bus:
    """A flat postpaid unit whose register was reset at 22:30 on November's last evening,
    read through ingest every 15 minutes: 100.500, 101.000, then 0.200 .. 0.800."""
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-r", "u-r", FLAT_TWD, mode="postpaid", credit_minor=0)]
    )
    values = ["100.500", "101.000", "0.200", "0.400", "0.600", "0.800"]
    for seq, value in enumerate(values, start=1):
        at = local("2026-11-30", "22:00") + timedelta(minutes=15 * (seq - 1))
        handlers.ingest_telemetry(event(bus, seq, at, {"m-r": value}))
    return bus


def test_a_reset_held_at_ingest_holds_the_bill_until_staff_review_it(
    pipeline: Container,
) -> None:
    # GIVEN a register reset near the period end: validation held the readings after it
    bus = reset_on_the_last_evening(pipeline)
    # WHEN November is billed
    result = run(pipeline, bus, DEC_2)
    # THEN no bill is made on the old register alone (that would drop the energy after the
    # reset) nor estimated across it: the unit waits for the review, with its reason
    assert result.held == {"u-r": "readings_under_review"} and result.bills == []
    assert bills(pipeline, bus, "u-r") == []
    assert bill_entries(pipeline, bus, "u-r") == []
    # AND staff are told twice: the readings held (at ingest) and the bill waiting for them
    topics = [n.topic for n in pipeline.notifier.outbox(bus.company_id)]
    assert sorted(topics) == ["bill_held", "readings_held"]
    (alert,) = [n for n in pipeline.notifier.outbox(bus.company_id) if n.topic == "bill_held"]
    assert alert.subject_ref == "unit:u-r"
    assert alert.payload["reason"] == "readings_under_review"
    # AND the next run holds it again without telling anyone twice
    assert run(pipeline, bus, DEC_2 + timedelta(days=1)).held == {"u-r": "readings_under_review"}
    assert len(pipeline.notifier.outbox(bus.company_id)) == 2


def test_a_recorded_exchange_bills_each_register_once_across_the_period(
    pipeline: Container,
) -> None:
    # GIVEN the reset bill waiting for review
    bus = reset_on_the_last_evening(pipeline)
    assert run(pipeline, bus, DEC_2).held == {"u-r": "readings_under_review"}
    # WHEN staff record the exchange: the old meter ended at 101.050 at 22:20, the new one
    # opened at 0.000; and the new meter's first reading after the period end arrives
    swap_at = local("2026-11-30", "22:20")
    pipeline.corrections.exchange(
        bus.company_id, "u-r", swap_at, Decimal("101.050"), Decimal("0.000"), "user:s", "swap",
        local("2026-12-01", "08:00"),
    )  # fmt: skip
    after = Reading(local("2026-12-01", "00:30"), kwh("1.000"))
    handlers.ingest_telemetry(event(bus, 7, after.at, {"m-r": "1.000"}))
    result = run(pipeline, bus, DEC_2)
    # THEN November is billed: the old register from the opening to its final reading, the
    # new one from its opening to the period end (interpolated from the reading after it)
    assert result.held == {} and len(result.bills) == 1
    (bill,) = bills(pipeline, bus, "u-r")
    closing = interpolate(Reading(swap_at, kwh("0.000")), after, local("2026-12-01"))
    assert (bill.closing_kwh, bill.closing_at) == (str(closing.cumulative_kwh), closing.at)
    energy = kwh("101.050") - kwh(OPENING_KWH) + closing.cumulative_kwh
    assert Decimal(str(bill.energy_kwh)) == energy
    expected = postpaid_bill(
        parse_tariff(FLAT_TWD),
        NOVEMBER,
        [
            Reading(local("2026-11-01"), kwh(OPENING_KWH)),
            Reading(swap_at, kwh("101.050")),
            Reading(swap_at, kwh("0.000"), new_register=True),
            closing,
        ],
        tz=TZ,
        closing_kind=ClosingKind.INTERPOLATED,
    )
    assert int(bill.total_minor) == expected.total_minor
    # AND the account now stands on the new register, where December's bill opens
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-r"])
    assert account.settled_kwh == str(closing.cumulative_kwh)
