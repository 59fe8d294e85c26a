"""The soak, short: 2 simulated days x 20 meters x 2 gateways, every fault kind, exact money.

Misreads come at their field rate (about one per meter-week: six here) and one meter is
swapped, its exchange recorded by the landlord after the alert; resets need more
meter-months than this (the month's run has them).

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
    # reordering, a silent day, misreads and a swapped register included), each held exactly
    # when the soak knows it must be, and no foreign row was kept
    assert report["readings"], "no meters"
    for meter_id, figures in report["readings"].items():
        assert figures["produced"] == figures["stored"] > 0, meter_id
        assert figures["differing"] == 0, meter_id
        assert figures["held"] == figures["held_expected"], meter_id
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
    # AND on every kind of cycle, the anchored one restarting its tiers mid-run, and across
    # the tariff-version change in the middle of the run: prepaid accounts priced by both
    # versions are exact too (a message reordered over the change once charged 1 less)
    assert {row["cycle"] for row in accounts.values()} == {"monthly", "every_n_months", "anchored"}
    assert report["summary"]["version_splits"] >= 2
    assert report["summary"]["cycles_billed_by_kind"] == {}
    # (two days end no month: the bill job, and its crash, run in the month-long soak only)
    assert report["summary"]["bill_crashes"] == report["summary"]["postpaid_bills"] == 0
    assert report["summary"]["bills_charged_exactly_once"] == 0
    assert sum(1 for row in accounts.values() if row["charged_minor"] > 0) >= 10


def test_misreads_are_held_and_never_charged(report: dict[str, Any]) -> None:
    summary = report["summary"]
    # THEN every kind of misread came and every one was held, none charged
    assert summary["misreads_injected"] >= 3
    assert set(report["field_faults"]["misreads"]) == {"zero", "glitch", "bit_flip"}
    assert summary["misreads_held"] == summary["misreads_injected"]
    assert summary["misreads_charged"] == 0
    # AND each held reading has its item with the reason the soak expects
    assert summary["held_items_as_expected"] == summary["held_items"] > summary["misreads_held"]


def test_a_swapped_meter_is_exchanged_after_the_alert_and_charged_on_both_sides(
    report: dict[str, Any],
) -> None:
    summary = report["summary"]
    # THEN the swap raised the alert, the landlord recorded the exchange, which settled the
    # old side and resolved the new register's held readings
    assert (summary["swaps"], summary["resets"], summary["exchanges_recorded"]) == (1, 0, 1)
    (exchange,) = report["field_faults"]["exchanges"]
    assert exchange["settled"] and exchange["released"] > 0
    assert exchange["alert_at"] < exchange["recorded_at"]
    # AND its account is exact: both sides charged once, the used meter's history never
    account = report["accounts"][exchange["account_id"]]
    assert account["stored_minor"] == account["independent_minor"]


def test_no_forbidden_disconnect_and_every_relay_follows_the_policy(report: dict[str, Any]) -> None:
    relays = report["relays"]
    assert sum(r["policy_offs"] for r in relays.values()) > 0, "the policy never disconnected"
    for meter_id, figures in relays.items():
        assert figures["bad_offs"] == 0, meter_id
        assert figures["unjustified_offs"] == 0, meter_id
        assert figures["desired"] == figures["policy"], meter_id
    assert report["failures"] == []
    # AND the report carries wall time and both processes' peak memory
    assert report["wall_s"] > 0 and report["peak_rss_mb_this_process"] > 0
    assert report["peak_rss_mb_standin"] > 0
