"""The fleet bench's money: unit prices (dated, with their sources), the deployed
template's Lambda memory and schedules, and a month's mix of message kinds.

Why a month's mix and not the measured minute's: a measured round is a cross-section
of the fleet (each gateway's clock offset over one settlement period) and sends one
message a gateway, so which messages close a 15-minute bucket or settle falls where the
offsets put them. A meter settles when its reading falls in a later settlement period
than its cursor (``pipeline/settler.py``: periods of ``settlement_period_h``, aligned on
the property's wall clock), so once per period while its readings flow: 24 / 6 x 30 =
120 times a meter-month at the default 6 h, whatever the polling. A bucket closes with
the first message after it: 2,880 a gateway-month. The settling message is always the
first of a new period, and a period boundary is a bucket boundary, so it closes a bucket
too. A round of 1,000 gateways at 60 s can hold 2 or 4 settling buses against the 2.8
a month averages, and at 10 s the 0.46 a month averages per round is 0 or a whole bus,
so the cost is the measured per-kind figures (steady path, bucket close, settlement)
weighted by the month's counts of each kind (``month_mix``); the measured round's own
mix is reported beside it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support.fleet_model import METERS

DAYS_PER_MONTH = 30
BUCKET_S = 900  # pipeline/buckets.py: 15-minute usage buckets
VCPU_MB = (
    1769  # Lambda: 1,769 MB of memory = one vCPU (AWS Lambda docs, "Memory and computing power")
)
DYNAMO_LATENCY_MS = 6.0  # assumed in-region round trip (moto's says nothing)
IOT_MESSAGE_BYTES = 5 * 1024  # IoT Core meters messages in 5 KB increments
INGEST_FUNCTION = "ingest_telemetry"
# A daily schedule's own run at fleet scale is not measured here (reconciliation fans out
# per company, bills per property): one second of the scheduled function each, stated.
DAILY_RUN_S_ASSUMED = 1.0
KINDS = ("steady", "bucket_close", "settlement")

# Unit prices, us-east-1, as recorded from the AWS pricing pages on 2025-01-15 (this
# machine has no network: not re-fetched at run time). Each entry: price, source.
PRICES: dict[str, Any] = {
    "date": "2025-01-15",
    "region": "us-east-1",
    "iot_messaging_per_million_5kb": [1.00, "https://aws.amazon.com/iot-core/pricing/"],
    "iot_rules_triggered_per_million": [0.15, "https://aws.amazon.com/iot-core/pricing/"],
    "iot_rule_actions_per_million": [0.15, "https://aws.amazon.com/iot-core/pricing/"],
    "iot_shadow_ops_per_million_1kb": [1.25, "https://aws.amazon.com/iot-core/pricing/"],
    "iot_connectivity_per_million_minutes": [0.08, "https://aws.amazon.com/iot-core/pricing/"],
    "lambda_requests_per_million": [0.20, "https://aws.amazon.com/lambda/pricing/"],
    "lambda_gb_second_x86": [0.0000166667, "https://aws.amazon.com/lambda/pricing/"],
    "dynamodb_wru_per_million_on_demand": [
        0.625,
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the 2024-11-01 cut)",
    ],
    "dynamodb_rru_per_million_on_demand": [
        0.125,
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the 2024-11-01 cut)",
    ],
    "dynamodb_storage_gb_month": [0.25, "https://aws.amazon.com/dynamodb/pricing/on-demand/"],
    "eventbridge_scheduled_rule_invocations": [
        0.0,
        "https://aws.amazon.com/eventbridge/pricing/ (scheduled rules: no charge per event)",
    ],
    "greengrass_core_device_month": [
        0.16,
        "https://aws.amazon.com/greengrass/pricing/ (per active core device per month)",
    ],
}
TARGETS = {
    "usd_per_meter_month_at_60s_max": 0.005,
    "dynamodb_requests_per_message_max": 2.0,
    "rru_per_reading_max": 0.2,
    "wru_per_reading_max": 0.1,
    "cpu_ms_per_message_mean_max": 5.0,
}


def price(name: str) -> float:
    value = PRICES[name]
    return float(value[0] if isinstance(value, list) else value)


# --- what the template deploys ---


@dataclass(frozen=True)
class Deployed:
    """Read from the template the stack is built from (``infra/deploy``), not restated."""

    ingest_memory_mb: int
    # schedule name -> (its rate expression, invocations a month, memory MB)
    schedules: dict[str, tuple[str, int, int]]

    @property
    def vcpu_share(self) -> float:
        return self.ingest_memory_mb / VCPU_MB


def deployed(stage: str = "bench") -> Deployed:
    from deploy.inventory import app_functions
    from deploy.template import function_resources

    memory: dict[str, int] = {}
    schedules: dict[str, tuple[str, int, int]] = {}
    for spec in app_functions():
        properties = function_resources(stage, spec)[spec.logical_id]["Properties"]
        memory[spec.name] = int(properties["MemorySize"])
        if spec.schedule is not None:
            schedules[spec.name] = (spec.schedule, runs_per_month(spec.schedule), memory[spec.name])
    if INGEST_FUNCTION not in memory:
        raise SystemExit(f"no {INGEST_FUNCTION} function in the template")
    return Deployed(memory[INGEST_FUNCTION], schedules)


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


def runs_per_month(expression: str) -> int:
    """Invocations a month of an EventBridge ``rate(...)`` expression."""
    found = _RATE.fullmatch(expression)
    if not found:
        raise SystemExit(f"schedule {expression!r}: only rate(...) is modelled")
    every_s = int(found[1]) * _UNIT_S[found[2].rstrip("s")]
    return DAYS_PER_MONTH * 86400 // every_s


# --- a month of messages ---


def month_mix(poll_s: int, period_h: float, settled_per_settling_message: float) -> dict[str, Any]:
    """Messages of each kind a gateway sends in a month (module docstring)."""
    messages = DAYS_PER_MONTH * 86400 / poll_s
    buckets = min(messages, DAYS_PER_MONTH * 86400 / BUCKET_S)
    settlements_per_meter = DAYS_PER_MONTH * 24 / period_h
    settling = min(buckets, settlements_per_meter * METERS / max(1.0, settled_per_settling_message))
    return {
        "messages": round(messages, 1),
        "steady": round(messages - buckets, 1),
        "bucket_close": round(buckets - settling, 1),
        "settlement": round(settling, 1),
        "settlements_per_meter_month": round(settlements_per_meter, 1),
        "settled_meters_per_settling_message": round(settled_per_settling_message, 2),
        "how": (
            f"{DAYS_PER_MONTH} days at {poll_s} s polling; one bucket close per {BUCKET_S // 60} "
            f"minutes; each meter settles once per {period_h:g} h settlement period (settler.py: "
            "a reading in a later period than the cursor), its bus's meters together in a "
            "settling message that also closes a bucket; threshold and top-up settlements "
            "and the 30 day-end roll-ups a gateway-month are not separate kinds here (the "
            "cross-section spans one period of daytime; balances sit far above every level)"
        ),
    }


def per_kind(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean figures per message of each kind from a round's per-message records."""
    out: dict[str, dict[str, Any]] = {}
    for kind in {r["kind"] for r in records}:
        mine = [r for r in records if r["kind"] == kind]
        n = len(mine)
        out[kind] = {
            "messages": n,
            "requests": round(sum(r["requests"] for r in mine) / n, 3),
            "rru": round(sum(r["rru"] for r in mine) / n, 3),
            "wru": round(sum(r["wru"] for r in mine) / n, 3),
            "bytes_written": round(sum(r["bytes"] for r in mine) / n, 1),
            "cpu_ms_mean": round(sum(r["cpu_ms"] for r in mine) / n, 2),
            "settled_meters": round(sum(r["settled"] for r in mine) / n, 2),
        }
    return dict(sorted(out.items()))


