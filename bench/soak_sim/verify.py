"""Check what the cloud stored against what the meters showed, independently.

The independent balance prices the generator's TRUE readings (as the meters reported
them) with the domain's ``charge_for_increment``, month by month, up to the account's
settlement cursor; it never reads a stored reading, usage bucket or ledger entry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.data import keys
from chalicelib.data.models import Bill
from chalicelib.domain import (
    FlatTariff,
    Money,
    Reading,
    TieredTariff,
    TouTariff,
    charge_for_increment,
    consumption_intervals,
    decide_power,
    parse_tariff,
    tou_band_energy,
)
from chalicelib.domain.energy import ZERO_KWH
from chalicelib.pipeline.charging import local_day, month_of, tariff_position
from chalicelib.pipeline.ingest import rows_of
from chalicelib.wiring.container import Container

from .load_model import as_kwh
from .portfolio import TZ, SimGateway, SimMeter
from .traffic import Produced

NO_GAP_LIMIT = timedelta(days=400)


@dataclass
class Findings:
    readings: dict[str, dict[str, int]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    relays: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def independent_charge_minor(tariff: Any, opening: Reading, readings: list[Reading]) -> int:
    """Price the true readings after the opening one, each interval in its own month."""
    by_month: dict[Any, list[Any]] = defaultdict(list)
    for interval in consumption_intervals([opening, *readings], NO_GAP_LIMIT):
        if interval.charges:
            by_month[month_of(local_day(interval.end.at, TZ))].append(interval)
    total = 0
    for month, intervals in by_month.items():
        if isinstance(tariff, TouTariff):
            for band, energy in tou_band_energy(tariff, intervals, TZ).items():
                total += charge_for_increment(
                    tariff, month, ZERO_KWH, energy, band=band
                ).amount_minor
        else:
            assert isinstance(tariff, FlatTariff | TieredTariff)
            energy = sum((i.energy_kwh for i in intervals), ZERO_KWH)
            day = local_day(intervals[-1].end.at, TZ)
            total += charge_for_increment(tariff, month, ZERO_KWH, energy, on_day=day).amount_minor
    return total


def check_readings(
    svc: Container, plan: list[SimGateway], produced: Produced, start: datetime, days: int
) -> Findings:
    found = Findings()
    for gw in plan:
        own = {m.meter_id for m in gw.meters}
        stored: dict[str, set[tuple[datetime, int]]] = defaultdict(set)
        for day in range(-1, days + 2):
            lo = start + timedelta(days=day)
            for cycle in svc.telemetry.cycles_between(
                gw.company_id, gw.gateway_id, lo, lo + timedelta(days=1)
            ):
                for row in rows_of(cycle):
                    if row.meter_id not in own:
                        found.failures.append(f"{gw.gateway_id} stored a row of {row.meter_id}")
                    if row.import_kwh is not None and not row.error:
                        stored[row.meter_id].add((row.read_at, int(Decimal(row.import_kwh) * 1000)))
        for m in gw.meters:
            truth = set(produced.readings.get(m.meter_id, []))
            got = stored.get(m.meter_id, set())
            found.readings[m.meter_id] = {
                "produced": len(truth),
                "stored": len(got),
                "timeouts": produced.timeouts.get(m.meter_id, 0),
                "differing": len(truth ^ got),
            }
            if truth != got:
                found.failures.append(
                    f"{m.meter_id}: produced {len(truth)} readings, stored {len(got)}, {len(truth ^ got)} differ"
                )
    return found


def check_accounts(
    svc: Container,
    plan: list[SimGateway],
    produced: Produced,
    start: datetime,
    top_ups: dict[str, int],
    found: Findings,
    billed_until: datetime | None = None,
) -> None:
    """``billed_until``: the end of the month the run billed its postpaid units for."""
    for gw in plan:
        for m in gw.meters:
            co = gw.company_id
            account = svc.ledger.get_account(co, m.account_id)
            derived = svc.ledger.derive_balance(co, m.account_id)
            expected = m.credit_minor + top_ups.get(m.account_id, 0)
            charged = 0
            bill_minor = None
            charged_once = None
            if m.mode == "postpaid" and billed_until is not None:
                truth = [
                    Reading(at, as_kwh(wh))
                    for at, wh in produced.readings[m.meter_id]
                    if at < billed_until
                ]
                opening = Reading(start, as_kwh(m.model.opening_wh))
                charged = independent_charge_minor(parse_tariff(m.tariff), opening, truth)
                bill_minor = _bill_total(svc, co, m.account_id, start)
                if bill_minor != charged:
                    found.failures.append(
                        f"{m.account_id}: bill {bill_minor} but the true readings give {charged}"
                    )
                charged_once = _charged_once(svc, co, m.account_id, bill_minor)
                if not charged_once:
                    found.failures.append(f"{m.account_id}: bill not charged exactly once")
            if m.mode == "prepaid" and account.settled_at is not None:
                cut = account.settled_at
                truth = [
                    Reading(at, as_kwh(wh)) for at, wh in produced.readings[m.meter_id] if at <= cut
                ]
                opening = Reading(start, as_kwh(m.model.opening_wh))
                charged = independent_charge_minor(parse_tariff(m.tariff), opening, truth)
                if (
                    truth
                    and truth[-1].at == cut
                    and str(truth[-1].cumulative_kwh) != account.settled_kwh
                ):
                    found.failures.append(
                        f"{m.account_id}: cursor {account.settled_kwh} != true {truth[-1].cumulative_kwh}"
                    )
            expected -= charged
            row = {
                "mode": m.mode,
                "tariff": m.tariff["kind"],
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


def _bill_total(svc: Container, company_id: str, account_id: str, start: datetime) -> int | None:
    month = local_day(start, TZ).replace(day=1).isoformat()
    try:
        bill = Bill.get(keys.account_pk(company_id, account_id), keys.bill_sk(month))
    except Bill.DoesNotExist:
        return None
    return int(bill.total_minor)


def _charged_once(svc: Container, company_id: str, account_id: str, bill: int | None) -> bool:
    """The month's bill has exactly one charge, equal to its total (none for a bill of 0)."""
    charges = [
        int(e.amount_minor)
        for e in svc.ledger.all_entries(company_id, account_id, 5_000)
        if str(e.entry_id).startswith("bill:")
    ]
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
    tariff = parse_tariff(m.tariff)
    stored = svc.ledger.get_account(gw.company_id, m.account_id)
    at = stored.settled_at or now
    latest = Reading(at, Decimal(stored.settled_kwh) if stored.settled_kwh else ZERO_KWH)
    decision = decide_power(
        balance=Money(account["independent_minor"], "TWD"),
        allowance=Money(gw.emergency_minor, "TWD"),
        position=tariff_position(tariff, TZ, at, stored.usage),
        latest=latest,
        friendly=gw.friendly,
        never_disconnect=m.never_disconnect,
        manual=None,
        now=now,
        postpaid=m.mode == "postpaid",
    )
    return decision.power
