"""Postpaid bills: one item per account and billing period, in the account's partition."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from . import keys
from .conditions import conditional_check_failed
from .errors import ConditionFailedError, NotFoundError
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

    def exists(self, company_id: str, account_id: str, period_start: str) -> bool:
        try:
            self.get(company_id, account_id, period_start)
        except NotFoundError:
            return False
        return True

    def issue(
        self,
        company_id: str,
        account_id: str,
        period_start: str,
        period_end: str,
        total_minor: int,
        currency: str,
        lines: list[dict[str, Any]],
    ) -> Bill:
        """Put the bill once per account and period: ConditionFailedError if it exists."""
        bill = Bill(
            keys.account_pk(company_id, account_id),
            keys.bill_sk(period_start),
            company_id=company_id,
            account_id=account_id,
            period_start=period_start,
            period_end=period_end,
            total_minor=total_minor,
            currency=currency,
            lines=lines,
        )
        try:
            bill.save(condition=Bill.pk.does_not_exist())
        except PutError as exc:
            if conditional_check_failed(exc):
                raise ConditionFailedError(f"bill {account_id} {period_start} exists") from exc
            raise
        return bill
