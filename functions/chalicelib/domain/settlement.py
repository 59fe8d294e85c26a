"""Move-out settlement: final charges, then the remaining credit refunded or transferred."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from chalicelib.domain.consumption import Reading
from chalicelib.domain.energy import ZERO_KWH, kwh
from chalicelib.domain.errors import DomainError, SettlementError
from chalicelib.domain.ledger import EntryKind, LedgerEntry
from chalicelib.domain.money import Money
from chalicelib.domain.prepaid import TariffPosition
from chalicelib.domain.pricing import charge_for_increment
from chalicelib.domain.tariffs import TouTariff

MAX_FINAL_CHARGES = 16
Disposition = Literal["refund", "transfer"]


@dataclass(frozen=True)
class FinalCharge:
    """A non-energy charge still due at move-out (e.g. per-day fixed charges not yet posted)."""

    code: str
    amount: Money
    refs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MoveOutSettlement:
    entries: tuple[LedgerEntry, ...]
    final_energy_kwh: Decimal
    balance_before: Money
    remaining: Money  # after final charges: > 0 paid out, < 0 is debt left on the account
    flags: frozenset[str]


def settlement_prefix(tenancy_id: str) -> str:
    return f"settle:{tenancy_id}:"


def settle_move_out(
    *,
    tenancy_id: str,
    account_id: str,
    account_entries: Sequence[LedgerEntry],
    position: TariffPosition,
    last_settled: Reading,
    final_reading: Reading,
    moved_out_at: datetime,
    disposition: Disposition,
    transfer_to_account_id: str | None = None,
    final_charges: Sequence[FinalCharge] = (),
    consumption: Money | None = None,
) -> MoveOutSettlement:
    """Ledger entries that close a tenancy, with ids derived from `tenancy_id`.

    The balance is the sum of `account_entries` minus any entry of this settlement already
    posted, so running the settlement again on the updated ledger yields identical entries and
    appending them is a no-op.

    ``consumption``: the final consumption's charge when the caller priced it on the
    account's billing cycle (``prepaid_cycle.settle_cycles``, the rule that makes prepaid
    equal postpaid); without it the increment is priced in ``position``'s segment.
    """
    tariff = position.tariff
    currency = tariff.currency
    prefix = settlement_prefix(tenancy_id)
    if len(final_charges) > MAX_FINAL_CHARGES:
        raise SettlementError(f"more than {MAX_FINAL_CHARGES} final charges")
    if disposition == "transfer" and not transfer_to_account_id:
        raise SettlementError("a transfer needs transfer_to_account_id")
    if disposition == "transfer" and transfer_to_account_id == account_id:
        raise SettlementError("cannot transfer credit to the same account")
    balance = Money.zero(currency)
    for entry in account_entries:
        if entry.account_id != account_id:
            raise SettlementError(f"entry {entry.entry_id} belongs to {entry.account_id}")
        if entry.amount.currency != currency:
            raise SettlementError(f"entry {entry.entry_id} is not in {currency}")
        if not entry.entry_id.startswith(prefix):
            balance = balance + entry.amount

    flags: set[str] = set()
    energy = kwh(final_reading.cumulative_kwh - last_settled.cumulative_kwh)
    if energy < 0:
        flags.add("backwards")  # replaced or reset meter: never charged, left to an adjustment
        energy = ZERO_KWH
    trace = {
        "tenancy_id": tenancy_id,
        "tariff_id": tariff.tariff_id,
        "from_kwh": str(last_settled.cumulative_kwh),
        "to_kwh": str(final_reading.cumulative_kwh),
    }
    if final_reading.reading_id:
        trace["final_reading"] = final_reading.reading_id

    entries: list[LedgerEntry] = []

    def post(
        suffix: str,
        kind: EntryKind,
        amount: Money,
        memo: str,
        refs: Mapping[str, str],
        on_account: str = account_id,
    ) -> None:
        entries.append(
            LedgerEntry(prefix + suffix, on_account, kind, amount, moved_out_at, memo, refs)
        )

    if consumption is not None:
        if consumption.currency != currency or consumption.is_negative():
            raise SettlementError(f"final consumption must be a {currency} amount >= 0")
        charge = consumption
    else:
        charge = _increment_charge(position, energy)
    total = balance
    if charge.is_positive():
        post(
            "consumption",
            EntryKind.CONSUMPTION_CHARGE,
            -charge,
            "final consumption",
            {**trace, "energy_kwh": str(energy)},
        )
        total = total - charge
    for extra in final_charges:
        if extra.amount.currency != currency or not extra.amount.is_positive():
            raise SettlementError(f"final charge {extra.code} must be a positive {currency} amount")
        post(
            f"fixed:{extra.code}",
            EntryKind.FIXED_CHARGE,
            -extra.amount,
            f"final {extra.code}",
            {"tenancy_id": tenancy_id, **extra.refs},
        )
        total = total - extra.amount

    if total.is_positive():
        if disposition == "refund":
            post("refund", EntryKind.REFUND, -total, "move-out refund", {"tenancy_id": tenancy_id})
        else:
            target = str(transfer_to_account_id)
            refs = {"tenancy_id": tenancy_id, "from_account": account_id, "to_account": target}
            post("transfer_out", EntryKind.TRANSFER_OUT, -total, "move-out transfer", refs)
            post("transfer_in", EntryKind.TRANSFER_IN, total, "move-out transfer", refs, target)
    return MoveOutSettlement(tuple(entries), energy, balance, total, frozenset(flags))


def _increment_charge(position: TariffPosition, energy: Decimal) -> Money:
    """The final energy priced in ``position``'s segment (or band), from its usage so far."""
    tariff = position.tariff
    try:
        before = position.segment_usage_kwh
        if isinstance(tariff, TouTariff) and position.band is None:
            raise SettlementError("a time-of-use settlement needs the band of the final usage")
        return charge_for_increment(
            tariff,
            position.period,
            before,
            before + energy,
            on_day=position.on_day,
            band=position.band,
        )
    except DomainError as exc:
        if isinstance(exc, SettlementError):
            raise
        raise SettlementError(f"cannot price the final consumption: {exc}") from exc
