"""The event pipeline's figures (bench/results/pipeline_ingest.json): docs/performance.md
and docs/pipeline.md ("Performance")."""

from __future__ import annotations

from .errors import MissingFigureError
from .formatting import as_given, count, dec, exact_sum, price
from .results import HOW_TO_REFRESH, BenchResults, Figures

PIPELINE = "pipeline_ingest.json"
SUMMARY = "summary.json"
# Parts of the monthly cost: label and the services they belong to, in the page's order.
COST_GROUPS = {"iot_": "IoT", "lambda_": "Lambda", "dynamodb_": "DynamoDB"}


def _polling(p: Figures) -> str:
    seconds = p.number("cost", "assumptions", "polling_s")
    return "1-minute" if seconds == 60 else f"{count(seconds)}-second"


def _span(p: Figures) -> str:
    hours = p.number("simulated_hours")
    return "one simulated day" if hours == 24 else f"{count(hours)} simulated hours"


def _in_the_run(p: Figures) -> str:
    hours = p.number("simulated_hours")
    return "in the day" if hours == 24 else f"in the {count(hours)} simulated hours"


def _target(limit: float, ok: bool, unit: str = "") -> str:
    return f"target <= {unit}{as_given(limit)}" + ("" if ok else ", **missed**")


def _naive_invocations(p: Figures) -> str:
    return dec(p.number("naive", "messages") / p.number("naive", "meter_readings") * 1000, 2)


def _invocations(p: Figures) -> str:
    inv = ("function_invocations",)
    return (
        f"{dec(p.number(*inv, 'ingest_per_1000_readings'), 2)} ingest + "
        f"{dec(p.number(*inv, 'relay_confirmation_per_1000_readings'), 1)} relay confirmation"
    )


def _cost_by_service(p: Figures) -> str:
    parts = p.mapping("cost", "usd_per_meter_month")
    for name in parts:
        p.number("cost", "usd_per_meter_month", name)
    shares = []
    for prefix, service in COST_GROUPS.items():
        total = exact_sum([v for k, v in parts.items() if k.startswith(prefix)])
        shares.append(f"{service} ${dec(total, 4)}")
    return ", ".join(shares[:-1]) + f" and {shares[-1]}"


def _bench_wall_s(results: BenchResults, script: str) -> float:
    summary = results[SUMMARY]
    for index, run in enumerate(summary.sequence("runs")):
        if isinstance(run, dict) and run.get("script") == script:
            return summary.number("runs", index, "wall_s")
    raise MissingFigureError(f"{summary.label} has no run of {script}; {HOW_TO_REFRESH}")


def performance_section(results: BenchResults) -> str:
    p = results[PIPELINE]
    ours, naive = ("ours",), ("naive",)
    cost_total = p.number("cost", "usd_per_meter_month_total")
    return f"""## Event pipeline (`bench/pipeline_ingest.py` -> `pipeline_ingest.json`)

Method and the full table are in `docs/pipeline.md` ("Performance"): {_span(p)} of one gateway \
with {count(p.number("cost", "assumptions", "meters_per_gateway"))} prepaid meters at \
{_polling(p)} polling ({dec(p.number(*ours, "messages"))} messages, \
{dec(p.number(*ours, "meter_readings"))} meter-readings) through ingest against the
AWS stand-in, every botocore request of the process counted with its item sizes.
Run on {p.text("run_at")[:10]}:

| figure | ours | naive (reading + entry + balance per reading) | target |
|---|---:|---:|---:|
| DynamoDB write units per meter-reading | **{as_is(p, *ours, "wru_per_reading")}** | \
{dec(p.number(*naive, "wru_per_reading"), 1)} ({dec(p.number("ratio_naive_over_ours", "wru_per_reading"))}x) | \
<= {as_given(p.number("targets", "wru_per_reading_max"))} |
| DynamoDB requests per meter-reading | {as_is(p, *ours, "dynamodb_requests_per_reading")} | \
{dec(p.number(*naive, "dynamodb_requests_per_reading"), 1)} | |
| DynamoDB read units per meter-reading | {as_is(p, *ours, "rru_per_reading")} | \
{dec(p.number(*naive, "rru_per_reading"), 1)} | |
| ingest CPU per message ({count(p.number("cost", "assumptions", "meters_per_gateway"))} meters) | \
mean {dec(p.number(*ours, "cpu_ms_per_message", "mean"), 1)} ms, \
p95 {dec(p.number(*ours, "cpu_ms_per_message", "p95"), 1)} ms | \
{dec(p.number(*naive, "cpu_ms_per_message"), 1)} ms | |
| function invocations per 1,000 meter-readings | {_invocations(p)} | {_naive_invocations(p)} | |
| monthly AWS cost per meter (IoT + Lambda + DynamoDB) | **${dec(cost_total, 5)}** | | \
<= ${as_given(p.number("targets", "usd_per_meter_month_max"))} |

The figures include the reseller usage report's message count (a counter on the usage
bucket item ingest already writes, `docs/brands.md`) and the daily roll-up for the consumption
charts (one item per bus and local day, `docs/portal.md`). The stand-in's speed-ups
(`local_aws/moto_speedups.py`) change no count; this bench took \
{dec(_bench_wall_s(results, "pipeline_ingest.py"))} s in the last
`make bench` (`summary.json`).

Prices are {p.text("prices", "region")} list prices as known on {p.text("prices", "date")} \
(stated in full in
`docs/pipeline.md`); the cost splits into {_cost_by_service(p)} per meter-month.

{_validation_cost(p)}
"""


