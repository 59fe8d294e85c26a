"""Event-pipeline cost: a simulated day of one 32-meter bus through ingest, and a naive design.

Run: ``uv run --frozen python bench/pipeline_ingest.py [--hours 24]``
-> ``bench/results/pipeline_ingest.json``.

Against the AWS stand-in (moto server, its own process), with every botocore
client in this process counted (``support/dynamo_meter.py``):

* ingest CPU time per message (32 meters), this process only (moto is elsewhere);
* DynamoDB requests, write units and read units per meter-reading, from the
  actual requests and item sizes, over the simulated day;
* function invocations per 1,000 meter-readings, and shadow writes;
* the same day's first hour through a naive design (a reading item, a ledger
  entry and a balance update per meter-reading) and the ratio;
* a monthly AWS cost per meter from the counted operations x published prices.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for extra in ("functions", "infra", "."):
    sys.path.insert(0, str(REPO / extra))

import boto3  # noqa: E402
from pynamodb.attributes import (  # noqa: E402
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from bench.support.dynamo_meter import DynamoMeter, item_size  # noqa: E402
from bench.support.telemetry_events import cycle_payload, raw_event  # noqa: E402
from chalicelib.data import builders, keys  # noqa: E402
from chalicelib.data.catalogue import Catalogue  # noqa: E402
from chalicelib.data.models import PowerletItem  # noqa: E402
from chalicelib.domain import EntryKind, LedgerEntry, Money  # noqa: E402
from chalicelib.pipeline.ingest import Ingest  # noqa: E402
from chalicelib.pipeline.senders import thing_name_for  # noqa: E402
from chalicelib.pipeline.validation import Checked, ReadingValidator  # noqa: E402
from chalicelib.wiring.container import Container, set_container  # noqa: E402
from chalicelib.wiring.settings import Settings  # noqa: E402
from local_aws import tariff_documents as td  # noqa: E402
from local_aws.stack import LocalStack  # noqa: E402

OUT = REPO / "bench" / "results" / "pipeline_ingest.json"
METERS = 32
GATEWAY = "gw1"
CYCLES_PER_DAY = 24 * 60
DAYS_PER_MONTH = 30
T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
# Assumed DynamoDB round trip inside an AWS region, for Lambda duration (moto's is not).
DYNAMO_LATENCY_MS = 6.0
LAMBDA_MEMORY_GB = 0.256

# Published list prices, us-east-1. Recorded from the AWS pricing pages as known on
# 2025-01-15 (DynamoDB on-demand after the 2024-11-01 price cut); this machine has no
# network, so they were not re-fetched at run time.
PRICES: dict[str, Any] = {
    "date": "2025-01-15",
    "region": "us-east-1",
    "iot_messaging_per_million_5kb": 1.00,
    "iot_rules_triggered_per_million": 0.15,
    "iot_rule_actions_per_million": 0.15,
    "iot_shadow_ops_per_million_1kb": 1.25,
    "iot_connectivity_per_million_minutes": 0.08,
    "lambda_requests_per_million": 0.20,
    "lambda_gb_second": 0.0000166667,
    "dynamodb_wru_per_million": 0.625,
    "dynamodb_rru_per_million": 0.125,
    "dynamodb_storage_gb_month": 0.25,
}
TARGET_WRU_PER_READING = 0.3
TARGET_USD_PER_METER_MONTH = 0.01

FLAT = td.flat("flat", "5.00")
TIERED = td.tiered_all_year("tiered", [("120", "1.68"), (None, "3.33")])
TOU = td.tou_every_day("tou", [("00:00", "09:00", "off"), ("09:00", "24:00", "peak")])


def tariff_of(n: int) -> dict[str, Any]:
    """The bus's mix: one meter in eight time-of-use, one in eight tiered, the rest flat."""
    return TOU if n % 8 == 7 else TIERED if n % 4 == 3 else FLAT


