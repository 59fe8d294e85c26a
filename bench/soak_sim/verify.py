"""Check what the cloud stored against what the meters showed, independently.

The independent balance prices the generator's TRUE readings (as the meters reported
them, less the ones the soak knows must be held, with each recorded exchange: ``truth.py``)
with the domain's ``charge_for_increment``, month by month, up to the account's
settlement cursor; it never reads a stored reading, usage bucket or ledger amount, and
never asks the product's validation which readings it held.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.data import keys
from chalicelib.data.control_state import from_ms
from chalicelib.data.models import Bill, LedgerEntryItem, RelayCommand
from chalicelib.domain import BillingPeriod, Money, Reading, decide_power
from chalicelib.domain.calendar import local_midnight
from chalicelib.domain.energy import ZERO_KWH
from chalicelib.pipeline.charging import tariff_position
from chalicelib.pipeline.ingest import rows_of
from chalicelib.wiring.container import Container

from .load_model import as_kwh
from .month_end import billed_period
from .portfolio import TENANCY_DAY, TZ, SimGateway, SimMeter
from .truth import Truth, independent_charge_minor

# A settlement's entry is dated by the reading it charges to, which a fast gateway clock
# stamps up to this much after the message that carried it arrived.
CLOCK_AHEAD = timedelta(minutes=10)
# A top-up races the cycles of its round (4 threads): a disconnect in the two hours after
# it may have been decided before it committed, so it is weighed without that top-up.
TOP_UP_RACE = timedelta(hours=2)
MAX_HELD_ITEMS = 200


@dataclass
class Findings:
    readings: dict[str, dict[str, int]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    relays: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    misreads: dict[str, int] = field(default_factory=lambda: {"held": 0, "charged": 0})
    misreads_charged: set[tuple[str, datetime]] = field(default_factory=set)
    held_items: dict[str, int] = field(default_factory=lambda: {"items": 0, "as_expected": 0})
    # read back once for several checks; not part of the report
    entries: dict[str, list[LedgerEntryItem]] = field(default_factory=dict, repr=False)
    commands: dict[str, list[RelayCommand]] = field(default_factory=dict, repr=False)


def check_readings(
    svc: Container, plan: list[SimGateway], truth: Truth, start: datetime, days: int
) -> Findings:
    """Per meter, the stored readings are exactly the produced ones, each held exactly
    when the soak knows it must be, for the reason it must be."""
    found = Findings()
    produced = truth.produced
    for gw in plan:
        own = {m.meter_id for m in gw.meters}
        stored: dict[str, set[tuple[datetime, int, str | None]]] = defaultdict(set)
        for day in range(-1, days + 2):
            lo = start + timedelta(days=day)
            for cycle in svc.telemetry.cycles_between(
                gw.company_id, gw.gateway_id, lo, lo + timedelta(days=1)
            ):
                for row in rows_of(cycle):
                    if row.meter_id not in own:
                        found.failures.append(f"{gw.gateway_id} stored a row of {row.meter_id}")
                    if row.import_kwh is not None and not row.error:
                        wh = int(Decimal(row.import_kwh) * 1000)
                        stored[row.meter_id].add((row.read_at, wh, row.quarantine))
        for m in gw.meters:
            held = truth.held(m.meter_id)
            expected = {(at, wh, held.get(at)) for at, wh in produced.readings.get(m.meter_id, [])}
            got = stored.get(m.meter_id, set())
            stored_held = {at: why for at, _, why in got if why is not None}
            found.readings[m.meter_id] = {
                "produced": len(expected),
                "stored": len(got),
                "held_expected": len(held),
                "held": len(stored_held),
                "timeouts": produced.timeouts.get(m.meter_id, 0),
                "differing": len(expected ^ got),
            }
            if expected != got:
                found.failures.append(
                    f"{m.meter_id}: produced {len(expected)} readings ({len(held)} to hold), "
                    f"stored {len(got)} ({len(stored_held)} held), {len(expected ^ got)} differ"
                )
            for at in produced.misreads.get(m.meter_id, {}):
                if at in stored_held:
                    found.misreads["held"] += 1
                else:  # stored usable: every reader would price it
                    _charged_misread(found, m.meter_id, at, "not held")
    return found


def check_held_items(svc: Container, plan: list[SimGateway], truth: Truth, found: Findings) -> None:
    """Every held reading has its item with the reason; those of a new register are
    resolved by the recorded exchange, the misreads wait (one never needs a person)."""
    for gw in plan:
        for m in gw.meters:
            held = truth.held(m.meter_id)
            if not held:
                continue
            items = svc.held_readings.of_meter(gw.company_id, m.meter_id, MAX_HELD_ITEMS)
            got = {i.read_at: (str(i.reason), str(i.status)) for i in items}
            want = {
                at: (why, "accepted" if truth.released(m.meter_id, at) else "held")
                for at, why in held.items()
            }
            found.held_items["items"] += len(got)
            found.held_items["as_expected"] += sum(1 for at in want if got.get(at) == want[at])
            if got != want:
                wrong = sorted(at for at in set(got) | set(want) if got.get(at) != want.get(at))
                found.failures.append(
                    f"{m.meter_id}: {len(wrong)} held reading items not as expected, first "
                    f"{wrong[0].isoformat()}: {got.get(wrong[0])} != {want.get(wrong[0])}"
                )


def check_accounts(
    svc: Container,
    plan: list[SimGateway],
    truth: Truth,
    start: datetime,
    top_ups: dict[str, int],
    found: Findings,
    billed_at: datetime | None = None,
) -> None:
    """``billed_at``: when the bill job ran (None: it did not)."""
    for gw in plan:
        for m in gw.meters:
            co = gw.company_id
            account = svc.ledger.get_account(co, m.account_id)
            derived = svc.ledger.derive_balance(co, m.account_id)
            entries = svc.ledger.all_entries(co, m.account_id, 5_000)
            found.entries[m.account_id] = entries
            _misreads_charged(m, entries, truth, found)
            expected = m.credit_minor + top_ups.get(m.account_id, 0)
            charged = 0
            bill_minor = None
            charged_once = None
            chain = truth.chain(m.meter_id)
            opening = Reading(start, as_kwh(m.model.opening_wh))
            period = billed_period(m, billed_at)
            bill = None
            if m.mode == "postpaid" and period is not None:
                paid = [r for r in chain if r.at < local_midnight(period.end, TZ)]
                charged = independent_charge_minor(m, opening, paid)
                bill = _bill(svc, co, m.account_id, period)
                bill_minor = None if bill is None else int(bill.total_minor)
                if bill_minor != charged:
                    found.failures.append(
                        f"{m.account_id}: bill {bill_minor} but the true readings give {charged}"
                    )
                charged_once = _charged_once(entries, bill_minor)
                if not charged_once:
                    found.failures.append(f"{m.account_id}: bill not charged exactly once")
            if m.mode == "prepaid" and account.settled_at is not None:
                cut = account.settled_at
                paid = [r for r in chain if r.at <= cut]
                charged = independent_charge_minor(m, opening, paid)
                if (
                    paid
                    and paid[-1].at == cut
                    and str(paid[-1].cumulative_kwh) != account.settled_kwh
                ):
                    found.failures.append(
                        f"{m.account_id}: cursor {account.settled_kwh} != true {paid[-1].cumulative_kwh}"
                    )
            expected -= charged
            row = {
                "mode": m.mode,
                "tariff": m.tariff_kind,
                "cycle": m.billing_cycle.kind,
                "versions": _versions(bill, entries),
                "stored_minor": int(account.balance_minor),
                "derived_minor": derived.derived_minor,
                "independent_minor": expected,
                "charged_minor": charged,
                "bill_minor": bill_minor,
                "bill_charged_once": charged_once,
                "settled_at": account.settled_at.isoformat() if account.settled_at else None,
            }
            found.accounts[m.account_id] = row
            if not (
                derived.consistent and row["stored_minor"] == derived.derived_minor == expected
            ):
                found.failures.append(f"{m.account_id}: {row}")


def _misreads_charged(
    m: SimMeter, entries: list[LedgerEntryItem], truth: Truth, found: Findings
) -> None:
    """A charge that ends at a misread (its id names the reading it charged up to)."""
    misreads = truth.produced.misreads.get(m.meter_id, {})
    for entry in entries:
        parts = str(entry.entry_id).split(":")
        if parts[0] != "cons" or len(parts) != 4:
            continue
        at = from_ms(int(parts[3]))
        if at in misreads:
            _charged_misread(found, m.meter_id, at, f"charged by {entry.entry_id}")


def _charged_misread(found: Findings, meter_id: str, at: datetime, how: str) -> None:
    if (meter_id, at) not in found.misreads_charged:
        found.misreads_charged.add((meter_id, at))
        found.misreads["charged"] += 1
    found.failures.append(f"{meter_id}: misread at {at.isoformat()} {how}")


def _bill(svc: Container, company_id: str, account_id: str, period: BillingPeriod) -> Bill | None:
    """The bill of the unit's first cycle (keyed by the cycle's start, before the move-in
    for a cycle that began earlier)."""
    try:
        return Bill.get(
            keys.account_pk(company_id, account_id), keys.bill_sk(period.start.isoformat())
        )
    except Bill.DoesNotExist:
        return None


def _versions(bill: Bill | None, entries: list[LedgerEntryItem]) -> list[str]:
    """The tariff versions that priced the account: the bill's, or its consumption charges'."""
    if bill is not None:
        return list(bill.tariff_versions or [])
    named = (
        str((e.refs or {}).get("versions", ""))
        for e in entries
        if str(e.entry_id).startswith("cons:")
    )
    return sorted({v for refs in named for v in refs.split(",") if v})


def _charged_once(entries: list[LedgerEntryItem], bill: int | None) -> bool:
    """The month's bill has exactly one charge, equal to its total (none for a bill of 0)."""
    charges = [int(e.amount_minor) for e in entries if str(e.entry_id).startswith("bill:")]
    if bill is None:
        return False
    return charges == ([-bill] if bill else [])


