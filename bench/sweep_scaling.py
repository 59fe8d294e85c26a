"""The sweeps at fleet sizes 100 / 1,000 / 10,000 gateways, against the old full walk.

For each size the idle fleet (Gateway item, a 32-meter control state, its latest cycle:
``bench/support/sweep_fleet.py``) grows, the same number of changes is made on a day of
its own (gateways connected that never sent telemetry, meters ingest found silent, relay
commands nobody confirmed), and then, counted request by request (``DynamoMeter``):

- ours: the offline sweep and the relay-retry sweep, which read the due index only;
- old: the reads the old sweeps made on every gateway of every company (their writes,
  only on a change, are left out: the old figures are a floor).

Per run and per month (offline sweep every 5 minutes, retry sweep every minute), with the
duration a run would take in Lambda at 6 ms per DynamoDB request (the pipeline bench's
latency model) against the 300 s schedule timeout, and the old walk extrapolated to
31,250 gateways (1,000,000 meters). Writes bench/results/sweeps.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for extra in ("functions", "infra", "."):
    sys.path.insert(0, str(REPO / extra))

from bench.support.dynamo_meter import DynamoMeter  # noqa: E402
from bench.support.sweep_fleet import (  # noqa: E402
    legacy_offline_walk,
    legacy_retry_walk,
    seed_changed,
    seed_idle,
)
from chalicelib.wiring.container import Container, set_container  # noqa: E402
from chalicelib.wiring.settings import Settings  # noqa: E402
from local_aws.stack import LocalStack  # noqa: E402

OUT = REPO / "bench" / "results" / "sweeps.json"
SIZES = (100, 1_000, 10_000)
CHANGED = 10  # of each kind, per run
FLEET_GATEWAYS = 31_250  # 1,000,000 meters at 32 per bus
MS_PER_REQUEST = 6
TIMEOUT_S = 300
RUNS_PER_MONTH = {"offline_sweep": 12 * 24 * 30, "relay_retry_sweep": 60 * 24 * 30}
START = datetime(2032, 1, 5, 12, tzinfo=UTC)


def measure(meter: DynamoMeter, run: Callable[[], object]) -> dict[str, Any]:
    meter.reset()
    meter.counting = True
    try:
        run()
    finally:
        meter.counting = False
    requests = sum(meter.requests.values())
    return {
        "requests": requests,
        "by_operation": dict(sorted(meter.requests.items())),
        "rru": round(meter.rru, 1),
        "wru": round(meter.wru, 1),
        "lambda_s_estimate": round(requests * MS_PER_REQUEST / 1000, 2),
    }


def monthly(per_run: dict[str, Any], runs: int) -> dict[str, Any]:
    return {
        "runs": runs,
        "invocations": runs,
        "requests": per_run["requests"] * runs,
        "rru": round(per_run["rru"] * runs),
        "wru": round(per_run["wru"] * runs),
    }


def one_size(services: Container, meter: DynamoMeter, size: int, day: datetime) -> dict[str, Any]:
    seed_changed(services, f"n{size}", day, CHANGED)
    now = day + timedelta(minutes=11)
    ours = {
        "offline_sweep": measure(meter, lambda: services.presence.sweep(now=now)),
        "relay_retry_sweep": measure(meter, lambda: services.confirmations.sweep(now=now)),
    }
    old = {
        "offline_sweep": measure(meter, lambda: legacy_offline_walk(services)),
        "relay_retry_sweep": measure(meter, lambda: legacy_retry_walk(services)),
    }
    figures: dict[str, Any] = {"idle_gateways": size, "changed_per_kind": CHANGED}
    for sweep, runs in RUNS_PER_MONTH.items():
        figures[sweep] = {
            "ours": {"per_run": ours[sweep], "per_month": monthly(ours[sweep], runs)},
            "old": {"per_run": old[sweep], "per_month": monthly(old[sweep], runs)},
            "ratio_old_over_ours_requests": round(
                old[sweep]["requests"] / max(1, ours[sweep]["requests"]), 1
            ),
        }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    runs = []
    with LocalStack() as stack:
        services = Container(Settings.from_env(stack.env()))
        set_container(services)
        meter = DynamoMeter()
        meter.install()
        try:
            seeded = 0
            for n, size in enumerate(sorted(args.sizes)):
                print(f">> {size} idle gateways", flush=True)
                seed_idle(services, seeded, size - seeded, START)
                seeded = size
                runs.append(one_size(services, meter, size, START + timedelta(days=3 * n)))
                print(json.dumps(runs[-1]["offline_sweep"]["ours"]["per_run"]), flush=True)
        finally:
            meter.uninstall()
    largest = runs[-1]
    fleet: dict[str, Any] = {"gateways": FLEET_GATEWAYS}
    for sweep in RUNS_PER_MONTH:
        per_gateway = largest[sweep]["old"]["per_run"]["requests"] / largest["idle_gateways"]
        old_s = per_gateway * FLEET_GATEWAYS * MS_PER_REQUEST / 1000
        fleet[sweep] = {
            "old_requests_per_run": round(per_gateway * FLEET_GATEWAYS),
            "old_lambda_s_estimate": round(old_s),
            "ours_lambda_s_estimate": largest[sweep]["ours"]["per_run"]["lambda_s_estimate"],
        }
    flat = all(
        run[sweep]["ours"]["per_run"]["requests"] == runs[0][sweep]["ours"]["per_run"]["requests"]
        for run in runs
        for sweep in RUNS_PER_MONTH
    )
    result = {
        "benchmark": "sweep_scaling",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {
            "ms_per_dynamodb_request": MS_PER_REQUEST,
            "schedule_timeout_s": TIMEOUT_S,
            "runs_per_month": RUNS_PER_MONTH,
            "idle_gateway": "Gateway item, 32-meter control state, its latest cycle",
            "old": "the old sweeps' reads per gateway (writes left out: a floor)",
        },
        "sizes": runs,
        "fleet_1m_meters": fleet,
        "targets": {
            "ours_requests_independent_of_idle_gateways": flat,
            "ours_within_timeout_at_1m_meters": all(
                fleet[s]["ours_lambda_s_estimate"] < TIMEOUT_S for s in RUNS_PER_MONTH
            ),
        },
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["targets"]), flush=True)
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
