"""A period end with no reading: interpolated when a reading after it exists, else
estimated from the unit's own use, and trued up by the next real closing."""

from __future__ import annotations

import pytest

from chalicelib.auth.principal import Principal, Role
from chalicelib.wiring.container import Container

from .billing_rig import (
    NOVEMBER,
    TIERED_20,
    bill_entries,
    bills,
    expected_bill,
    local,
    run,
    store,
)
from .rig import FLAT_TWD, Bus, MeterSpec, make_bus

pytestmark = pytest.mark.functional

DEC_2, JAN_2, FEB_2 = (
    local("2026-12-02", "09:00"),
    local("2027-01-02", "09:00"),
    local("2027-02-02"),
)


def _silent_after_the_25th(pipeline: Container, tariff: dict[str, object]) -> Bus:
    """A unit using 1 kWh a day, read daily at noon, silent from 25 November noon on:
    its November estimate is 124.5 + 5.5 days x 1 kWh = 130.000 at the month's end."""
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-e", "u-e", tariff, mode="postpaid", credit_minor=0)]
    )
    for day in range(1, 26):
        at = local(f"2026-11-{day:02d}", "12:00")
        store(pipeline, bus, day, at, {"m-e": f"{100 + day - 0.5:.3f}"})
    return bus


def test_an_estimated_bill_is_marked_and_an_under_estimate_is_billed_next_period(
    pipeline: Container,
) -> None:
    bus = _silent_after_the_25th(pipeline, FLAT_TWD)
    # WHEN November is billed with no reading near its end and none after it yet
    run(pipeline, bus, DEC_2)
    # THEN the bill is estimated: 124.5 + 5.5 days at the 1 kWh a day of its history
    (nov,) = bills(pipeline, bus, "u-e")
    assert (nov.estimated, nov.closing_kind) == (True, "estimated")
    assert (nov.closing_kwh, nov.closing_at) == ("130.000", local("2026-12-01"))
    assert nov.estimate_daily_kwh == "1.000" and nov.estimated_from_kwh == "124.500"
    assert int(nov.total_minor) == 30 * 500
    energy = [line for line in nov.lines if line["code"] == "energy"]
    assert energy and all(line["refs"]["estimated"] == "true" for line in energy)
    # AND the cursor stands on the estimate, marked
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-e"])
    assert (account.settled_kwh, account.settled_at) == ("130.000", local("2026-12-01"))
    assert account.usage["closing"] == "estimated"
    assert account.usage["estimates"] == ["2026-11-01"]
    # WHEN the meter is back in December, above the estimate, and December is billed
    store(pipeline, bus, 30, local("2026-12-10", "12:00"), {"m-e": "140.000"})
    store(pipeline, bus, 31, local("2026-12-31", "23:50"), {"m-e": "160.000"})
    run(pipeline, bus, JAN_2)
    # THEN December opens on the estimate and its real closing trues it up: 30 kWh, no credit
    _, dec = bills(pipeline, bus, "u-e")
    assert (dec.estimated, dec.closing_kind, dec.opening_kwh) == (False, "actual", "130.000")
    assert int(dec.total_minor) == 30 * 500
    assert {line["code"] for line in dec.lines} == {"energy"}
    # AND the two months together are exactly the 60 kWh the meter moved
    assert pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-e"]) == -60 * 500
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-e"])
    assert account.usage == {"bill": "2026-12-01", "closing": "actual"}


def test_an_over_estimate_is_credited_as_it_was_charged_on_its_own_line_and_entry(
    pipeline: Container,
) -> None:
    # GIVEN November billed on an estimate of 130.000 under a tiered tariff with tax
    bus = _silent_after_the_25th(pipeline, TIERED_20)
    run(pipeline, bus, DEC_2)
    (nov,) = bills(pipeline, bus, "u-e")
    assert int(nov.total_minor) == expected_bill(
        TIERED_20, NOVEMBER, "100.000", "130.000", local("2026-12-01")
    )
    # WHEN December's readings show the meter was lower: 126 on the 5th, 127 at the end
    store(pipeline, bus, 30, local("2026-12-05", "12:00"), {"m-e": "126.000"})
    store(pipeline, bus, 31, local("2026-12-31", "23:50"), {"m-e": "127.000"})
    run(pipeline, bus, JAN_2)
    # THEN December has no consumption, and a credit line for the 3 kWh over-estimated
    _, dec = bills(pipeline, bus, "u-e")
    assert not [line for line in dec.lines if line["code"] == "energy"]
    (credit,) = [line for line in dec.lines if line["code"] == "credit"]
    assert credit["quantity"] == "3.000" and credit["refs"]["corrects"] == "2026-11-01"
    (tax,) = [line for line in dec.lines if line["code"] == "tax"]
    assert tax["refs"]["base"] == "credit:2026-11-01" and int(tax["amount_minor"]) < 0
    # priced as November charged it: November's bill had its real closing been 127.000
    truth = expected_bill(TIERED_20, NOVEMBER, "100.000", "127.000", local("2026-12-01"))
    assert int(nov.total_minor) + int(dec.total_minor) == truth
    assert int(credit["amount_minor"]) + int(tax["amount_minor"]) == int(dec.total_minor) < 0
    # AND the correction is its own ledger entry, a positive adjustment; no negative charge
    entries = {str(e.entry_id): e for e in bill_entries(pipeline, bus, "u-e")}
    account_id = bus.accounts["u-e"]
    assert sorted(entries) == [
        f"bill:{account_id}:2026-11-01",
        f"bill:{account_id}:2026-12-01:credit",
    ]
    correction = entries[f"bill:{account_id}:2026-12-01:credit"]
    assert (correction.entry_kind, int(correction.amount_minor)) == (
        "adjustment",
        -int(dec.total_minor),
    )
    assert pipeline.ledger.balance_minor(bus.company_id, account_id) == -truth
    # AND the bill pages say so: November estimated, December from it to the real reading
    admin = Principal(bus.company_id, "admin", "admin@example.com", Role.COMPANY_ADMIN)
    shown = pipeline.bills.bill_of_unit(admin, "u-e", f"{account_id}:2026-11-01")
    assert shown.summary.estimated and shown.adds_up
    shown = pipeline.bills.bill_of_unit(admin, "u-e", f"{account_id}:2026-12-01")
    assert shown.adds_up and shown.total_minor < 0 and not shown.summary.estimated
    assert shown.opening is not None and shown.closing is not None
    assert (shown.opening.cumulative_kwh, shown.closing.cumulative_kwh) == (130, 127)
    # AND January is billed from the real 127.000
    store(pipeline, bus, 40, local("2027-01-31", "23:00"), {"m-e": "135.000"})
    run(pipeline, bus, FEB_2)
    *_, jan = bills(pipeline, bus, "u-e")
    assert (jan.opening_kwh, jan.energy_kwh) == ("127.000", "8.000")