def check_relays(
    svc: Container, plan: list[SimGateway], policy_at: dict[int, datetime], found: Findings
) -> None:
    for gw in plan:
        co = gw.company_id
        state = svc.telemetry.get_state(co, gw.gateway_id)
        bus = svc.buses.load(co, gw.gateway_id)
        for m in gw.meters:
            bad_offs = []
            commands = svc.relay_log.history(co, m.meter_id, limit=1000)
            found.commands[m.meter_id] = commands
            for cmd in commands:
                if cmd.power != "off" or cmd.reason.startswith("manual"):
                    continue
                if m.never_disconnect or gw.friendly.is_friendly(cmd.issued_at):
                    bad_offs.append(cmd.command_id)
            desired = state.meter(m.meter_id).power
            now = policy_at[gw.index]
            decision = _policy(svc, bus, gw, m, found.accounts[m.account_id], now)
            found.relays[m.meter_id] = {
                "commands": len(commands),
                "offs": sum(1 for c in commands if c.power == "off"),
                "policy_offs": sum(
                    1 for c in commands if c.power == "off" and not c.reason.startswith("manual")
                ),
                "bad_offs": len(bad_offs),
                "desired": desired,
                "policy": decision,
            }
            if bad_offs:
                found.failures.append(f"{m.meter_id}: disconnects it must not have: {bad_offs}")
            if desired != decision:
                found.failures.append(f"{m.meter_id}: desired {desired} but policy says {decision}")


