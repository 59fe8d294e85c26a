"""Bills use valid readings only, and the 15-minute buckets never decide energy silently."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import Reading, kwh, parse_tariff, postpaid_bill
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .billing_rig import NOVEMBER, TZ, bill_entries, bills, local, run, store
from .rig import FLAT_TWD, OPENING_KWH, TOU_TWD, MeterSpec, event, make_bus

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


def test_a_reset_the_buckets_show_is_refused_with_a_reason_and_an_alert(
    pipeline: Container,
) -> None:
    # GIVEN a flat unit whose register was reset on the last evening of November, read
    # through ingest so the 15-minute buckets hold the energy before and after the reset
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-r", "u-r", FLAT_TWD, mode="postpaid", credit_minor=0)]
    )
    values = ["100.500", "101.000", "0.200", "0.400", "0.600", "0.800"]
    for seq, value in enumerate(values, start=1):
        at = local("2026-11-30", "22:00") + timedelta(minutes=15 * (seq - 1))
        handlers.ingest_telemetry(event(bus, seq, at, {"m-r": value}))
    # WHEN November is billed
    result = run(pipeline, bus, DEC_2)
    # THEN no bill is made on a closing below the energy used: the unit is held, with its
    # reason, and staff are told; nothing is charged
    assert result.held == {"u-r": "register_reset"} and result.bills == []
    assert bills(pipeline, bus, "u-r") == []
    assert bill_entries(pipeline, bus, "u-r") == []
    (alert,) = pipeline.notifier.outbox(bus.company_id)
    assert alert.topic == "bill_held" and alert.subject_ref == "unit:u-r"
    assert alert.payload["reason"] == "register_reset"
    # AND the next run holds it again without telling anyone twice
    assert run(pipeline, bus, DEC_2 + timedelta(days=1)).held == {"u-r": "register_reset"}
    assert len(pipeline.notifier.outbox(bus.company_id)) == 1
