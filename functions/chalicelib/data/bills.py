"""Postpaid bills: one item per account and billing period, in the account's partition."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from . import keys
from .errors import NotFoundError
from .models import Bill

MAX_BILLS_READ = 120  # ten years of monthly bills


class BillStore:
    def of_account(
        self, company_id: str, account_id: str, limit: int = MAX_BILLS_READ
    ) -> list[Bill]:
        """The account's bills, newest period first (pattern 19)."""
        return [
            b
            for b in Bill.query(
                keys.account_pk(company_id, account_id),
                Bill.sk.startswith(keys.BILL_PREFIX),
                scan_index_forward=False,
                limit=min(limit, MAX_BILLS_READ),
            )
            if isinstance(b, Bill)
        ]

    def get(self, company_id: str, account_id: str, period_start: str) -> Bill:
        try:
            return Bill.get(keys.account_pk(company_id, account_id), keys.bill_sk(period_start))
        except DoesNotExist as exc:
            raise NotFoundError("bill not found") from exc