def _kind_figures(
    kind: str, poll: str, measured: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    """This poll rate's figures for ``kind``; else the other rate's; else the next
    cheaper kind's (said in the answer)."""
    if kind in measured[poll]["by_kind"]:
        return measured[poll]["by_kind"][kind], f"measured at {poll} s"
    for other, figures in measured.items():
        if kind in figures["by_kind"]:
            return figures["by_kind"][kind], f"not in the {poll} s round: from the {other} s round"
    fallback = {"settlement": "bucket_close", "bucket_close": "steady"}.get(kind)
    if fallback is None:
        raise SystemExit(f"no {kind} message measured in any round")
    figures, _ = _kind_figures(fallback, poll, measured)
    return figures, f"not observed in any round: priced as {fallback} (a floor)"


def lambda_duration_ms(cpu_ms: float, requests: float, memory_mb: int) -> float:
    return cpu_ms / (memory_mb / VCPU_MB) + requests * DYNAMO_LATENCY_MS


def month_weighted(
    poll: str, measured: dict[str, dict[str, Any]], deploy: Deployed, period_h: float
) -> dict[str, Any]:
    """Per gateway-month: requests, units, bytes and billed Lambda GB-s of a month's mix."""
    settling = measured[poll]["by_kind"].get("settlement") or next(
        (m["by_kind"]["settlement"] for m in measured.values() if "settlement" in m["by_kind"]),
        {"settled_meters": float(METERS)},
    )
    mix = month_mix(int(poll), period_h, settling["settled_meters"])
    totals = {"requests": 0.0, "rru": 0.0, "wru": 0.0, "bytes_written": 0.0, "cpu_ms": 0.0}
    gb_s = 0.0
    basis = {}
    for kind in KINDS:
        figures, source = _kind_figures(kind, poll, measured)
        basis[kind] = {**figures, "source": source}
        n = mix[kind]
        for key in ("requests", "rru", "wru", "bytes_written"):
            totals[key] += n * figures[key]
        totals["cpu_ms"] += n * figures["cpu_ms_mean"]
        duration = lambda_duration_ms(
            figures["cpu_ms_mean"], figures["requests"], deploy.ingest_memory_mb
        )
        gb_s += n * math.ceil(duration) / 1000 * deploy.ingest_memory_mb / 1024  # per 1 ms
    messages = mix["messages"]
    readings = messages * METERS
    return {
        "mix_per_gateway_month": mix,
        "per_kind": basis,
        "dynamodb_requests_per_message": round(totals["requests"] / messages, 3),
        "rru_per_reading": round(totals["rru"] / readings, 4),
        "wru_per_reading": round(totals["wru"] / readings, 4),
        "bytes_written_per_reading": round(totals["bytes_written"] / readings, 1),
        "cpu_ms_per_message_mean": round(totals["cpu_ms"] / messages, 2),
        "lambda_gb_s_per_gateway_month": round(gb_s, 2),
        "totals_per_gateway_month": {k: round(v, 1) for k, v in totals.items()},
    }


# --- the month's bill ---


def schedules_cost(deploy: Deployed, meters: int, sweeps: Path) -> dict[str, Any]:
    """The template's schedules a month (each run a Lambda invocation at its memory;
    scheduled rules are free), per meter of a fleet of ``meters``: the sweeps' run time
    at that size from the sweeps bench (``sweeps.json``'s 1,000,000-meter estimate) when
    it has one, else DAILY_RUN_S_ASSUMED."""
    found: dict[str, Any] = {}
    if sweeps.exists():
        found = json.loads(sweeps.read_text()).get("fleet_1m_meters", {})
    runs: dict[str, Any] = {}
    usd = 0.0
    for name, (expression, per_month, memory_mb) in sorted(deploy.schedules.items()):
        estimate = found.get(name, {}).get("ours_lambda_s_estimate")
        run_s = float(estimate) if estimate is not None else DAILY_RUN_S_ASSUMED
        cost = per_month * (
            price("lambda_requests_per_million") / 1e6
            + run_s * memory_mb / 1024 * price("lambda_gb_second_x86")
        )
        usd += cost
        runs[name] = {
            "schedule": expression,
            "runs_per_month": per_month,
            "memory_mb": memory_mb,
            "run_s": run_s,
            "run_s_source": "bench/results/sweeps.json fleet_1m_meters"
            if estimate is not None
            else f"assumed {DAILY_RUN_S_ASSUMED} s (not measured at fleet scale)",
            "usd_per_month": round(cost, 4),
        }
    return {
        "usd_per_meter_month": round(usd / meters, 9),
        "usd_per_stage_month": round(usd, 4),
        "fleet_meters": meters,
        "runs": runs,
        "source": "the template's schedules (infra/deploy), run times as stated per schedule",
    }


def cost_per_meter_month(
    poll: str,
    measured: dict[str, dict[str, Any]],
    shadow_ops: float,
    deploy: Deployed,
    period_h: float,
    payload_bytes_max: int,
    schedules: dict[str, Any],
) -> dict[str, Any]:
    """$ per meter-month by line item for a month of messages at ``poll`` s."""
    month = month_weighted(poll, measured, deploy, period_h)
    messages = month["mix_per_gateway_month"]["messages"]
    totals = month["totals_per_gateway_month"]
    # A message is metered in 5 KB increments (docs/iot-contracts.md keeps 32 meters
    # under 5 KB; the largest measured payload decides).
    increments = max(1, math.ceil(payload_bytes_max / IOT_MESSAGE_BYTES))
    # Two MQTT connections per 32-meter gateway (the nucleus's and T#2: 78 subscriptions
    # against 50 per connection, docs/iot-contracts.md); connected all month.
    connection_minutes = 2 * DAYS_PER_MONTH * 24 * 60
    cost = {
        "iot_messaging": messages * increments * price("iot_messaging_per_million_5kb") / 1e6,
        "iot_rules": messages
        * (price("iot_rules_triggered_per_million") + price("iot_rule_actions_per_million"))
        / 1e6,
        "iot_shadows": shadow_ops * price("iot_shadow_ops_per_million_1kb") / 1e6,
        "iot_connectivity": connection_minutes
        * price("iot_connectivity_per_million_minutes")
        / 1e6,
        "lambda_requests": messages * price("lambda_requests_per_million") / 1e6,
        "lambda_duration": month["lambda_gb_s_per_gateway_month"] * price("lambda_gb_second_x86"),
        "dynamodb_reads": totals["rru"] * price("dynamodb_rru_per_million_on_demand") / 1e6,
        "dynamodb_writes": totals["wru"] * price("dynamodb_wru_per_million_on_demand") / 1e6,
        # what a month writes, kept 35 days (the cycles' TTL, which most of it is)
        "dynamodb_storage": totals["bytes_written"]
        * 35
        / 30
        / 1e9
        * price("dynamodb_storage_gb_month"),
    }
    per_meter = {k: round(v / METERS, 6) for k, v in cost.items()}
    per_meter["schedules"] = round(schedules["usd_per_meter_month"], 6)
    mean_duration = lambda_duration_ms(
        month["cpu_ms_per_message_mean"],
        month["dynamodb_requests_per_message"],
        deploy.ingest_memory_mb,
    )
    return {
        "poll_s": int(poll),
        "messages_per_gateway_month": round(messages),
        "lambda_memory_mb": deploy.ingest_memory_mb,
        "lambda_duration_ms_modelled": round(mean_duration, 1),
        "iot_message_increments_of_5kb": increments,
        "dynamodb_storage_how": (
            "every byte a month writes, kept 35 days (the cycles' TTL, which most of it "
            "is); rewrites of the bus item and accounts count as new bytes: an overstatement"
        ),
        "month_weighted": month,
        "usd_per_meter_month": per_meter,
        "usd_per_meter_month_total": round(sum(per_meter.values()), 5),
        "schedules": schedules,
        "greengrass_core_device_per_meter_month_separately": round(
            price("greengrass_core_device_month") / METERS, 5
        ),
    }
