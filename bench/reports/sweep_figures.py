"""The sweeps' figures (bench/results/sweeps.json): a section of docs/performance.md."""

from __future__ import annotations

from .formatting import count, dec
from .results import BenchResults, Figures

SWEEPS = "sweeps.json"
NAMES = {"offline_sweep": "offline sweep (5 min)", "relay_retry_sweep": "relay-retry sweep (1 min)"}


def _row(s: Figures, i: int, sweep: str) -> str:
    at = ("sizes", i, sweep)
    ours, old = (*at, "ours", "per_run"), (*at, "old", "per_run")
    month = (*at, "ours", "per_month")
    return (
        f"| {count(s.number('sizes', i, 'idle_gateways'))} | {NAMES[sweep]} | "
        f"{count(s.number(*ours, 'requests'))} | {dec(s.number(*ours, 'rru'), 1)} | "
        f"{dec(s.number(*ours, 'wru'), 1)} | {count(s.number(*month, 'requests'))} | "
        f"{count(s.number(*old, 'requests'))} | {dec(s.number(*old, 'rru'), 1)} | "
        f"{count(s.number(*at, 'old', 'per_month', 'requests'))} | "
        f"{dec(s.number(*at, 'ratio_old_over_ours_requests'), 1)}x |"
    )


def performance_section(results: BenchResults) -> str:
    s = results[SWEEPS]
    sizes = s.sequence("sizes")
    rows = [_row(s, i, sweep) for i in range(len(sizes)) for sweep in NAMES]
    changed = count(s.number("sizes", 0, "changed_per_kind"))
    fleet = ("fleet_1m_meters",)
    flat = "yes" if s.flag("targets", "ours_requests_independent_of_idle_gateways") else "**no**"
    return f"""## Sweeps (`bench/sweep_scaling.py` -> `sweeps.json`)

The offline and relay-retry sweeps read the due index (`data/deadlines.py`) and nothing
else unless a deadline fell due (`docs/pipeline.md`, "Presence and deadlines"). Each run
below has {changed} changes of each kind (gateways connected that never sent telemetry,
meters ingest found silent, relay commands nobody confirmed) beside a growing idle fleet
(Gateway item, a 32-meter control state, its latest cycle); "old" is the reads the old
sweeps made on every gateway of every company, measured in the same run (their writes on a
change are left out, so the old figures are a floor). One invocation per run either way:
{count(s.number("model", "runs_per_month", "offline_sweep"))} and
{count(s.number("model", "runs_per_month", "relay_retry_sweep"))} a month.

| idle gateways | sweep | ours: requests per run | RRU | WRU | requests per month | \
old: requests per run | RRU | requests per month | old / ours |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Our requests per run the same at every fleet size: {flat}. At 1,000,000 meters
({count(s.number(*fleet, "gateways"))} gateways) the old offline walk would make
{count(s.number(*fleet, "offline_sweep", "old_requests_per_run"))} requests a run, about
{count(s.number(*fleet, "offline_sweep", "old_lambda_s_estimate"))} s at
{count(s.number("model", "ms_per_dynamodb_request"))} ms a request against a
{count(s.number("model", "schedule_timeout_s"))} s timeout (ours:
{dec(s.number(*fleet, "offline_sweep", "ours_lambda_s_estimate"), 2)} s), and the old
retry walk {count(s.number(*fleet, "relay_retry_sweep", "old_lambda_s_estimate"))} s every
minute (ours: {dec(s.number(*fleet, "relay_retry_sweep", "ours_lambda_s_estimate"), 2)} s).
"""