def _validation_cost(p: Figures) -> str:
    """Validation at ingest (docs/metering-data.md), measured in the same run: the same
    messages through ingest with a validator that passes every row, on a fresh bus."""
    v = ("validation",)
    base, full, added = (
        (*v, "without_validation"),
        (*v, "with_validation"),
        (*v, "added_by_validation"),
    )
    return f"""### The cost of validation at ingest

The same {_validation_span(p)} through ingest twice in this run, each on a fresh 32-meter bus:
once with the validation every reading gets (backwards, spike, clock and the other rules of
`docs/metering-data.md`) and once with a validator that passes every row (bench only).

| figure | without validation | with validation | added |
|---|---:|---:|---:|
| DynamoDB requests per meter-reading | {as_is(p, *base, "dynamodb_requests_per_reading")} | \
{as_is(p, *full, "dynamodb_requests_per_reading")} | {as_is(p, *added, "dynamodb_requests_per_reading")} |
| DynamoDB write units per meter-reading | {as_is(p, *base, "wru_per_reading")} | \
{as_is(p, *full, "wru_per_reading")} | {as_is(p, *added, "wru_per_reading")} |
| ingest CPU per message, mean | {dec(p.number(*base, "cpu_ms_per_message", "mean"), 1)} ms | \
{dec(p.number(*full, "cpu_ms_per_message", "mean"), 1)} ms | \
{dec(p.number(*added, "cpu_ms_per_message_mean"), 1)} ms \
({dec(p.number(*added, "cpu_ratio_with_over_without"), 2)}x) |

A good message costs validation no request: the anchor is the previous cycle, which ingest
reads anyway. What validation adds comes from the bus's first message (no previous cycle:
each meter's newest held reading and its account's cursor are read once) and from held
readings or meters silent for longer than the look-back; spread over the run it is the
figure above.
The live balance costs ingest nothing (it is priced when a page is read, from the stored
reading and the account: see the portal section below)."""


def _validation_span(p: Figures) -> str:
    messages = p.number("validation", "with_validation", "messages")
    return f"{dec(messages)} messages ({dec(messages / 60, 1)} h at one a minute)"


def as_is(p: Figures, *path: str) -> str:
    """A per-reading figure with the four decimals the bench rounds it to."""
    return dec(p.number(*path), 4)


COST_LABELS = {
    "iot_messaging": "IoT messaging (one message per bus per {poll}, billed in 5 KB units: {units} each)",
    "iot_rules": "IoT rules (rule + Lambda action)",
    "iot_shadow": "IoT shadow operations",
    "iot_connectivity": "IoT connectivity",
    "lambda_requests": "Lambda requests",
    "lambda_duration": "Lambda duration (estimated {duration_ms} ms at {memory_mb} MB)",
    "dynamodb_writes": "DynamoDB writes",
    "dynamodb_reads": "DynamoDB reads",
    "dynamodb_storage": "DynamoDB storage (the cycles, for as long as they are kept)",
}


