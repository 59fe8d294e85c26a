"""Postpaid bills: one item per account and billing period, in the account's partition.

A bill is never written alone: ``SettlementStore.settle_bill`` puts it in the same
transaction as its ledger entries and the account's cursor move, so a bill that exists
has been charged (docs/pipeline.md, "Postpaid bills").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import keys
from .errors import NotFoundError
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")

MAX_BILLS_READ = 120  # ten years of monthly bills


@dataclass(frozen=True)
class BillReading:
    kwh: str
    at: datetime


@dataclass(frozen=True)
class BillRecord:
    """What a bill item holds, from the billing run (the data layer builds the item)."""

    period_start: str
    period_end: str
    total_minor: int
    currency: str
    lines: list[dict[str, Any]]
    closing_kind: str  # actual | interpolated | estimated
    opening: BillReading
    closing: BillReading
    billed_start: str
    energy_kwh: str
    band_kwh: dict[str, str] | None
    tariff: dict[str, Any]
    entry_ids: tuple[str, ...] = ()
    estimated_from: BillReading | None = None  # estimates only
    estimate_daily_kwh: str | None = None
    tariff_versions: tuple[str, ...] = ()  # every version that priced it, "<id>@<from>"

    def item(self, company_id: str, account_id: str) -> models.Bill:
        estimate = self.estimated_from
        return models.Bill(
            keys.account_pk(company_id, account_id),
            keys.bill_sk(self.period_start),
            company_id=company_id,
            account_id=account_id,
            period_start=self.period_start,
            period_end=self.period_end,
            total_minor=self.total_minor,
            currency=self.currency,
            lines=self.lines,
            estimated=self.closing_kind == "estimated",
            closing_kind=self.closing_kind,
            opening_kwh=self.opening.kwh,
            opening_at=self.opening.at,
            closing_kwh=self.closing.kwh,
            closing_at=self.closing.at,
            billed_start=self.billed_start,
            energy_kwh=self.energy_kwh,
            band_kwh=self.band_kwh,
            tariff=self.tariff,
            estimated_from_kwh=estimate.kwh if estimate else None,
            estimated_from_at=estimate.at if estimate else None,
            estimate_daily_kwh=self.estimate_daily_kwh,
            entry_ids=set(self.entry_ids) or None,
            tariff_versions=list(self.tariff_versions) or None,
        )


class BillStore:
    def of_account(
        self, company_id: str, account_id: str, limit: int = MAX_BILLS_READ
    ) -> list[models.Bill]:
        """The account's bills, newest period first (pattern 19)."""
        return [
            b
            for b in models.Bill.query(
                keys.account_pk(company_id, account_id),
                models.Bill.sk.startswith(keys.BILL_PREFIX),
                scan_index_forward=False,
                limit=min(limit, MAX_BILLS_READ),
            )
            if isinstance(b, models.Bill)
        ]

    def latest(self, company_id: str, account_id: str) -> models.Bill | None:
        """The account's newest bill (pattern 19, consistent: the billing run continues
        from it), or None."""
        for bill in models.Bill.query(
            keys.account_pk(company_id, account_id),
            models.Bill.sk.startswith(keys.BILL_PREFIX),
            scan_index_forward=False,
            consistent_read=True,
            limit=1,
        ):
            return bill
        return None

    def get(
        self, company_id: str, account_id: str, period_start: str, *, consistent: bool = False
    ) -> models.Bill:
        try:
            return models.Bill.get(
                keys.account_pk(company_id, account_id),
                keys.bill_sk(period_start),
                consistent_read=consistent,
            )
        except pynamo_errors.DoesNotExist as exc:
            raise NotFoundError("bill not found") from exc

    def exists(self, company_id: str, account_id: str, period_start: str) -> bool:
        try:
            self.get(company_id, account_id, period_start)
        except NotFoundError:
            return False
        return True