def test_two_estimates_in_a_row_are_corrected_newest_first(pipeline: Container) -> None:
    # GIVEN November estimated at 130.000 and a silent December estimated from the same
    # base and rate: 124.5 + 36.5 days = 161.000
    bus = _silent_after_the_25th(pipeline, TIERED_20)
    run(pipeline, bus, DEC_2)
    run(pipeline, bus, JAN_2)
    nov, dec = bills(pipeline, bus, "u-e")
    assert (dec.estimated, dec.opening_kwh, dec.closing_kwh) == (True, "130.000", "161.000")
    # WHEN January's real closing is 128.000: 33 kWh over, December's 31 and 2 of November's
    store(pipeline, bus, 40, local("2027-01-31", "23:00"), {"m-e": "128.000"})
    run(pipeline, bus, FEB_2)
    *_, jan = bills(pipeline, bus, "u-e")
    credits = [line for line in jan.lines if line["code"] == "credit"]
    assert [(c["refs"]["corrects"], c["quantity"]) for c in credits] == [
        ("2026-12-01", "31.000"),
        ("2026-11-01", "2.000"),
    ]
    # THEN the three bills come to November's had its real closing been 128.000
    truth = expected_bill(TIERED_20, NOVEMBER, "100.000", "128.000", local("2026-12-01"))
    assert sum(int(b.total_minor) for b in (nov, dec, jan)) == truth
    assert pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-e"]) == -truth
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-e"])
    assert account.usage["closing"] == "actual" and "estimates" not in account.usage


def test_a_reading_after_the_end_gives_an_interpolated_closing(pipeline: Container) -> None:
    # GIVEN a meter silent for the last six hours of November, read again at 02:00
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-i", "u-i", FLAT_TWD, mode="postpaid", credit_minor=0)]
    )
    store(pipeline, bus, 1, local("2026-11-30", "18:00"), {"m-i": "110.000"})
    store(pipeline, bus, 2, local("2026-12-01", "02:00"), {"m-i": "110.800"})
    # WHEN November is billed
    run(pipeline, bus, DEC_2)
    # THEN its closing is the register at midnight between the two: 110 + 0.8 x 6/8
    (nov,) = bills(pipeline, bus, "u-i")
    assert (nov.closing_kind, nov.estimated) == ("interpolated", False)
    assert (nov.closing_kwh, nov.closing_at) == ("110.600", local("2026-12-01"))
    assert int(nov.total_minor) == 10_600 * 5 // 10
    assert all(
        line["refs"]["closing"] == "interpolated" and "estimated" not in line["refs"]
        for line in nov.lines
    )


def test_estimates_wait_for_a_real_reading_after_three_in_a_row(pipeline: Container) -> None:
    # GIVEN a meter silent from 25 November, billed on estimates for three months
    bus = _silent_after_the_25th(pipeline, FLAT_TWD)
    for now in (DEC_2, JAN_2, FEB_2):
        run(pipeline, bus, now)
    assert [b.estimated for b in bills(pipeline, bus, "u-e")] == [True, True, True]
    # WHEN a fourth month ends without a reading
    result = run(pipeline, bus, local("2027-03-02"))
    # THEN the unit is held, and staff are told once however often the job runs
    assert result.held == {"u-e": "estimates_in_a_row"} and result.bills == []
    run(pipeline, bus, local("2027-03-02", "06:00"))
    assert [n.topic for n in pipeline.notifier.outbox(bus.company_id)] == ["bill_held"]
    # AND when the meter is read again, February is billed on the real reading
    store(pipeline, bus, 90, local("2027-03-02", "10:00"), {"m-e": "220.000"})
    run(pipeline, bus, local("2027-03-02", "12:00"))
    feb = bills(pipeline, bus, "u-e")[-1]
    assert (feb.period_start, feb.closing_kind, feb.estimated) == (
        "2027-02-01",
        "interpolated",
        False,
    )