def seed_bus(services: Container, tag: str) -> tuple[str, str, list[str]]:
    co, prop, gw = f"bench-{tag}", "p1", GATEWAY
    thing = thing_name_for(co, gw)  # as the product registers it (owner in the name)
    opened = datetime(2026, 11, 1, tzinfo=UTC)
    items: list[Any] = [
        builders.company(co, "Bench Co", opened, low_credit_thresholds_minor=[50000, 10000]),
        builders.property_(
            co,
            prop,
            name="P",
            address="A",
            city="Taipei",
            country="TW",
            time_zone="Asia/Taipei",
            currency="TWD",
            emergency_credit_minor=0,
        ),
        builders.gateway(co, gw, thing, property_id=prop),
    ]
    meters = []
    for n in range(METERS):
        tariff = tariff_of(n)
        meter_id, unit_id, account_id = f"m{n:02d}", f"u{n:02d}", f"a{n:02d}"
        meters.append(meter_id)
        items.append(builders.meter(co, meter_id, gw, n + 1, unit_id=unit_id, profile="dds238"))
        items.append(
            builders.tenancy(
                co,
                f"t{n:02d}",
                unit_id,
                f"sub{n:02d}",
                "2026-11-01",
                account_id=account_id,
                opening_kwh="1000.000",
            )
        )
        items.append(
            builders.unit(
                co,
                unit_id,
                prop,
                name=unit_id,
                unit_type="flat",
                billing_mode="prepaid",
                tariff=tariff,
                meter_id=meter_id,
                account_id=account_id,
                tenancy_id=f"t{n:02d}",
            )
        )
        services.ledger.open_account(co, account_id, "TWD", opened)
        services.ledger.append(
            co,
            LedgerEntry(
                f"open-{account_id}", account_id, EntryKind.TOP_UP, Money(5_000_000, "TWD"), opened
            ),
        )
    Catalogue.save_all(items)
    boto3.client("iot").create_thing(thingName=thing)
    return co, thing, meters


def day_of_events(thing: str, meters: list[str], cycles: int) -> list[dict[str, Any]]:
    """One message a minute; each meter's register moves by what its power passed in the
    minute (the validation at ingest checks exactly that: spikes, frozen registers)."""
    rng = random.Random(42)
    spool = secrets.token_hex(8)
    registers_wh = {m: 1_000_000 for m in meters}
    events = []
    for seq in range(1, cycles + 1):
        at = T0 + timedelta(minutes=seq)
        rows: list[dict[str, Any]] = []
        for m in meters:
            step_wh = rng.choice((0, 1, 2, 5, 8, 13, 21))
            registers_wh[m] += step_wh
            watts = step_wh * 60  # the mean power that moves the register step_wh in a minute
            rows.append(
                {
                    "i": m,
                    "dt": 30 * len(rows),
                    "ie": f"{registers_wh[m] // 1000}.{registers_wh[m] % 1000:03d}",
                    "xe": "0.000",
                    "v": 229.8,
                    "a": round(watts / 229.8, 2),
                    "w": watts,
                    "pf": 0.98,
                    "hz": 60.0,
                    "r": 1,
                    "dg": [0, 0, 0, 28, 0],
                }
            )
        payload = cycle_payload(thing, spool, seq, at, rows, duration_ms=1100)
        events.append(raw_event(payload, thing, at + timedelta(seconds=2)))
    return events


