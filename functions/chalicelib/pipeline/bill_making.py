"""A period's bill as the transaction writes it: the item, its ledger entries, the cursor.

The bill's total is the sum of its lines. Its ledger entries (ids chosen from the account
and the period, so a re-run meets the same ones):

- ``bill:<account>:<period start>``: ``consumption_charge`` of every line but the
  corrections (energy, fixed charges and their tax), when not zero;
- ``bill:<account>:<period start>:credit``: ``adjustment`` crediting the correction
  lines of an over-estimate (``domain/true_up.py``), when there are any.

So the ledger moves by exactly minus the bill's total, and a correction is its own line
and its own entry, never a negative consumption charge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from ..data.bills import BillReading, BillRecord
from ..data.models import Bill as BillItem
from ..domain import (
    Bill,
    BillingPeriod,
    BillLine,
    Closing,
    EntryKind,
    EstimatedBill,
    LedgerEntry,
    Money,
    Reading,
    format_kwh,
    kwh,
    parse_tariff,
)
from .bill_cursor import Opening


def _line(line: BillLine) -> dict[str, Any]:
    return {
        "code": line.code,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "amount_minor": line.amount_minor,
        "refs": dict(line.refs),
    }


def _reading(reading: Reading) -> BillReading:
    return BillReading(format_kwh(reading.cumulative_kwh), reading.at)


def estimated_from(closing: Closing, opening: Opening) -> Reading | None:
    """Where an estimate's priced interval starts: its base, unless that lies below an
    estimated opening (readings below it are not priced: the interval starts there)."""
    base = closing.base
    if not closing.estimated or base is None:
        return None
    below = base.cumulative_kwh < opening.reading.cumulative_kwh or base.at <= opening.reading.at
    return opening.reading if below else base


def entries_of(
    account_id: str, meter_id: str, bill: Bill, credit: Sequence[BillLine], at: datetime
) -> list[LedgerEntry]:
    start, end = bill.period.start.isoformat(), bill.period.end.isoformat()
    entries = []
    charge = bill.total_minor
    if charge:
        entries.append(
            LedgerEntry(
                f"bill:{account_id}:{start}",
                account_id,
                EntryKind.CONSUMPTION_CHARGE,
                Money(-charge, bill.currency),
                at,
                memo=f"bill {start}..{end}",
                refs={"bill": start, "meter": meter_id},
            )
        )
    credited = -sum(line.amount_minor for line in credit)
    if credited:
        corrects = sorted({line.refs["corrects"] for line in credit if "corrects" in line.refs})
        entries.append(
            LedgerEntry(
                f"bill:{account_id}:{start}:credit",
                account_id,
                EntryKind.ADJUSTMENT,
                Money(credited, bill.currency),
                at,
                memo=f"bill {start}..{end}: over-estimate corrected",
                refs={"bill": start, "meter": meter_id, "corrects": ",".join(corrects)},
            )
        )
    return entries


def record_of(
    bill: Bill,
    credit: Sequence[BillLine],
    opening: Opening,
    closing: Closing,
    tariff_document: dict[str, Any],
    entries: Sequence[LedgerEntry],
) -> BillRecord:
    lines = [*bill.lines, *credit]
    bands: dict[str, str] | None = None
    if tariff_document.get("kind") == "tou":
        bands = {
            line.refs["band"]: str(line.quantity)
            for line in bill.energy_lines()
            if "band" in line.refs
        }
    start = estimated_from(closing, opening)
    return BillRecord(
        period_start=bill.period.start.isoformat(),
        period_end=bill.period.end.isoformat(),
        total_minor=sum(line.amount_minor for line in lines),
        currency=bill.currency,
        # Through JSON so every value is what the item will read back (str, int).
        lines=json.loads(json.dumps([_line(line) for line in lines], default=str)),
        closing_kind=closing.kind.value,
        opening=_reading(opening.reading),
        closing=_reading(closing.reading),
        billed_start=bill.billed.start.isoformat(),
        energy_kwh=format_kwh(bill.energy_kwh),
        band_kwh=bands,
        tariff=json.loads(json.dumps(tariff_document, default=str)),
        entry_ids=tuple(e.entry_id for e in entries),
        estimated_from=_reading(start) if start else None,
        estimate_daily_kwh=format_kwh(closing.daily_kwh) if closing.daily_kwh is not None else None,
        tariff_versions=bill.versions,
    )


def estimated_bill(item: BillItem) -> EstimatedBill:
    """An estimated bill item as the true-up prices it (with the tariff it was charged by)."""
    assert item.estimated_from_at is not None and item.closing_at is not None
    return EstimatedBill(
        period_start=date.fromisoformat(str(item.period_start)),
        tariff=parse_tariff(item.tariff),
        billed=BillingPeriod(
            date.fromisoformat(str(item.billed_start)), date.fromisoformat(str(item.period_end))
        ),
        estimated_from=Reading(item.estimated_from_at, kwh(str(item.estimated_from_kwh))),
        estimated_to=Reading(item.closing_at, kwh(str(item.closing_kwh))),
        energy_kwh=kwh(str(item.energy_kwh)),
        band_kwh={str(b): kwh(str(v)) for b, v in dict(item.band_kwh or {}).items()},
    )
