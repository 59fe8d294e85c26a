"""The fleet bench's cost model (bench/support/fleet_cost.py): a month's mix of message
kinds, the schedules' runs and the Lambda memory read from the template."""

from __future__ import annotations

from typing import Any

import pytest

from bench.support.fleet_cost import Deployed, month_mix, month_weighted, runs_per_month


def test_a_month_at_60_s_settles_each_meter_once_per_period() -> None:
    mix = month_mix(60, period_h=6, settled_per_settling_message=32)
    assert mix["messages"] == 43_200
    # 120 settlements a meter (4 periods a day), its bus's 32 meters in one message, each
    # such message also the first of a bucket
    assert mix["settlement"] == 120
    assert mix["bucket_close"] == 2_880 - 120
    assert mix["steady"] == 43_200 - 2_880


def test_faster_polling_adds_steady_messages_only() -> None:
    at_60 = month_mix(60, 6, 32)
    at_10 = month_mix(10, 6, 32)
    assert at_10["settlement"] == at_60["settlement"]
    assert at_10["bucket_close"] == at_60["bucket_close"]
    assert at_10["steady"] == 259_200 - 2_880


def test_meters_settling_apart_make_more_settling_messages() -> None:
    assert month_mix(60, 6, settled_per_settling_message=8)["settlement"] == 480


@pytest.mark.parametrize(
    ("expression", "runs"),
    [("rate(1 minute)", 43_200), ("rate(5 minutes)", 8_640), ("rate(1 day)", 30)],
)
def test_schedule_runs_a_month(expression: str, runs: int) -> None:
    assert runs_per_month(expression) == runs


def test_a_schedule_it_cannot_count_is_refused() -> None:
    with pytest.raises(SystemExit, match="only rate"):
        runs_per_month("cron(0 3 * * ? *)")


def _kind(requests: float, cpu_ms: float, settled: float = 0) -> dict[str, Any]:
    return {
        "messages": 10,
        "requests": requests,
        "rru": requests,
        "wru": 1.0,
        "bytes_written": 500.0,
        "cpu_ms_mean": cpu_ms,
        "settled_meters": settled,
    }


def test_the_month_weights_each_kind_by_its_count_not_the_rounds_mix() -> None:
    measured = {
        "60": {
            "by_kind": {
                "steady": _kind(2, 10),
                "bucket_close": _kind(5, 20),
                "settlement": _kind(40, 300, settled=32),
            }
        }
    }
    month = month_weighted("60", measured, Deployed(512, {}), period_h=6)
    expected = (40_320 * 2 + 2_760 * 5 + 120 * 40) / 43_200
    assert month["dynamodb_requests_per_message"] == round(expected, 3)
    assert month["per_kind"]["settlement"]["source"] == "measured at 60 s"


def test_a_kind_missing_from_a_round_comes_from_the_other_round_and_says_so() -> None:
    measured = {
        "60": {"by_kind": {"steady": _kind(2, 10), "bucket_close": _kind(5, 20)}},
        "10": {"by_kind": {"steady": _kind(2, 9), "settlement": _kind(40, 300, settled=32)}},
    }
    month = month_weighted("60", measured, Deployed(512, {}), period_h=6)
    assert month["per_kind"]["settlement"]["requests"] == 40
    assert "from the 10 s round" in month["per_kind"]["settlement"]["source"]


def test_ingest_memory_is_the_templates() -> None:
    from bench.support.fleet_cost import deployed
    from deploy.template import MEMORY_MB

    found = deployed()
    assert found.ingest_memory_mb == MEMORY_MB["event"]
    assert found.schedules["relay_retry_sweep"][1] == 43_200
