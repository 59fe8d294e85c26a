"""Every unbilled period is billed as its own period, in order, with its own tier bounds."""

from __future__ import annotations

import pytest

from chalicelib.wiring.container import Container

from .billing_rig import DECEMBER, NOVEMBER, TIERED_20, bills, expected_bill, local, run, store
from .rig import MeterSpec, make_bus

pytestmark = pytest.mark.functional


def test_a_two_month_gap_is_billed_as_two_bills_each_at_its_own_tier_bounds(
    pipeline: Container,
) -> None:
    # GIVEN a tiered unit (20 kWh a month in the first tier) that used 15 kWh in November
    # and 15 kWh in December, and a job that did not run in December
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-t", "u-t", TIERED_20, mode="postpaid", credit_minor=0)]
    )
    nov_end, dec_end = local("2026-11-30", "23:40"), local("2026-12-31", "23:45")
    store(pipeline, bus, 1, nov_end, {"m-t": "115.000"})
    store(pipeline, bus, 2, dec_end, {"m-t": "130.000"})
    # WHEN it runs on January 2nd
    result = run(pipeline, bus, local("2027-01-02", "09:00"))
    # THEN two bills, November then December, each the domain's bill of its own month
    nov, dec = bills(pipeline, bus, "u-t")
    assert result.bills == [
        f"{bus.accounts['u-t']}:2026-11-01",
        f"{bus.accounts['u-t']}:2026-12-01",
    ]
    assert (nov.period_start, nov.period_end) == ("2026-11-01", "2026-12-01")
    assert (dec.period_start, dec.period_end) == ("2026-12-01", "2027-01-01")
    assert int(nov.total_minor) == expected_bill(TIERED_20, NOVEMBER, "100.000", "115.000", nov_end)
    assert int(dec.total_minor) == expected_bill(TIERED_20, DECEMBER, "115.000", "130.000", dec_end)
    # (both months stay in the first tier: 15 kWh x 1.68 + 5% tax each)
    assert int(nov.total_minor) == int(dec.total_minor) == 2646
    assert nov.closing_kwh == dec.opening_kwh == "115.000"
    assert nov.closing_at == dec.opening_at == nov_end
    tiers = {
        line["refs"]["tier"] for b in (nov, dec) for line in b.lines if line["code"] == "energy"
    }
    assert tiers == {"0"}
    # AND the ledger holds the two charges and nothing else
    assert pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-t"]) == -2 * 2646
    # AND a later run finds nothing due
    assert run(pipeline, bus, local("2027-01-20")).bills == []
