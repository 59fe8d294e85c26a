"""A two-month cycle that began before the move-in: the bill prices the occupied days
from the tenant's own readings, by time (issue 14; the soak found it).

The cycle is 1 October - 1 December and the tenancy starts on 1 November. The bill used
to read the period's readings from the cycle's start: two months back is older than the
cycles kept for the exact shape, so a time-of-use bill was priced from the opening and
closing alone (or the 15-minute buckets), and a tiered bill split at a version change by
days instead of by when the energy was used.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.domain import BillingPeriod, Reading, kwh, postpaid_bill
from chalicelib.domain.tariff_versions import parse_timeline
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td

from .billing_rig import TZ, bills, local, run, store
from .rig import TOU_TWD, Bus, MeterSpec, make_bus

pytestmark = pytest.mark.functional

# 40 kWh a month in the first tier, scaled per month (half a month: 20 kWh); no tax, so
# the figures below are the energy lines alone.
VERSIONED = {
    "versions": [
        {
            "effective_from": "2026-01-01",
            "tariff": td.tiered_all_year("tiered-40", [("40", "1.00"), (None, "2.00")], "0"),
        },
        {
            "effective_from": "2026-11-16",
            "tariff": td.tiered_all_year("tiered-40", [("40", "1.50"), (None, "3.00")], "0"),
        },
    ]
}
CYCLE = BillingPeriod(date(2026, 10, 1), date(2026, 12, 1))
MOVE_IN = date(2026, 11, 1)


def test_a_cycle_clipped_at_the_move_in_is_billed_from_the_readings_by_time(
    pipeline: Container,
) -> None:
    # GIVEN two postpaid units on a two-month cycle from October, moved in on 1 November
    # (opening 100 kWh): one time-of-use (off 00-12 at 2.10, peak 12-24 at 6.20), one tiered
    # whose prices change on 16 November
    bus = make_bus(
        pipeline.ledger,
        [
            MeterSpec("m-tou", "u-tou", TOU_TWD, mode="postpaid", credit_minor=0),
            MeterSpec("m-ver", "u-ver", VERSIONED, mode="postpaid", credit_minor=0),
        ],
    )
    for unit_id in ("u-tou", "u-ver"):
        unit = pipeline.catalogue.get_unit(bus.company_id, unit_id)
        unit.billing_cycle = {"months": 2, "anchor_month": 2}
        unit.save()
    pipeline.buses.forget()
    # AND readings at noon and midnight every day of November (the last at 23:50 on the
    # 30th, the closing): the TOU meter uses 1 kWh each morning and 3 each afternoon; the
    # tiered one 2 kWh a day to the 15th and 6 a day from the 16th
    tou, ver = 100, 100
    truth = {"m-tou": [Reading(local("2026-11-01"), kwh("100"))]}
    truth["m-ver"] = list(truth["m-tou"])
    seq = 0
    for n in range(30):
        day = MOVE_IN + timedelta(days=n)
        per_half = 1 if day < date(2026, 11, 16) else 3
        noon = local(day.isoformat(), "12:00")
        night = local(day.isoformat(), "23:50") if n == 29 else local(str(day + timedelta(1)))
        for at, tou_use in ((noon, 1), (night, 3)):
            tou, ver, seq = tou + tou_use, ver + per_half, seq + 1
            store(pipeline, bus, seq, at, {"m-tou": f"{tou}.000", "m-ver": f"{ver}.000"})
            truth["m-tou"].append(Reading(at, kwh(tou)))
            truth["m-ver"].append(Reading(at, kwh(ver)))
    # WHEN the job runs on 2 December
    run(pipeline, bus, local("2026-12-02", "09:00"))
    (tou_bill,) = bills(pipeline, bus, "u-tou")
    (ver_bill,) = bills(pipeline, bus, "u-ver")
    assert (tou_bill.period_start, tou_bill.period_end) == ("2026-10-01", "2026-12-01")
    # THEN the TOU bill prices each interval in its band: 30 mornings x 1 kWh off-peak and
    # 30 afternoons x 3 kWh peak = 30 x 2.10 + 90 x 6.20 = 63.00 + 558.00 = 621.00 TWD
    # (before the fix: 497.94, the 120 kWh spread over the month by time)
    assert int(tou_bill.total_minor) == 62_100
    # AND the tiered bill splits at the change where the energy was used, each half-month
    # with half the 40 kWh tier (month fraction 15/30):
    #   1-15 Nov, 15 x 2 = 30 kWh: 20 x 1.00 + 10 x 2.00 = 40.00
    #   16-30 Nov, 15 x 6 = 90 kWh: 20 x 1.50 + 70 x 3.00 = 240.00      -> 280.00 TWD
    # (before the fix: 250.00, the 120 kWh shared 60/60 by days)
    assert int(ver_bill.total_minor) == 28_000
    # AND both are what the domain bills for the same readings and the occupied days
    for unit_id, bill, doc in (("m-tou", tou_bill, TOU_TWD), ("m-ver", ver_bill, VERSIONED)):
        expected = postpaid_bill(parse_timeline(doc), CYCLE, truth[unit_id], tz=TZ, move_in=MOVE_IN)
        assert int(bill.total_minor) == expected.total_minor, unit_id


def _november(pipeline: Container, bus: Bus, meters: tuple[str, ...]) -> None:
    """Noon and midnight readings of November, 1 kWh each morning, 3 each afternoon."""
    value = 100
    for n in range(30):
        day = MOVE_IN + timedelta(days=n)
        noon = local(day.isoformat(), "12:00")
        night = local(day.isoformat(), "23:50") if n == 29 else local(str(day + timedelta(1)))
        for at, use in ((noon, 1), (night, 3)):
            value += use
            store(pipeline, bus, 2 * n + (at == night), at, dict.fromkeys(meters, f"{value}.000"))


def test_units_of_one_gateway_clipped_to_different_ends_read_their_own_windows(
    pipeline: Container,
) -> None:
    # GIVEN two time-of-use units of one gateway, both moved in on 1 November: one read on
    # the 15th (its first cycle, 15 October - 15 November, clipped to 1-15 November) and
    # one on the calendar month: their reads start at the same instant, end apart
    bus = make_bus(
        pipeline.ledger,
        [
            MeterSpec("m-a", "u-a", TOU_TWD, mode="postpaid", credit_minor=0),
            MeterSpec("m-m", "u-m", TOU_TWD, mode="postpaid", credit_minor=0),
        ],
    )
    unit = pipeline.catalogue.get_unit(bus.company_id, "u-a")
    unit.billing_cycle = {"anchor_day": 15}
    unit.save()
    pipeline.buses.forget()
    _november(pipeline, bus, ("m-a", "m-m"))
    # WHEN the job bills both in one run (the anchored unit first)
    run(pipeline, bus, local("2026-12-02", "09:00"))
    assert [b.period_start for b in bills(pipeline, bus, "u-a")] == ["2026-10-15"]
    # THEN the monthly unit's bill is priced from all of November, not the first half the
    # anchored unit read: 30 x 2.10 + 90 x 6.20 = 621.00 TWD (as above)
    (monthly,) = bills(pipeline, bus, "u-m")
    assert int(monthly.total_minor) == 62_100