def pipeline_region(results: BenchResults) -> str:
    """docs/pipeline.md, region ``pipeline-performance``: the measured day and its cost."""
    p = results[PIPELINE]
    ours, naive = ("ours",), ("naive",)
    a = ("cost", "assumptions")
    meters = count(p.number(*a, "meters_per_gateway"))
    requests = p.mapping(*ours, "dynamodb_requests")
    for name in requests:
        p.number(*ours, "dynamodb_requests", name)
    by_count = sorted(requests.items(), key=lambda kv: (-kv[1], kv[0]))
    request_line = ", ".join(f"{dec(n)} {name}" for name, n in by_count)
    poll = "minute" if p.number(*a, "polling_s") == 60 else f"{count(p.number(*a, 'polling_s'))} s"
    fill = {
        "poll": poll,
        "units": count(p.number(*a, "iot_5kb_units_per_message")),
        "duration_ms": dec(p.number(*a, "lambda_duration_s_estimate") * 1000),
        "memory_mb": dec(p.number(*a, "lambda_memory_gb") * 1000),
    }
    parts = p.mapping("cost", "usd_per_meter_month")
    cost_rows = "\n".join(
        f"| {COST_LABELS.get(name, name).format(**fill)} | "
        f"{dec(p.number('cost', 'usd_per_meter_month', name), 5)} |"
        for name in parts
    )
    total = p.number("cost", "usd_per_meter_month_total")
    wru_ok = p.flag("targets", "wru_per_reading_met")
    usd_ok = p.flag("targets", "usd_per_meter_month_met")
    pr = ("prices",)
    schedules = p.mapping("function_invocations", "schedules_per_day_per_stage")
    per_day = sum(
        p.number("function_invocations", "schedules_per_day_per_stage", k) for k in schedules
    )
    return f"""Run on {p.text("run_at")[:10]}, {dec(p.number(*ours, "messages"))} messages \
({dec(p.number(*ours, "meter_readings"))} meter-readings):

| figure | ours | naive (reading + entry + balance per reading) | ratio |
|---|---|---|---|
| DynamoDB write units per meter-reading | **{as_is(p, *ours, "wru_per_reading")}** \
({_target(p.number("targets", "wru_per_reading_max"), wru_ok)}) | \
{dec(p.number(*naive, "wru_per_reading"), 1)} | {dec(p.number("ratio_naive_over_ours", "wru_per_reading"))}x |
| DynamoDB requests per meter-reading | {as_is(p, *ours, "dynamodb_requests_per_reading")} \
({dec(p.number(*ours, "dynamodb_requests_per_message"), 2)} per message) | \
{dec(p.number(*naive, "dynamodb_requests_per_reading"), 1)} | \
{dec(p.number("ratio_naive_over_ours", "dynamodb_requests_per_reading"), 1)}x |
| DynamoDB read units per meter-reading | {as_is(p, *ours, "rru_per_reading")} | \
{dec(p.number(*naive, "rru_per_reading"), 1)} | |
| bytes written per meter-reading | {dec(p.number(*ours, "bytes_written_per_reading"), 1)} | \
{dec(p.number(*naive, "bytes_written_per_reading"), 1)} | |
| ingest CPU per message ({meters} meters), this process | \
mean {dec(p.number(*ours, "cpu_ms_per_message", "mean"), 1)} ms, \
p50 {dec(p.number(*ours, "cpu_ms_per_message", "p50"), 1)} ms, \
p95 {dec(p.number(*ours, "cpu_ms_per_message", "p95"), 1)} ms | \
{dec(p.number(*naive, "cpu_ms_per_message"), 1)} ms | |
| function invocations per 1,000 meter-readings | {_invocations(p)} | {_naive_invocations(p)} | |
| shadow writes {_in_the_run(p)} ({meters} meters) | {dec(p.number(*ours, "shadow_writes"))} \
(one per meter at the start, then TOU cutoff moves) | - | |

Requests {_in_the_run(p)}: {request_line} (the catalogue is cached).

**Monthly AWS cost per meter: ${dec(total, 5)}** \
({_target(p.number("targets", "usd_per_meter_month_max"), usd_ok, "$")}):

| part | USD per meter-month |
|---|---|
{cost_rows}
| **total** | **{dec(total, 5)}** |

Prices ({p.text(*pr, "region")}, recorded from the AWS price pages as known on \
{p.text(*pr, "date")};
DynamoDB on-demand; not re-fetched, this machine has no network): IoT messaging \
${price(p.number(*pr, "iot_messaging_per_million_5kb"))} per million 5 KB messages, rules \
${price(p.number(*pr, "iot_rules_triggered_per_million"))} per million triggered + \
${price(p.number(*pr, "iot_rule_actions_per_million"))} per million actions, shadow \
${price(p.number(*pr, "iot_shadow_ops_per_million_1kb"))} per million 1 KB
operations, connectivity ${price(p.number(*pr, "iot_connectivity_per_million_minutes"))} per \
million connection-minutes; Lambda ${price(p.number(*pr, "lambda_requests_per_million"))} per
million requests + ${price(p.number(*pr, "lambda_gb_second"))} per GB-s \
({fill["memory_mb"]} MB assumed); DynamoDB \
${price(p.number(*pr, "dynamodb_wru_per_million"))} per
million WRU, ${price(p.number(*pr, "dynamodb_rru_per_million"))} per million RRU, \
${price(p.number(*pr, "dynamodb_storage_gb_month"))} per GB-month.

Lambda duration is estimated as measured CPU + \
{dec(p.number(*a, "dynamo_latency_ms_assumed"))} ms per DynamoDB request (moto's
latency says nothing about DynamoDB's). Schedules (about {dec(per_day)} invocations a
day) are fixed per stage, not per meter, and excluded from the per-meter cost.
"""
