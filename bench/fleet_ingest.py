"""Fleet-scale ingest: >= 1,000 gateways x 32 meters, interleaved, as production sees them.

Run: ``uv run --frozen python bench/fleet_ingest.py [--gateways 1000] [--out PATH]``
-> ``bench/results/fleet_ingest.json`` (``docs/performance.md`` is written from it).
Progress lines (phase, count, elapsed, time to go) go to stdout as it runs.

Against the AWS stand-in (moto server, its own process), every DynamoDB request of
this process counted with its item sizes (``support/dynamo_meter.py``).

What it models, and why:

* **Cold containers.** At 1,000,000 meters (31,250 gateways, ~521 messages/s) ingest
  runs in tens of containers and no container sees the same gateway twice within a
  cache's life (issue 19). Here every message goes to one of ``--containers`` modelled
  containers picked at random, each with its own bus directory (its cache), so the cache
  hit rate is what production's would be (reported), not the one-gateway bench's ~100 %.
* **Steady state across the fleet, a month's mix in the money.** Each gateway's clock is
  offset so the fleet's messages fall evenly over a settlement period (a cross-section
  instead of a day). Which messages of a round close a bucket or settle is where the
  offsets fall, not a month's average, so each round reports its figures per kind of
  message (steady path, bucket close, settlement) and the cost weights them by a month's
  count of each kind (``support/fleet_cost.py``).
* **Seeded as running, set up fast.** Every bus starts with its control state and
  accounts as a running fleet has them (cursor, balance). A sample of buses (``--sample``,
  spread over the settlement period) is seeded first and sends its first message through
  ingest's real first-message path (context built from the catalogue and stored on the
  bus item, marks worked out, desired states written): reported apart as the warm-up.
  The rest of the fleet is brought in batch to the state such a message leaves, through
  the same data layer and planning code, by a pool of processes
  (``support/fleet_bring_up.py``; ``--workers``): moto answers a GSI query by walking
  the whole table, so a thousand real first messages would take an hour here while
  saying nothing new. A few buses are also brought up through the serial path under
  another company id and every item compared (``set_up.same_as_serial``); every batch
  bus's next message goes through ingest as a check (``first_message_after_bring_up``:
  no state write and no relay command there), and the measured rounds run the whole
  fleet at 60 s polling and at the recipe's default.
* **CPU is ingest's own.** The stand-in is a moto server in its own process
  (``local_aws``); CPU per message is this thread's (``time.thread_time``) around
  ``Ingest.handle``, botocore's serialising and parsing included, less the request
  meter's own counting (its item-size reads). Mean and p95.
* **Lambda at its real size.** The ingest function's memory is read from the template
  (``infra/deploy``), 512 MB today: 512/1,769 of a vCPU (AWS: 1,769 MB = one vCPU), so
  its duration is CPU / 0.289 plus the DynamoDB round trips. The schedules come from
  the template too.

Money is per meter-month by line item, every price with its date and source.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for extra in ("functions", "infra", "."):
    sys.path.insert(0, str(REPO / extra))

from bench.support.dynamo_meter import DynamoMeter  # noqa: E402
from bench.support.fleet_bring_up import bring_up, default_workers, seed  # noqa: E402
from bench.support.fleet_cost import (  # noqa: E402
    DYNAMO_LATENCY_MS,
    PRICES,
    TARGETS,
    Deployed,
    cost_per_meter_month,
    deployed,
    per_kind,
    schedules_cost,
)
from bench.support.fleet_model import METERS, Bus, CountingShadows  # noqa: E402
from chalicelib.pipeline.context import BusDirectory  # noqa: E402
from chalicelib.pipeline.ingest import Ingest  # noqa: E402
from chalicelib.wiring.container import Container, set_container  # noqa: E402
from chalicelib.wiring.settings import Settings  # noqa: E402
from local_aws.stack import LocalStack  # noqa: E402

OUT = REPO / "bench" / "results" / "fleet_ingest.json"
ONE_GATEWAY = REPO / "bench" / "results" / "pipeline_ingest.json"
SWEEPS = REPO / "bench" / "results" / "sweeps.json"
RECIPE = REPO / "greengrass_component" / "recipe.yaml"
FLEET_METERS_AT_SCALE = 1_000_000
PROGRESS_EVERY = 250


# --- running it ---


class StateWrites:
    """Counts ingest's control-state writes (``TelemetryStore.save_state``, wrapped on
    the container's one store): the bring-up check wants none but a settlement's, or a
    time-of-use meter's whose reading passed the band edge its due mark held until (the
    mark becomes the period's bound, once: ``Settler.with_due_mark``), counted here as
    ``bounds`` (the container's one settler, wrapped)."""

    def __init__(self, services: Container) -> None:
        self.count = 0
        self.bounds = 0
        store = services.telemetry
        original = store.save_state

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        store.save_state = counted  # type: ignore[method-assign]
        settler = services.settler
        marked = settler.with_due_mark

        def with_due_mark(*args: Any, **kwargs: Any) -> Any:
            before = args[2].due
            after = marked(*args, **kwargs)
            mark = after.due
            if (
                mark is not None
                and before is not None
                and before.until is not None
                and mark.until is None
                and mark.basis == before.basis
            ):
                self.bounds += 1
            return after

        settler.with_due_mark = with_due_mark  # type: ignore[method-assign]


def kind_of(settled: int, buckets: int, commands: int) -> str:
    """The message's kind for the month's mix (``support/fleet_cost.py``)."""
    if settled:
        return "settlement"
    if buckets:
        return "bucket_close"
    return "command" if commands else "steady"


def run_round(
    services: Container,
    meter: DynamoMeter,
    writes: StateWrites,
    directories: list[BusDirectory],
    buses: list[Bus],
    step: timedelta,
    rng: random.Random,
    label: str,
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """One message from every gateway, interleaved in a random order, each to a random
    modelled container. ``profiler``: enabled around ingest only (its figures then
    include the profiler's overhead; a profiled run's JSON is not for the record)."""
    ingest: Ingest = services.ingest
    order = list(range(len(buses)))
    rng.shuffle(order)
    records: list[dict[str, Any]] = []
    by_operation = Counter(meter.requests)
    state_writes_unsettled = state_writes_band_edge = payload_max = 0
    started = time.monotonic()
    every = max(1, min(PROGRESS_EVERY, len(order) // 4))  # a short round's too
    meter.counting = True
    for done, index in enumerate(order, 1):
        event = buses[index].message(step)
        payload_max = max(payload_max, len(base64.b64decode(event["raw"])))
        ingest._buses = rng.choice(directories)  # this message's container
        n0, r0, w0, b0 = sum(meter.requests.values()), meter.rru, meter.wru, meter.bytes_written
        s0, e0 = writes.count, writes.bounds
        m0 = meter.cpu_s
        c0 = time.thread_time()
        if profiler is not None:
            profiler.enable()
        result = ingest.handle(event)
        if profiler is not None:
            profiler.disable()
        # this thread's CPU (botocore's serialising and parsing included; the stand-in
        # runs in its own process), less the meter's counting (its read-backs)
        cpu_s = time.thread_time() - c0 - (meter.cpu_s - m0)
        if result.status != "stored":
            raise SystemExit(f"{label}: message not stored: {result}")
        if writes.count > s0 and not result.settled:
            if writes.bounds > e0:
                state_writes_band_edge += 1
            else:
                state_writes_unsettled += 1
        records.append(
            {
                "kind": kind_of(len(result.settled), result.buckets, len(result.commands)),
                "requests": sum(meter.requests.values()) - n0,
                "rru": meter.rru - r0,
                "wru": meter.wru - w0,
                "bytes": meter.bytes_written - b0,
                "cpu_ms": cpu_s * 1000,
                "settled": len(result.settled),
                "buckets": result.buckets,
                "commands": len(result.commands),
                "state_written": writes.count > s0,
            }
        )
        if done % every == 0 or done == len(order):
            elapsed = time.monotonic() - started
            print(
                f"   {label}: {done}/{len(order)} messages, {elapsed:.0f} s, "
                f"~{elapsed / done * (len(order) - done):.0f} s to go",
                flush=True,
            )
    meter.counting = False
    return round_figures(records, step, Counter(meter.requests) - by_operation) | {
        "state_writes": sum(1 for r in records if r["state_written"]),
        "state_writes_without_settlement": state_writes_unsettled,
        # a time-of-use mark's band edge passed: its bound written (settle_due.py)
        "state_writes_at_band_edge": state_writes_band_edge,
        "payload_bytes_max": payload_max,
        "wall_s": round(time.monotonic() - started, 1),
        "records": records,  # per message, for merging rounds; not in the JSON
    }


def round_figures(
    records: list[dict[str, Any]], step: timedelta, by_operation: Counter[str]
) -> dict[str, Any]:
    messages = len(records)
    readings = messages * METERS
    requests = [r["requests"] for r in records]
    steady = [r["requests"] for r in records if r["kind"] == "steady"]  # nothing due
    cpu = sorted(r["cpu_ms"] for r in records)
    return {
        "messages": messages,
        "meter_readings": readings,
        "poll_s": int(step.total_seconds()),
        "dynamodb_requests_per_message": round(sum(requests) / messages, 3),
        "dynamodb_requests_per_message_p95": sorted(requests)[int(messages * 0.95)],
        # messages that closed no bucket, settled nothing and sent no command
        "steady_path_messages": len(steady),
        "dynamodb_requests_per_message_steady_path": round(statistics.mean(steady), 3)
        if steady
        else None,
        "messages_with_at_most_2_requests": round(sum(1 for r in requests if r <= 2) / messages, 3),
        "rru_per_reading": round(sum(r["rru"] for r in records) / readings, 4),
        "wru_per_reading": round(sum(r["wru"] for r in records) / readings, 4),
        "bytes_written_per_reading": round(sum(r["bytes"] for r in records) / readings, 1),
        "cpu_ms_per_message": {
            "mean": round(statistics.mean(cpu), 2),
            "p50": round(cpu[len(cpu) // 2], 2),
            "p95": round(cpu[int(len(cpu) * 0.95)], 2),
        },
        "meters_settled": sum(r["settled"] for r in records),
        "relay_commands": sum(r["commands"] for r in records),
        "dynamodb_requests_by_operation": dict(by_operation),
        "buckets_closed": sum(r["buckets"] for r in records),
        # the round's own mix (where the clock offsets fell) and each kind's figures
        "by_kind": per_kind(records),
    }


def cache_hits(directories: list[BusDirectory]) -> dict[str, int]:
    hits = sum(getattr(d, "stored_hits", 0) for d in directories)
    misses = sum(getattr(d, "stored_misses", 0) for d in directories)
    return {"hits": hits, "misses": misses}


def recipe_default_poll_s() -> int:
    """``poll_interval_ms`` of the recipe's default configuration."""
    for line in RECIPE.read_text().splitlines():
        name, _, value = line.strip().partition(":")
        if name == "poll_interval_ms":
            return max(1, int(value.strip()) // 1000)
    raise SystemExit(f"no poll_interval_ms in {RECIPE}")


def phase(name: str, started: float) -> None:
    print(f">> {name} ({time.monotonic() - started:.0f} s in)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateways", type=int, default=1000)
    parser.add_argument("--containers", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1, help="measured rounds per poll rate")
    parser.add_argument(
        "--sample",
        type=int,
        default=24,
        help="buses whose first message goes through ingest (the rest are brought up in batch)",
    )
    parser.add_argument(
        "--full-catalogue",
        action="store_true",
        help="write every catalogue item of the batch buses too (slow in moto: ~100 a bus)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="processes bringing the batch buses up (1: in this process, one at a time)",
    )
    parser.add_argument(
        "--compare",
        type=int,
        default=3,
        help="batch buses also brought up through the serial path and compared item by item",
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"the JSON (default {OUT})")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a CPU profile (cProfile, thread time) of ingest in the 60 s round here; "
        "the JSON is then not written",
    )
    parser.add_argument(
        "--refresh-one-gateway",
        action="store_true",
        help="only copy pipeline_ingest.json's figures into the stored JSON (--out)",
    )
    args = parser.parse_args()
    if args.refresh_one_gateway:
        return refresh_one_gateway(args.out)
    if args.gateways < 1 or not 1 <= args.sample <= args.gateways:
        parser.error("need --gateways >= 1 and 1 <= --sample <= --gateways")
    if args.workers < 1 or args.compare < 0 or args.rounds < 1 or args.containers < 1:
        parser.error("need --workers >= 1, --compare >= 0, --rounds >= 1 and --containers >= 1")
    if args.out.is_dir():
        parser.error(f"--out {args.out} is a directory: give the JSON file's path")
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    rng = random.Random(19)
    started = time.monotonic()
    recipe_poll = recipe_default_poll_s()
    # the template (Lambda memory, schedules) is read while the stand-in starts: importing
    # the app for it is seconds of CPU, starting the stand-in mostly waiting
    template = ThreadPoolExecutor(1).submit(deployed)
    walls: dict[str, float] = {}

    def timed(name: str, since: float) -> float:
        now = time.monotonic()
        walls[name] = round(now - since, 1)
        return now

    with LocalStack() as stack:
        settings = Settings.from_env(stack.env())
        shadows = CountingShadows()
        services = Container(settings, clients={"iot-data": shadows})
        set_container(services)
        writes = StateWrites(services)
        buses = [Bus(i, args.gateways) for i in range(args.gateways)]
        # the sample spread over the settlement period like the fleet
        stride = args.gateways / args.sample
        chosen = {int(k * stride) for k in range(args.sample)}
        sample = [b for i, b in enumerate(buses) if i in chosen]
        rest = [b for i, b in enumerate(buses) if i not in chosen]
        directories = [
            BusDirectory(services.catalogue, settings.catalogue_cache_s, services.buses._items)
            for _ in range(args.containers)
        ]
        meter = DynamoMeter()
        meter.install()
        deploy = template.result()
        mark = timed("start", started)
        try:
            phase(f"sample: {len(sample)} buses seeded, first message through ingest", started)
            seed(services, sample)
            warm = run_round(
                services, meter, writes, directories, sample, seconds(60), rng, "first message"
            )
            mark = timed("sample_first_messages", mark)
            phase(
                f"the other {len(rest)} buses brought up in batch ({args.workers} workers)",
                started,
            )
            brought_up = bring_up(
                services, stack.env(), rest, args.full_catalogue, args.workers, args.compare
            )
            mark = timed("bring_up", mark)
            phase("bring-up check: every batch bus's next message through ingest", started)
            first_after_bring_up = run_round(
                services, meter, writes, directories, rest, seconds(60), rng, "bring-up check"
            )
            mark = timed("bring_up_check", mark)
            warm_shadows = shadows.updates
            # The deployed entry freezes what its cold start made (lambdas.end_cold_start),
            # so a container's collections walk only what its invocations made. The bench's
            # own heap (a thousand buses' bring-up, the stand-in's clients) is in no
            # container: frozen here, or every full collection in a round would walk it
            # and be charged to the message that triggered it.
            gc.collect()
            gc.freeze()
            records: dict[str, list[dict[str, Any]]] = {"60": [], str(recipe_poll): []}
            rounds: dict[str, list[dict[str, Any]]] = {"60": [], str(recipe_poll): []}
            for poll_s in (60, recipe_poll):
                for r in range(args.rounds):
                    phase(f"{poll_s} s polling, round {r + 1} of {args.rounds}", started)
                    figures = run_round(
                        services,
                        meter,
                        writes,
                        directories,
                        buses,
                        seconds(poll_s),
                        rng,
                        f"{poll_s}s",
                        profiler if poll_s == 60 else None,
                    )
                    records[str(poll_s)] += figures.pop("records")
                    rounds[str(poll_s)].append(figures)
                mark = timed(f"rounds_{poll_s}s", mark)
        finally:
            meter.uninstall()
    for figures in (warm, first_after_bring_up):
        figures.pop("records")
    steady_shadows = shadows.updates - warm_shadows
    measured = {poll: _merge(rounds[poll], records[poll]) for poll in rounds}
    steady_messages = sum(m["messages"] for m in measured.values())
    shadow_ops_per_message = 2 * steady_shadows / steady_messages  # write + the report
    schedules = schedules_cost(deploy, FLEET_METERS_AT_SCALE, SWEEPS)
    payload_max = max(r["payload_bytes_max"] for rs in rounds.values() for r in rs)
    costs = {
        poll: cost_per_meter_month(
            poll,
            measured,
            shadow_ops_per_message * 30 * 86400 / int(poll),
            deploy,
            settings.settlement_period_h,
            payload_max,
            schedules,
        )
        for poll in measured
    }
    check_passed = (
        first_after_bring_up["state_writes_without_settlement"] == 0
        and first_after_bring_up["relay_commands"] == 0
    )
    if not check_passed:
        print(
            "!! bring-up check FAILED: a batch bus's next message wrote its state without "
            "settling, or sent a relay command: the batch state is not what ingest plans",
            flush=True,
        )
    at_60 = measured["60"]
    month_60 = costs["60"]["month_weighted"]
    result = {
        "benchmark": "fleet_ingest",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fleet": fleet_section(args, directories, recipe_poll, deploy),
        "set_up": set_up_section(args, sample, brought_up, first_after_bring_up, check_passed),
        "warm_up_first_message_per_bus": warm,
        "first_message_after_bring_up": first_after_bring_up,
        "measured": measured,
        "shadow_writes_steady": steady_shadows,
        "invocations_per_1000_readings": {poll: round(1000 / METERS, 2) for poll in measured},
        "cost": costs,
        "prices": PRICES,
        "one_gateway_same_tree": one_gateway_figures(),
        "targets": {
            **TARGETS,
            "usd_per_meter_month_at_60s": costs["60"]["usd_per_meter_month_total"],
            "usd_per_meter_month_at_60s_met": costs["60"]["usd_per_meter_month_total"]
            <= TARGETS["usd_per_meter_month_at_60s_max"],
            # the target is the steady path's; the mean with bucket closes and
            # settlements (what the cost model uses) beside it
            "dynamodb_requests_per_message": at_60["dynamodb_requests_per_message_steady_path"],
            "dynamodb_requests_per_message_met": (
                at_60["dynamodb_requests_per_message_steady_path"] or 0
            )
            <= TARGETS["dynamodb_requests_per_message_max"],
            "dynamodb_requests_per_message_all_in": at_60["dynamodb_requests_per_message"],
            "rru_per_reading": at_60["rru_per_reading"],
            "rru_per_reading_met": at_60["rru_per_reading"] <= TARGETS["rru_per_reading_max"],
            "wru_per_reading": at_60["wru_per_reading"],
            "wru_per_reading_met": at_60["wru_per_reading"] <= TARGETS["wru_per_reading_max"],
            "cpu_ms_per_message_mean": at_60["cpu_ms_per_message"]["mean"],
            "cpu_ms_per_message_mean_met": at_60["cpu_ms_per_message"]["mean"]
            <= TARGETS["cpu_ms_per_message_mean_max"],
            # the same over a month's mix of message kinds (what the cost uses)
            "month_weighted_at_60s": {
                "dynamodb_requests_per_message": month_60["dynamodb_requests_per_message"],
                "rru_per_reading": month_60["rru_per_reading"],
                "rru_per_reading_met": month_60["rru_per_reading"]
                <= TARGETS["rru_per_reading_max"],
                "wru_per_reading": month_60["wru_per_reading"],
                "wru_per_reading_met": month_60["wru_per_reading"]
                <= TARGETS["wru_per_reading_max"],
                "cpu_ms_per_message_mean": month_60["cpu_ms_per_message_mean"],
                "cpu_ms_per_message_mean_met": month_60["cpu_ms_per_message_mean"]
                <= TARGETS["cpu_ms_per_message_mean_max"],
            },
        },
        "phases_wall_s": walls,
        "cpu_s": cpu_used(),
        "wall_s": round(time.monotonic() - started, 1),
    }
    if profiler is not None:
        profiler.dump_stats(args.profile)
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(40)
        print(json.dumps(result["measured"], indent=2))
        print(f">> profile in {args.profile}; {args.out} left as it was")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["targets"], indent=2))
    print(f">> {args.out} in {result['wall_s']} s (phases: {walls})")
    return 0 if check_passed else 1


def cpu_used() -> dict[str, Any]:
    """CPU the whole run used: this process's, and its children's (the bring-up workers
    and the stand-in, reaped by now). Against the wall time it shows how much of the run
    was waiting for a shared machine: on an idle one the run needs about the larger of
    this process's CPU and the total over the cores."""
    times = os.times()
    own = times.user + times.system
    children = times.children_user + times.children_system
    return {
        "bench_process": round(own, 1),
        "workers_and_stand_in": round(children, 1),
        "total": round(own + children, 1),
        "cores": os.cpu_count(),
    }


def seconds(n: int) -> timedelta:
    return timedelta(seconds=n)


def fleet_section(
    args: argparse.Namespace, directories: list[BusDirectory], recipe_poll: int, deploy: Deployed
) -> dict[str, Any]:
    return {
        "gateways": args.gateways,
        "meters_per_gateway": METERS,
        "meters": args.gateways * METERS,
        "tariffs": {"flat": 24, "tiered": 4, "time_of_use": 4},
        "modelled_containers": args.containers,
        "container_cache_hits": cache_hits(directories),
        "recipe_default_poll_s": recipe_poll,
        "lambda_memory_mb": deploy.ingest_memory_mb,
        "lambda_memory_source": "infra/deploy template: the ingest_telemetry function's MemorySize",
        "lambda_vcpu_share": round(deploy.vcpu_share, 3),
        "dynamo_latency_ms_assumed": DYNAMO_LATENCY_MS,
    }


def set_up_section(
    args: argparse.Namespace,
    sample: list[Bus],
    brought_up: dict[str, Any],
    check: dict[str, Any],
    check_passed: bool,
) -> dict[str, Any]:
    return {
        "how": (
            f"{len(sample)} sample buses (spread over the settlement period) seeded as "
            "running and their first message sent through ingest (its figures: "
            "warm_up_first_message_per_bus); the other buses brought in batch to the "
            "state a first message leaves (first cycle, packed context, control state "
            "with due marks and desired relay states), through the same data layer and "
            "planning code, by a pool of worker processes (bench/support/fleet_bring_up.py); "
            "a few of them also through the serial path under another company id and every "
            "item compared (same_as_serial); their next message goes through ingest as a "
            "check (first_message_after_bring_up: no state write but a settlement's and no "
            "relay command there shows the batch state is what ingest plans). The batch "
            "buses' catalogue items other than the gateway and the accounts are written "
            "only with --full-catalogue: ingest reads their packed copy on the bus item. "
            "The measured rounds run every bus of the fleet."
        ),
        "sample_buses": len(sample),
        "batch_buses": brought_up["buses"],
        "batch_items_written": brought_up["items_written"],
        "batch_full_catalogue": brought_up["full_catalogue"],
        "batch_wall_s": brought_up["wall_s"],
        "workers": brought_up["workers"],
        "worker_cpu_s": brought_up["worker_cpu_s"],
        "same_as_serial": brought_up["same_as_serial"],
        "bring_up_check": {
            "passed": check_passed,
            "state_writes_without_settlement": check["state_writes_without_settlement"],
            "state_writes_at_band_edge": check["state_writes_at_band_edge"],
            "relay_commands": check["relay_commands"],
            "messages": check["messages"],
        },
    }


def one_gateway_figures() -> dict[str, Any]:
    """The one-gateway bench's figures (``pipeline_ingest.json``), beside the fleet's."""
    if not ONE_GATEWAY.exists():
        return {"source": "bench/results/pipeline_ingest.json", "run_at": None}
    data = json.loads(ONE_GATEWAY.read_text())
    one = data["ours"]
    return {
        "source": "bench/results/pipeline_ingest.json",
        "run_at": data.get("run_at"),
        "dynamodb_requests_per_message": one.get("dynamodb_requests_per_message"),
        "rru_per_reading": one.get("rru_per_reading"),
        "wru_per_reading": one.get("wru_per_reading"),
        "cpu_ms_per_message": one.get("cpu_ms_per_message"),
    }


def refresh_one_gateway(out: Path) -> int:
    """Put the one-gateway figures of a newer ``pipeline_ingest.json`` beside this
    bench's stored figures (the two benches run apart)."""
    result = json.loads(out.read_text())
    result["one_gateway_same_tree"] = one_gateway_figures()
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["one_gateway_same_tree"], indent=2))
    return 0


def _merge(rounds: list[dict[str, Any]], records: list[dict[str, Any]]) -> dict[str, Any]:
    """A poll rate's rounds as one: the figures of all their messages."""
    if len(rounds) == 1:
        return rounds[0]
    operations: Counter[str] = Counter()
    for r in rounds:
        operations.update(r["dynamodb_requests_by_operation"])
    return round_figures(records, seconds(rounds[0]["poll_s"]), operations) | {
        "state_writes": sum(r["state_writes"] for r in rounds),
        "state_writes_without_settlement": sum(
            r["state_writes_without_settlement"] for r in rounds
        ),
        "state_writes_at_band_edge": sum(r["state_writes_at_band_edge"] for r in rounds),
        "payload_bytes_max": max(r["payload_bytes_max"] for r in rounds),
        "wall_s": round(sum(r["wall_s"] for r in rounds), 1),
    }


if __name__ == "__main__":
    sys.exit(main())