def run_pipeline(
    services: Container,
    meter: DynamoMeter,
    events: list[dict[str, Any]],
    ingest: Ingest | None = None,
) -> dict[str, Any]:
    ingest = ingest or services.ingest
    cpu: list[float] = []
    wall: list[float] = []
    meter.reset()
    meter.counting = True
    for index, event in enumerate(events):
        m0 = meter.cpu_s
        c0, w0 = time.thread_time(), time.perf_counter()
        result = ingest.handle(event)
        # ingest's thread (the stand-in has its own process), less the meter's counting
        cpu.append(time.thread_time() - c0 - (meter.cpu_s - m0))
        wall.append(time.perf_counter() - w0)
        assert result.status == "stored", result
        if index % 240 == 0:
            print(f"   cycle {index}/{len(events)}", flush=True)
    meter.counting = False
    readings = len(events) * METERS
    dynamo_requests = sum(meter.requests.values())
    return {
        "messages": len(events),
        "meter_readings": readings,
        "cpu_ms_per_message": {
            "mean": round(statistics.mean(cpu) * 1000, 2),
            "p50": round(statistics.median(cpu) * 1000, 2),
            "p95": round(sorted(cpu)[int(len(cpu) * 0.95)] * 1000, 2),
        },
        "wall_ms_per_message_against_moto": round(statistics.mean(wall) * 1000, 2),
        "dynamodb_requests": dict(meter.requests),
        "dynamodb_requests_per_message": round(dynamo_requests / len(events), 3),
        "dynamodb_requests_per_reading": round(dynamo_requests / readings, 4),
        "wru": meter.wru,
        "wru_per_reading": round(meter.wru / readings, 4),
        "rru_per_reading": round(meter.rru / readings, 4),
        "bytes_written_per_reading": round(meter.bytes_written / readings, 1),
        "other_requests": dict(meter.other_requests),
        "shadow_writes": services.shadows.writes,
    }


class NoValidation(ReadingValidator):
    """The baseline for the cost of validation at ingest: every row passes, nothing is
    read or written for it. Bench only: the product always validates."""

    def check(self, bus: Any, message: Any, rows: Any, previous: Any) -> Checked:
        return Checked(list(rows), [], [])

    def record(self, bus: Any, checked: Checked) -> list[Any]:
        return []


def validation_cost(services: Container, meter: DynamoMeter, cycles: int) -> dict[str, Any]:
    """The same messages through ingest with and without validation, each on a fresh bus
    in this run, so the difference is what validation costs (requests, CPU)."""
    runs: dict[str, dict[str, Any]] = {}
    for name in ("without_validation", "with_validation"):
        _, thing, meters = seed_bus(services, secrets.token_hex(3))
        events = day_of_events(thing, meters, cycles)
        ingest = services.ingest
        if name == "without_validation":
            ingest = Ingest(
                services.buses,
                services.telemetry,
                services.settler,
                services.controller,
                services.dead_letters,
                usage=services.usage_counters,
                validator=NoValidation(services.telemetry, services.held_readings),
                catalogue=services.catalogue,
            )
        print(f">> {name}: {cycles} cycles", flush=True)
        measured = run_pipeline(services, meter, events, ingest)
        runs[name] = {
            key: measured[key]
            for key in (
                "messages",
                "cpu_ms_per_message",
                "dynamodb_requests_per_reading",
                "wru_per_reading",
                "rru_per_reading",
            )
        }
    base, full = runs["without_validation"], runs["with_validation"]
    runs["added_by_validation"] = {
        "dynamodb_requests_per_reading": round(
            full["dynamodb_requests_per_reading"] - base["dynamodb_requests_per_reading"], 4
        ),
        "wru_per_reading": round(full["wru_per_reading"] - base["wru_per_reading"], 4),
        "cpu_ms_per_message_mean": round(
            full["cpu_ms_per_message"]["mean"] - base["cpu_ms_per_message"]["mean"], 2
        ),
        "cpu_ratio_with_over_without": round(
            full["cpu_ms_per_message"]["mean"] / base["cpu_ms_per_message"]["mean"], 3
        ),
    }
    return runs


class NaiveReading(PowerletItem, discriminator="BenchNaiveReading"):
    """The naive design the bench compares with: one item per meter-reading. Not a
    product item (the product keeps one cycle item per bus message)."""

    company_id = UnicodeAttribute()
    meter_id = UnicodeAttribute()
    read_at = UTCDateTimeAttribute()
    import_kwh = UnicodeAttribute()
    values = JSONAttribute(null=True)  # instantaneous V, A, W, PF, Hz as strings
    gateway_seq = NumberAttribute(null=True)


