"""The soak, short: 2 simulated days x 20 meters x 2 gateways, every fault kind, exact money.

The full month is ``bench/soak.py`` (``make soak``); this is the same code at a small size.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.soak_sim.run import SoakParams, run_soak

pytestmark = pytest.mark.functional

SHORT = SoakParams(days=2, meters=20, gateways=2, seed=8, cycle_min=60, reorder_rate=0.1)
BAD_KINDS = {"bad:not_json", "bad:schema", "bad:oversized", "bad:thing_mismatch", "foreign"}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    # GIVEN two days of two buses with every fault kind, driven through the real ingest handler
    return run_soak(SHORT, log=lambda _: None)


def test_every_reading_produced_is_stored_once_and_exactly(report: dict[str, Any]) -> None:
    # THEN each meter's stored readings are exactly what it showed (duplicates, outages,
    # reordering, a silent day and a replaced register included), and no foreign row was kept
    assert report["readings"], "no meters"
    for meter_id, figures in report["readings"].items():
        assert figures["produced"] == figures["stored"] > 0, meter_id
        assert figures["differing"] == 0, meter_id
    assert sum(f["timeouts"] for f in report["readings"].values()) == 24  # the silent day
    assert not [f for f in report["failures"] if "stored a row of" in f]


def test_duplicates_are_no_ops_and_bad_messages_are_dead_lettered_with_reasons(
    report: dict[str, Any],
) -> None:
    outcomes = report["outcomes"]
    # one cycle died with its gateway process (SIGKILL mid-cycle) and was never sent
    assert report["summary"]["gateways_killed_mid_cycle"] == 1
    assert outcomes["cycle:stored"] == 2 * 2 * 24 - 1
    assert outcomes["duplicate:duplicate"] >= outcomes["cycle:stored"]
    assert {k.split(":dead_letter")[0] for k in outcomes if k.endswith(":dead_letter")} == BAD_KINDS
    assert all(":" in reason for reason in report["rejected"])
    assert not [f for f in report["failures"] if "->" in f or "raised" in f]


def test_every_balance_is_exact_to_the_minor_unit(report: dict[str, Any]) -> None:
    # THEN stored = derived = independent recomputation from the true readings, to the minor
    # unit, for every tariff: time-of-use included, although one message in ten arrives
    # after its successor (a TOU settlement waits for the missing cycle: pipeline/gaps.py)
    accounts = report["accounts"]
    assert len(accounts) == 20
    for account_id, row in accounts.items():
        assert row["stored_minor"] == row["derived_minor"] == row["independent_minor"], (
            account_id,
            row,
        )
    assert {row["tariff"] for row in accounts.values()} == {"flat", "tiered", "tou"}
    # (two days end no month: the bill job, and its crash, run in the month-long soak only)
    assert report["summary"]["bill_crashes"] == report["summary"]["postpaid_bills"] == 0
    assert report["summary"]["bills_charged_exactly_once"] == 0
    assert sum(1 for row in accounts.values() if row["charged_minor"] > 0) >= 10


def test_no_forbidden_disconnect_and_every_relay_follows_the_policy(report: dict[str, Any]) -> None:
    relays = report["relays"]
    assert sum(r["policy_offs"] for r in relays.values()) > 0, "the policy never disconnected"
    for meter_id, figures in relays.items():
        assert figures["bad_offs"] == 0, meter_id
        assert figures["desired"] == figures["policy"], meter_id
    assert report["failures"] == []
    # AND the report carries wall time and both processes' peak memory
    assert report["wall_s"] > 0 and report["peak_rss_mb_this_process"] > 0
    assert report["peak_rss_mb_standin"] > 0
