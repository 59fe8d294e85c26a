"""Run a soak against the AWS stand-in and return the report (``passed`` false on any failure)."""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.data.binding import bind_models
from chalicelib.data.models import ALL_ITEM_CLASSES, PowerletItem
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings
from local_aws.stack import LocalStack

from .field_faults import QUIET_CYCLES, FieldFaults, apply_register_changes, plan_field_faults
from .landlord import ExchangeRecord, record_exchanges
from .load_model import as_kwh, registers
from .month_end import bill_the_month
from .portfolio import START, UTC_OFFSET_H, SimGateway, SimMeter, plan_portfolio, seed_portfolio
from .traffic import Delivery, Produced, gateway_traffic, killed_cycle, silent_window
from .truth import Truth
from .verify import (
    Findings,
    check_accounts,
    check_disconnects,
    check_held_items,
    check_readings,
    check_relays,
)

TOP_UP_MINOR = 40_000
OPS_EVERY = timedelta(days=3)
MAX_DELIVERIES = 2_000_000


@dataclass(frozen=True)
class SoakParams:
    days: int = 30
    meters: int = 200
    gateways: int = 10
    seed: int = 8
    cycle_min: int = 60
    reorder_rate: float = 0.1


CLIENT_RETRIES = 3


@dataclass
class Ledgerbook:
    """What the clients paid, as they meant it (one amount per idempotency key)."""

    top_ups: dict[str, int]
    manual: list[str]
    errors: list[str]
    retried: list[str] = field(default_factory=list)  # answered 409/503, retried as a client does
    top_up_times: list[tuple[str, datetime, int]] = field(default_factory=list)  # account, at


def ops_times(days: int) -> list[datetime]:
    """The operations rounds: every OPS_EVERY from half of it, inside the run."""
    end = START + timedelta(days=days)
    out = []
    at = START + OPS_EVERY / 2
    while at < end:
        out.append(at)
        at += OPS_EVERY
    return out


def build(
    params: SoakParams,
) -> tuple[list[SimGateway], dict[str, list[int]], list[Delivery], Produced, FieldFaults]:
    plan = plan_portfolio(params.meters, params.gateways, params.seed, params.days)
    step = timedelta(minutes=params.cycle_min)
    count = params.days * 24 * 60 // params.cycle_min
    regs = {
        m.meter_id: registers(m.model, START, step, count, UTC_OFFSET_H)
        for gw in plan
        for m in gw.meters
    }
    rounds = ops_times(params.days)

    def busy(gw: SimGateway, m: SimMeter, k: int) -> bool:
        """Another fault widens the gap to the meter's last good reading there."""
        killed = killed_cycle(gw, len(plan), count)
        if killed is not None and killed - 1 <= k <= killed + QUIET_CYCLES:
            return True
        silent = silent_window(gw, START, params.days)
        if silent is None or m is not gw.meters[0]:
            return False
        return silent[0] - step <= START + k * step < silent[1] + QUIET_CYCLES * step

    faults = plan_field_faults(
        plan, regs, START, step, rounds[-1] if rounds else None, params.seed, busy
    )
    apply_register_changes(regs, faults)
    produced = Produced()
    counter = [0]
    deliveries: list[Delivery] = []
    for gw in plan:
        deliveries += gateway_traffic(
            gw,
            regs,
            START,
            step,
            params.days,
            plan,
            params.seed,
            produced,
            counter,
            params.reorder_rate,
            faults,
        )
    if len(deliveries) > MAX_DELIVERIES:
        raise ValueError(f"{len(deliveries)} deliveries: more than {MAX_DELIVERIES}")
    deliveries.sort()
    return plan, regs, deliveries, produced, faults


def ops_round(
    svc: Container,
    gw: SimGateway,
    at: datetime,
    n: int,
    book: Ledgerbook,
    ingest_next: list[Delivery],
) -> list[Any]:
    """Top-ups (each sent twice, same key) and a manual disconnect, racing the next cycles."""
    prepaid = [m for m in gw.meters if m.mode == "prepaid"]
    mc = svc.meter_control
    jobs: list[Any] = []
    for m in prepaid[:3]:
        key = f"soak-{gw.index}-{n}-{m.unit_id}"
        book.top_ups[m.account_id] = book.top_ups.get(m.account_id, 0) + TOP_UP_MINOR
        book.top_up_times.append((m.account_id, at, TOP_UP_MINOR))
        for _ in range(2):
            jobs.append(
                lambda m=m, key=key: mc.top_up(
                    gw.company_id, m.unit_id, TOP_UP_MINOR, key, "landlord", now=at
                )
            )
    target = prepaid[-1] if prepaid else gw.meters[-1]
    book.manual.append(target.unit_id)
    jobs.append(
        lambda: mc.set_manual(
            gw.company_id, target.unit_id, "off", "soak: inspection", "admin-soak", now=at
        )
    )
    clients = len(jobs)
    for d in ingest_next:
        jobs.append(lambda d=d: svc.ingest.handle(d.event))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(job) for job in jobs]
    results = []
    for n, (job, f) in enumerate(zip(jobs, futures, strict=True)):
        try:
            results.append(f.result())
        except Exception as exc:
            if n >= clients:  # an ingest failure is the system's, not a client's
                results.append(exc)
                continue
            # The API answered an error (409/503): the client retries with the same key.
            results.append(_retry(job, exc, book))
    # Hand control back to the policy an hour later, as the landlord would after the visit.
    mc.set_manual(
        gw.company_id, target.unit_id, None, "soak: done", "admin-soak", now=at + timedelta(hours=1)
    )
    return results