def naive_reading_sk(at: datetime) -> str:
    return "R#" + at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def run_naive(
    services: Container, meter: DynamoMeter, co: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """A reading item, a ledger entry and a balance update for every meter-reading."""
    meter.reset()
    meter.counting = True
    c_total = 0.0
    for event in events:
        m0 = meter.cpu_s
        c0 = time.thread_time()
        payload = json.loads(base64.b64decode(event["raw"]))
        at = datetime.fromtimestamp(payload["t"] / 1000, tz=UTC)
        for row in payload["m"]:
            NaiveReading(
                keys.meter_data_pk(co, row["i"]),
                naive_reading_sk(at),
                company_id=co,
                meter_id=row["i"],
                read_at=at,
                import_kwh=row["ie"],
                values={k: str(row[k]) for k in ("v", "a", "w", "pf", "hz")},
                gateway_seq=payload["s"],
            ).save(condition=NaiveReading.pk.does_not_exist())
            services.ledger.append(
                co,
                LedgerEntry(
                    f"naive:{row['i']}:{payload['s']}",
                    f"a{row['i'][1:]}",
                    EntryKind.CONSUMPTION_CHARGE,
                    Money(-1, "TWD"),
                    at,
                    refs={"meter": row["i"]},
                ),
            )
        c_total += time.thread_time() - c0 - (meter.cpu_s - m0)
    meter.counting = False
    readings = len(events) * METERS
    return {
        "messages": len(events),
        "meter_readings": readings,
        "cpu_ms_per_message": round(c_total / len(events) * 1000, 2),
        "dynamodb_requests_per_reading": round(sum(meter.requests.values()) / readings, 4),
        "wru_per_reading": round(meter.wru / readings, 4),
        "rru_per_reading": round(meter.rru / readings, 4),
        "bytes_written_per_reading": round(meter.bytes_written / readings, 1),
    }


def state_item_bytes(settings: Settings, company_id: str) -> int:
    """The bus's control state (GatewayState) as the run left it, in DynamoDB's item bytes:
    read in full by every message, rewritten whole on every change (docs/pipeline.md)."""
    key = {
        "pk": {"S": keys.gateway_data_pk(company_id, GATEWAY)},
        "sk": {"S": keys.GATEWAY_STATE_SK},
    }
    answer = boto3.client("dynamodb").get_item(TableName=settings.table_name, Key=key)
    return item_size(answer["Item"])


def monthly_cost_per_meter(measured: dict[str, Any], message_bytes: int) -> dict[str, Any]:
    p = PRICES
    messages = CYCLES_PER_DAY * DAYS_PER_MONTH  # per gateway-month
    readings = messages * METERS
    per_meter = 1 / METERS
    units_5kb = -(-message_bytes // 5120)
    shadow_ops = measured["shadow_writes"] * 2 / measured["messages"] * messages  # write + report
    requests_per_message = measured["dynamodb_requests_per_message"]
    duration_s = (
        measured["cpu_ms_per_message"]["mean"] + requests_per_message * DYNAMO_LATENCY_MS
    ) / 1000
    billed_s = max(0.001, round(duration_s, 3))
    cost = {
        "iot_messaging": messages * units_5kb * p["iot_messaging_per_million_5kb"] / 1e6,
        "iot_rules": messages
        * (p["iot_rules_triggered_per_million"] + p["iot_rule_actions_per_million"])
        / 1e6,
        "iot_shadow": shadow_ops * p["iot_shadow_ops_per_million_1kb"] / 1e6,
        "iot_connectivity": messages * p["iot_connectivity_per_million_minutes"] / 1e6,
        "lambda_requests": messages * p["lambda_requests_per_million"] / 1e6,
        "lambda_duration": messages * billed_s * LAMBDA_MEMORY_GB * p["lambda_gb_second"],
        "dynamodb_writes": readings
        * measured["wru_per_reading"]
        * p["dynamodb_wru_per_million"]
        / 1e6,
        "dynamodb_reads": readings
        * measured["rru_per_reading"]
        * p["dynamodb_rru_per_million"]
        / 1e6,
        # Cycles live 35 days (TTL); the rest is small next to them.
        "dynamodb_storage": readings
        * measured["bytes_written_per_reading"]
        * 35
        / 30
        / 1e9
        * p["dynamodb_storage_gb_month"],
    }
    per_meter_cost = {k: round(v * per_meter, 6) for k, v in cost.items()}
    return {
        "assumptions": {
            "polling_s": 60,
            "meters_per_gateway": METERS,
            "days_per_month": DAYS_PER_MONTH,
            "message_bytes": message_bytes,
            "iot_5kb_units_per_message": units_5kb,
            "lambda_memory_gb": LAMBDA_MEMORY_GB,
            "lambda_duration_s_estimate": billed_s,
            "dynamo_latency_ms_assumed": DYNAMO_LATENCY_MS,
            "schedules": "fixed per stage, not per meter: excluded (see docs/pipeline.md)",
        },
        "usd_per_meter_month": per_meter_cost,
        "usd_per_meter_month_total": round(sum(per_meter_cost.values()), 5),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--naive-cycles", type=int, default=30)
    parser.add_argument("--validation-cycles", type=int, default=240)
    args = parser.parse_args()
    cycles = int(args.hours * 60)
    with LocalStack() as stack:
        settings = Settings.from_env(stack.env())
        services = Container(settings)
        set_container(services)
        meter = DynamoMeter()
        meter.install()
        try:
            co, thing, meters = seed_bus(services, secrets.token_hex(3))
            events = day_of_events(thing, meters, cycles)
            message_bytes = max(len(base64.b64decode(e["raw"])) for e in events)
            print(f">> ours: {cycles} cycles x {METERS} meters", flush=True)
            ours = run_pipeline(services, meter, events)
            ours["gateway_state_item_bytes"] = state_item_bytes(settings, co)
            print(">> naive", flush=True)
            naive = run_naive(services, meter, co, events[: args.naive_cycles])
            validation = validation_cost(services, meter, args.validation_cycles)
        finally:
            meter.uninstall()
    invocations = {
        "ingest_per_1000_readings": round(1000 / METERS, 2),
        "relay_confirmation_per_1000_readings": round(
            ours["shadow_writes"] / ours["meter_readings"] * 1000, 3
        ),
        "schedules_per_day_per_stage": {
            "relay_retry_sweep": 1440,
            "offline_sweep": 288,
            "reconcile_balances": 1,
            "postpaid_bills": 1,
        },
    }
    cost = monthly_cost_per_meter(ours, message_bytes)
    tariffs = Counter(str(tariff_of(n)["kind"]) for n in range(METERS))
    result = {
        "benchmark": "pipeline_ingest",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "simulated_hours": args.hours,
        "bus": {"meters": METERS, "billing": "prepaid", "tariffs": dict(sorted(tariffs.items()))},
        "ours": ours,
        "naive": naive,
        "validation": validation,
        "ratio_naive_over_ours": {
            "wru_per_reading": round(naive["wru_per_reading"] / ours["wru_per_reading"], 1),
            "dynamodb_requests_per_reading": round(
                naive["dynamodb_requests_per_reading"] / ours["dynamodb_requests_per_reading"], 1
            ),
        },
        "function_invocations": invocations,
        "cost": cost,
        "prices": PRICES,
        "targets": {
            "wru_per_reading_max": TARGET_WRU_PER_READING,
            "wru_per_reading_met": ours["wru_per_reading"] <= TARGET_WRU_PER_READING,
            "usd_per_meter_month_max": TARGET_USD_PER_METER_MONTH,
            "usd_per_meter_month_met": cost["usd_per_meter_month_total"]
            <= TARGET_USD_PER_METER_MONTH,
        },
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("ratio_naive_over_ours", "targets")}, indent=2))
    print(
        f"ours: {ours['wru_per_reading']} WRU, {ours['rru_per_reading']} RRU per reading; "
        f"cpu {ours['cpu_ms_per_message']} ms/msg; cost {cost['usd_per_meter_month_total']} USD"
    )
    met = result["targets"]
    return 0 if met["wru_per_reading_met"] and met["usd_per_meter_month_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
