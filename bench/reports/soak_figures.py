"""The soak's figures (bench/results/soak.json): docs/reliability.md and docs/performance.md."""

from __future__ import annotations

from collections import Counter

from .formatting import as_given, count, dec
from .results import BenchResults, Figures

SOAK = "soak.json"
TARIFFS = {"flat": "flat", "tiered": "tiered", "tou": "TOU"}
# Outcome kinds of a rejected message, as docs/reliability.md ("Faults") names them.
REJECTED_KINDS = {
    "bad:not_json": "not JSON",
    "bad:schema": "schema",
    "bad:oversized": "oversized",
    "bad:thing_mismatch": "thing mismatch",
    "foreign": "another gateway's meter",
}


def shape(soak: Figures) -> str:
    """'30 d x 200 meters x 10 gateways'."""
    days, meters, gateways = (soak.number("params", k) for k in ("days", "meters", "gateways"))
    return f"{count(days)} d x {count(meters)} meters x {count(gateways)} gateways"


def verdict(soak: Figures) -> str:
    if soak.flag("passed"):
        return "**PASS**, every figure exact"
    return f"**FAIL**, {len(soak.sequence('failures'))} failures (listed in soak.json)"


def performance_section(results: BenchResults) -> str:
    soak = results[SOAK]
    days, meters, gateways = (soak.number("params", k) for k in ("days", "meters", "gateways"))
    outcome = (
        "every reading, balance and postpaid bill exact"
        if soak.flag("passed")
        else f"**{len(soak.sequence('failures'))} figures failed** (listed in `soak.json`)"
    )
    return f"""## Soak (`make soak` -> `soak.json`, details in `docs/reliability.md`)

{count(days)} simulated days ({count(meters)} meters, {count(gateways)} gateways, \
{count(soak.number("params", "cycle_min"))}-minute cycles, every fault kind)
through the real ingest: {dec(soak.number("deliveries"))} deliveries in \
{dec(soak.number("wall_s"))} s on this machine (runner peak RSS
{dec(soak.number("peak_rss_mb_this_process"))} MB, stand-in \
{dec(soak.number("peak_rss_mb_standin"))} MB), {outcome}.
"""


def reliability_run(results: BenchResults) -> str:
    """docs/reliability.md, region ``soak-run``: the committed run in one row."""
    soak = results[SOAK]
    day = soak.text("run_at")[:10]
    return f"""The committed run of `make soak` ({day}; seed {count(soak.number("params", "seed"))}, \
{count(soak.number("params", "cycle_min"))}-minute cycles, reorder rate \
{as_given(soak.number("params", "reorder_rate"))}; the whole report is `bench/results/soak.json`):

| run | deliveries | wall | peak RSS (runner) | result |
|---|---:|---:|---|---|
| **{shape(soak)} (`make soak`)** | {dec(soak.number("deliveries"))} | \
{dec(soak.number("wall_s"))} s | {dec(soak.number("peak_rss_mb_this_process"))} MB; stand-in \
{dec(soak.number("peak_rss_mb_standin"))} MB | {verdict(soak)} |
"""


def reliability_month(results: BenchResults) -> str:
    """docs/reliability.md, region ``soak-figures``: the month, figure by figure."""
    soak = results[SOAK]
    s = _Summary(soak)
    accounts = soak.mapping("accounts")
    for account_id in accounts:
        soak.text("accounts", account_id, "mode")
        soak.text("accounts", account_id, "tariff")
    prepaid = Counter(a["tariff"] for a in accounts.values() if a["mode"] == "prepaid")
    postpaid = sum(1 for a in accounts.values() if a["mode"] == "postpaid")
    billed = Counter(a["tariff"] for a in accounts.values() if a.get("bill_minor") is not None)
    timeouts = sum(soak.number("readings", m, "timeouts") for m in soak.mapping("readings"))
    outcomes = soak.mapping("outcomes")
    rejected = {
        k.removesuffix(":dead_letter"): n for k, n in outcomes.items() if k.endswith(":dead_letter")
    }
    retries = [str(r) for r in soak.sequence("client_retries")]
    settled = "settled by the client's retry" if len(retries) == 1 else "each settled by a retry"
    retried = (
        f"{len(retries)}: "
        + "; ".join(f'"{text}"' for text, _ in Counter(retries).most_common())
        + (f", {settled} with the same key" if soak.flag("passed") else "")
        if retries
        else "0"
    )
    return f"""| figure | result |
|---|---|
| readings produced = stored, per meter | {dec(s("readings_produced"))} = {dec(s("readings_stored"))}; \
{count(s("meters_with_differing_readings"))} meters differ; {count(timeouts)} timeouts (the silent day) |
| accounts: stored = derived = independent, to the minor unit | {count(s("accounts_exact"))} of \
{count(s("accounts"))} ({sum(prepaid.values())} prepaid: {_by_tariff(prepaid)}; {postpaid} postpaid) |
| postpaid bills = independent recomputation | {count(s("postpaid_bills_exact"))} of \
{count(s("postpaid_bills"))} ({_by_tariff(billed)}), billed once although the job ran twice |
| bill job killed after its first bill, then run again | {count(s("bill_crashes"))} crash; \
{count(s("bills_charged_exactly_once"))} of {count(s("postpaid_bills"))} bills charged exactly once |
| money charged in the month | {dec(s("charged_minor_total"))} minor units |
| policy disconnects | {count(s("policy_disconnects"))}; {count(s("forbidden_disconnects"))} inside friendly \
hours or for a never-disconnect tenancy |
| relays whose final desired state is not the policy's | {count(s("relays_not_as_policy"))} |
| messages: cycles stored / copies ignored / rejected | {dec(soak.number("outcomes", "cycle:stored"))} / \
{dec(soak.number("outcomes", "duplicate:duplicate"))} / {count(s("messages_rejected"))} \
({_rejected(rejected)}), each with its reason |
| rows accepted from the wrong gateway | {count(s("accepted_from_wrong_gateway"))} |
| gateway killed mid-cycle | {count(s("gateways_killed_mid_cycle"))} (its lost cycle never sent, the \
unacknowledged one re-sent and ignored) |
| client retries | {retried} |
"""


class _Summary:
    def __init__(self, soak: Figures) -> None:
        self._soak = soak

    def __call__(self, name: str) -> float:
        return self._soak.number("summary", name)


def _by_tariff(counts: Counter[str]) -> str:
    ordered = [t for t in TARIFFS if t in counts] + sorted(set(counts) - set(TARIFFS))
    return ", ".join(f"{counts[t]} {TARIFFS.get(t, t)}" for t in ordered)


def _rejected(kinds: dict[str, int]) -> str:
    names = [REJECTED_KINDS.get(kind, kind) for kind in sorted(kinds, key=_kind_order)]
    values = {kinds[kind] for kind in kinds}
    if len(values) == 1:
        return f"{count(values.pop())} each of " + ", ".join(names)
    return ", ".join(
        f"{count(kinds[kind])} {REJECTED_KINDS.get(kind, kind)}"
        for kind in sorted(kinds, key=_kind_order)
    )


def _kind_order(kind: str) -> tuple[int, str]:
    order = list(REJECTED_KINDS)
    return (order.index(kind) if kind in order else len(order), kind)