def _policy(
    svc: Container, bus: Any, gw: SimGateway, m: SimMeter, account: dict[str, Any], now: datetime
) -> str:
    """The domain's decision from the independent balance and the cursor, at the end."""
    stored = svc.ledger.get_account(gw.company_id, m.account_id)
    at = stored.settled_at or now
    latest = Reading(at, Decimal(stored.settled_kwh) if stored.settled_kwh else ZERO_KWH)
    decision = decide_power(
        balance=Money(account["independent_minor"], "TWD"),
        allowance=Money(gw.emergency_minor, "TWD"),
        position=tariff_position(
            m.timeline, TZ, at, stored.usage, cycle=m.billing_cycle, move_in=TENANCY_DAY
        ),
        latest=latest,
        friendly=gw.friendly,
        never_disconnect=m.never_disconnect,
        manual=None,
        now=now,
        postpaid=m.mode == "postpaid",
    )
    return decision.power


def check_disconnects(
    svc: Container,
    plan: list[SimGateway],
    truth: Truth,
    start: datetime,
    top_ups: list[tuple[str, datetime, int]],
    found: Findings,
) -> None:
    """Every policy disconnect is justified by the independent balance at its instant:
    opening credit and earlier top-ups, less the true chain priced up to what the ledger
    had charged by then. A held reading that moved money or a cursor would show here (and a
    disconnect it caused would not be justified). Where the instant is uncertain (a
    charge dated by a fast clock, a top-up racing the cycle) the balance is taken lower,
    so a correct run never fails this."""
    for gw in plan:
        for m in gw.meters:
            offs = [
                c
                for c in found.commands.get(m.meter_id, [])
                if c.power == "off" and not str(c.reason).startswith("manual")
            ]
            unjustified = []
            for cmd in offs:
                balance = _balance_at(m, cmd.issued_at, truth, start, top_ups, found)
                if balance > -gw.emergency_minor:
                    unjustified.append(f"{cmd.command_id} (independent balance {balance})")
            found.relays[m.meter_id]["unjustified_offs"] = len(unjustified)
            if unjustified:
                found.failures.append(f"{m.meter_id}: disconnects not justified: {unjustified}")


def _balance_at(
    m: SimMeter,
    at: datetime,
    truth: Truth,
    start: datetime,
    top_ups: list[tuple[str, datetime, int]],
    found: Findings,
) -> int:
    ends = [
        entry.occurred_at
        for entry in found.entries[m.account_id]
        if str(entry.entry_id).startswith("cons:") and entry.occurred_at <= at + CLOCK_AHEAD
    ]
    charged = 0
    if ends:
        upto = max(ends)
        paid = [r for r in truth.chain(m.meter_id) if r.at <= upto]
        opening = Reading(start, as_kwh(m.model.opening_wh))
        charged = independent_charge_minor(m, opening, paid)
    credit = sum(
        amount
        for account_id, when, amount in top_ups
        if account_id == m.account_id and when <= at - TOP_UP_RACE
    )
    return m.credit_minor + credit - charged