def _retry(job: Any, first: Exception, book: Ledgerbook) -> Any:
    error: Exception = first
    for _ in range(CLIENT_RETRIES):
        book.retried.append(f"{type(error).__name__}: {error}")
        try:
            return job()
        except Exception as exc:
            error = exc
    book.errors.append(f"{type(error).__name__}: {error} (after {CLIENT_RETRIES} retries)")
    return error


def run_soak(params: SoakParams, log: Any = print) -> dict[str, Any]:
    wall0 = time.monotonic()
    plan, regs, deliveries, produced, faults = build(params)
    log(
        f">> soak: {params.days} d x {params.meters} meters x {params.gateways} gateways, {len(deliveries)} deliveries"
    )
    saved = dict(os.environ)
    saved_binding = (PowerletItem.Meta.table_name, getattr(PowerletItem.Meta, "region", None))
    stack = LocalStack(conflict_rate=0.0)
    stack.start()
    try:
        settings = Settings.from_env(stack.env())
        bind_models(settings)
        with using(Container(settings)) as svc:
            opening = {mid: str(as_kwh(r[0])) for mid, r in regs.items()}
            # A meter's opening is its first register.
            for gw in plan:
                for m in gw.meters:
                    m.model = replace(m.model, opening_wh=regs[m.meter_id][0])
            seed_portfolio(svc.ledger, plan, opening)
            report = drive(svc, params, plan, deliveries, produced, faults, log)
            report["peak_rss_mb_standin"] = stack.peak_rss_mb()
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        # Leave the models as we found them (a test session may have its own stand-in).
        PowerletItem.Meta.table_name, PowerletItem.Meta.region = saved_binding  # type: ignore[attr-defined]
        for cls in (PowerletItem, *ALL_ITEM_CLASSES):
            cls._connection = None  # type: ignore[attr-defined]
    report["wall_s"] = round(time.monotonic() - wall0, 1)
    report["peak_rss_mb_this_process"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    return report


def drive(
    svc: Container,
    params: SoakParams,
    plan: list[SimGateway],
    deliveries: list[Delivery],
    produced: Produced,
    faults: FieldFaults,
    log: Any,
) -> dict[str, Any]:
    book = Ledgerbook({}, [], [])
    exchanges: dict[str, ExchangeRecord] = {}
    outcomes: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    unexpected: list[str] = []
    # The policy runs when a stored cycle, a top-up or a manual change comes in, at its time.
    last_policy_at: dict[int, datetime] = {}
    next_ops = START + OPS_EVERY / 2
    rounds = 0
    queue = list(reversed(deliveries))
    t0 = time.monotonic()
    done = 0
    while queue:
        d = queue.pop()
        if d.at >= next_ops:
            # The landlord first records the swaps and resets staff were alerted to.
            for done_now in record_exchanges(svc, faults, next_ops, exchanges):
                g = faults.changes[done_now.meter_id].gateway.index
                last_policy_at[g] = max(last_policy_at.get(g, next_ops), next_ops)
            gw = plan[rounds % len(plan)]
            racing = [d] + [queue.pop() for _ in range(min(2, len(queue)))]
            results = ops_round(svc, gw, next_ops, rounds, book, racing)
            raced = results[len(results) - len(racing) :]
            for r, res in zip(racing, _racing_labels(racing, raced), strict=True):
                _tally(r, res, outcomes, rejected, unexpected)
                if getattr(res, "status", None) == "stored":
                    last_policy_at[r.gateway] = r.at
            last_policy_at[gw.index] = max(
                last_policy_at.get(gw.index, next_ops), next_ops + timedelta(hours=1)
            )
            rounds += 1
            next_ops += OPS_EVERY
            continue
        result = svc.ingest.handle(d.event)
        _tally(d, result, outcomes, rejected, unexpected)
        if result.status == "stored":
            last_policy_at[d.gateway] = d.at
        done += 1
        if done % 500 == 0:
            log(f"   {done}/{len(deliveries)} deliveries, {time.monotonic() - t0:.0f} s")
    billed_at, bill_crashes = bill_the_month(svc, plan, params.days)
    truth = Truth(produced, faults, exchanges)
    found: Findings = check_readings(svc, plan, truth, START, params.days)
    check_held_items(svc, plan, truth, found)
    check_accounts(svc, plan, truth, START, book.top_ups, found, billed_at)
    check_relays(svc, plan, last_policy_at, found)
    check_disconnects(svc, plan, truth, START, book.top_up_times, found)
    for change in faults.changes.values():
        if change.meter.meter_id not in exchanges:
            found.failures.append(f"{change.meter.meter_id}: {change.kind} never alerted/recorded")
    found.failures += unexpected
    if book.errors:
        found.failures += [f"client error: {e}" for e in book.errors]
    accounts = found.accounts.values()
    summary = {
        "meters": len(found.readings),
        "readings_produced": sum(r["produced"] for r in found.readings.values()),
        "readings_stored": sum(r["stored"] for r in found.readings.values()),
        "meters_with_differing_readings": sum(1 for r in found.readings.values() if r["differing"]),
        "readings_held_expected": sum(r["held_expected"] for r in found.readings.values()),
        "readings_held": sum(r["held"] for r in found.readings.values()),
        "misreads_injected": faults.misread_count,
        "misreads_held": found.misreads["held"],
        "misreads_charged": found.misreads["charged"],
        "swaps": sum(1 for c in faults.changes.values() if c.swap),
        "resets": sum(1 for c in faults.changes.values() if not c.swap),
        "exchanges_recorded": len(exchanges),
        "held_items_as_expected": found.held_items["as_expected"],
        "held_items": found.held_items["items"],
        "accounts": len(found.accounts),
        "accounts_exact": sum(
            1 for a in accounts if a["stored_minor"] == a["derived_minor"] == a["independent_minor"]
        ),
        "postpaid_bills": sum(1 for a in accounts if a["bill_minor"] is not None),
        "postpaid_bills_exact": sum(
            1
            for a in accounts
            if a["bill_minor"] is not None and a["bill_minor"] == a["charged_minor"]
        ),
        "bill_crashes": bill_crashes,
        "bills_charged_exactly_once": sum(1 for a in accounts if a.get("bill_charged_once")),
        # Postpaid bills by the kind of the unit's cycle, and the cycles (bills, or prepaid
        # accounts' cycles) priced by two tariff versions (the change in the middle of the run).
        "cycles_billed_by_kind": dict(
            sorted(Counter(a["cycle"] for a in accounts if a["bill_minor"] is not None).items())
        ),
        "version_splits": sum(1 for a in accounts if len(a["versions"]) > 1),
        "accounts_stored_ne_derived": sum(
            1 for a in accounts if a["stored_minor"] != a["derived_minor"]
        ),
        "charged_minor_total": sum(a["charged_minor"] for a in accounts),
        "policy_disconnects": sum(r["policy_offs"] for r in found.relays.values()),
        "forbidden_disconnects": sum(r["bad_offs"] for r in found.relays.values()),
        "disconnects_not_justified": sum(r["unjustified_offs"] for r in found.relays.values()),
        "relays_not_as_policy": sum(
            1 for r in found.relays.values() if r["desired"] != r["policy"]
        ),
        "messages_rejected": sum(rejected.values()),
        "gateways_killed_mid_cycle": len(produced.killed_cycles),
        "accepted_from_wrong_gateway": sum(1 for f in found.failures if "stored a row of" in f),
    }
    return {
        "summary": summary,
        "params": params.__dict__,
        "deliveries": len(deliveries),
        "outcomes": dict(outcomes),
        "rejected": dict(rejected),
        "ops_rounds": rounds,
        "client_retries": book.retried,
        "top_ups_minor": book.top_ups,
        "field_faults": {
            **faults.report(),
            "exchanges": [e.__dict__ for e in exchanges.values()],
        },
        "readings": found.readings,
        "accounts": found.accounts,
        "relays": found.relays,
        "failures": found.failures,
        "passed": not found.failures,
    }


def _racing_labels(racing: list[Delivery], results: list[Any]) -> list[Any]:
    """Copies of one message ingested at the same time: whichever copy wins is stored and
    the others are duplicates, so the message's first copy is credited with the store."""
    by_message: dict[str, list[int]] = {}
    for i, d in enumerate(racing):
        by_message.setdefault(str(d.event.get("raw")), []).append(i)
    out = list(results)
    for indexes in by_message.values():
        stored = [i for i in indexes if getattr(results[i], "status", None) == "stored"]
        if len(indexes) > 1 and len(stored) == 1 and stored[0] != indexes[0]:
            out[indexes[0]], out[stored[0]] = results[stored[0]], results[indexes[0]]
    return out


def _tally(
    d: Delivery, result: Any, outcomes: Counter[str], rejected: Counter[str], unexpected: list[str]
) -> None:
    if isinstance(result, Exception):
        unexpected.append(f"{d.kind} delivery raised {type(result).__name__}: {result}")
        return
    outcomes[f"{d.kind}:{result.status}"] += 1
    expected = {"cycle": "stored", "duplicate": "duplicate"}.get(d.kind, "dead_letter")
    if result.status == "dead_letter":
        rejected[f"{d.kind}: {_reason_kind(result.reason)}"] += 1
    if result.status != expected:
        unexpected.append(f"{d.kind} at {d.at.isoformat()} -> {result.status} ({result.reason})")


def _reason_kind(reason: str | None) -> str:
    text = reason or ""
    return text.split(":")[0][:80]
