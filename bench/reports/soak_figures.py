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
    return f"""The committed run of {_command(soak)} ({day}; seed {count(soak.number("params", "seed"))}, \
{count(soak.number("params", "cycle_min"))}-minute cycles, reorder rate \
{as_given(soak.number("params", "reorder_rate"))}; the whole report is `bench/results/soak.json`):

| run | deliveries | wall | peak RSS (runner) | result |
|---|---:|---:|---|---|
| **{shape(soak)} ({_command(soak)})** | {dec(soak.number("deliveries"))} | \
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
| postpaid bills by the unit's billing cycle; accounts priced by two tariff versions | \
{_cycles(soak)}; {count(s("version_splits"))} (a bill or a prepaid cycle across the tiered \
timeline's mid-month change), each exact |
| bill job killed after its first bill, then run again | {count(s("bill_crashes"))} crash; \
{count(s("bills_charged_exactly_once"))} of {count(s("postpaid_bills"))} bills charged exactly once |
| money charged in the month | {dec(s("charged_minor_total"))} minor units |
| misreads (about one per meter-week), each held | {dec(s("misreads_injected"))} injected \
({_misread_kinds(soak)}); {dec(s("misreads_held"))} held; **{count(s("misreads_charged"))} charged** |
| meters swapped or reset, the exchange recorded after the alert | {_changes(soak)}; \
{count(s("exchanges_recorded"))} exchanges recorded by the landlord after the `readings_held` alert; \
both sides charged once (the accounts above) |
| readings held: stored = expected | {dec(s("readings_held"))} = {dec(s("readings_held_expected"))}; \
{dec(s("held_items_as_expected"))} of {dec(s("held_items"))} held-reading items with the expected \
reason and status |
| policy disconnects | {count(s("policy_disconnects"))}; {count(s("forbidden_disconnects"))} inside friendly \
hours or for a never-disconnect tenancy; {count(s("disconnects_not_justified"))} not justified by \
the independent balance at their instant (so none caused by a held reading) |
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


def _command(soak: Figures) -> str:
    """`make soak` when the run has its shape (Makefile), else the script's own command."""
    meters, gateways = soak.number("params", "meters"), soak.number("params", "gateways")
    if (meters, gateways) == (200, 10):
        return "`make soak`"
    return f"`bench/soak.py --meters {count(meters)} --gateways {count(gateways)}`"


def _cycles(soak: Figures) -> str:
    kinds = soak.mapping("summary", "cycles_billed_by_kind")
    names = {"monthly": "calendar month", "every_n_months": "two months", "anchored": "anchored"}
    return ", ".join(f"{count(kinds[k])} {names.get(k, k)}" for k in sorted(kinds))


def _misread_kinds(soak: Figures) -> str:
    kinds = soak.mapping("field_faults", "misreads")
    names = {"zero": "zero", "glitch": "+50 kWh glitch", "bit_flip": "bit flip"}
    return ", ".join(f"{count(kinds[k])} {names.get(k, k)}" for k in names if k in kinds)


def _changes(soak: Figures) -> str:
    changes = soak.sequence("field_faults", "changes")
    kinds = Counter(str(c["kind"]) for c in changes)
    swaps, resets = soak.number("summary", "swaps"), soak.number("summary", "resets")
    used, new = kinds["swap_used_meter"], kinds["swap_new_meter"]
    tariffs = ", ".join(TARIFFS.get(str(c["tariff"]), str(c["tariff"])) for c in changes)
    return (
        f"{count(swaps)} swapped ({used} for a used meter, {new} for a new one), "
        f"{count(resets)} reset, on prepaid meters ({tariffs})"
    )


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
