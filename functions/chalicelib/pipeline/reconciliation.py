"""Re-derive every account balance from its entries; alert on any difference.

Sharded by company, bounded per invocation: the daily schedule only lists the companies
and hands each to ``reconcile_company`` (one asynchronous invocation per company); each
invocation checks at most ``MAX_ACCOUNTS_PER_RUN`` accounts and hands the rest of its
company on to a fresh invocation of itself, with the cursor of the next page. So no run
grows with the fleet: a company of 100,000 accounts is 500 short invocations, not one
that times out. Without a function to invoke (locally, in tests) the same jobs run in
turn in process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ..data.catalogue import Catalogue
from ..data.ledger_store import LedgerStore
from .alerts import Alert, Notifier

# Each account is one consistent Query of its entries (up to a few thousand a year):
# 200 stays well inside a schedule's 300 s even for old, busy accounts.
MAX_ACCOUNTS_PER_RUN = 200

Dispatch = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Mismatch:
    company_id: str
    account_id: str
    stored_minor: int
    derived_minor: int
    stored_count: int
    derived_count: int


@dataclass(frozen=True)
class CompanyBatch:
    """One invocation's share: the accounts checked, what differed, where the next begins."""

    company_id: str
    checked: int
    mismatches: list[Mismatch] = field(default_factory=list)
    next_cursor: str | None = None


def reconcile_job(company_id: str, day: date, cursor: str | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {"company_id": company_id, "day": day.isoformat()}
    if cursor:
        job["cursor"] = cursor
    return job


class Reconciliation:
    def __init__(
        self,
        catalogue: Catalogue,
        ledger: LedgerStore,
        notifier: Notifier,
        dispatch: Dispatch | None = None,
        batch: int | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._ledger = ledger
        self._notifier = notifier
        self._dispatch = dispatch
        self._batch = batch or MAX_ACCOUNTS_PER_RUN

    @property
    def fans_out(self) -> bool:
        return self._dispatch is not None

    def fan_out(self, now: datetime | None = None) -> int:
        """One job per company (the daily schedule); returns how many."""
        day = _day_of(now)
        jobs = 0
        for company in self._catalogue.list_companies():
            self._hand_on(reconcile_job(company.company_id, day))
            jobs += 1
        return jobs

    def reconcile_company(
        self, company_id: str, day: date, cursor: str | None = None
    ) -> CompanyBatch:
        """Check one batch of the company's accounts; hand the rest on when fanning out."""
        accounts, next_cursor = self._catalogue.accounts_page(company_id, cursor, self._batch)
        mismatches = [m for a in accounts if (m := self._check(company_id, a.account_id, day))]
        if next_cursor and self._dispatch is not None:
            self._hand_on(reconcile_job(company_id, day, next_cursor))
        return CompanyBatch(company_id, len(accounts), mismatches, next_cursor)

    def run(self, now: datetime | None = None) -> tuple[int, list[Mismatch]]:
        """Every company, batch after batch, in this process (no function to fan out to):
        (accounts checked, mismatches)."""
        day = _day_of(now)
        checked = 0
        mismatches: list[Mismatch] = []
        for company in self._catalogue.list_companies():
            cursor: str | None = None
            while True:
                batch = self.reconcile_company(company.company_id, day, cursor)
                checked += batch.checked
                mismatches += batch.mismatches
                cursor = batch.next_cursor
                if cursor is None:
                    break
        return checked, mismatches

    def _hand_on(self, job: dict[str, Any]) -> None:
        assert self._dispatch is not None
        self._dispatch(job)

    def _check(self, company_id: str, account_id: str, day: date) -> Mismatch | None:
        derived = self._ledger.derive_balance(company_id, account_id)
        if derived.consistent:
            return None
        found = Mismatch(
            company_id,
            account_id,
            derived.stored_minor,
            derived.derived_minor,
            derived.stored_count,
            derived.derived_count,
        )
        # One alert per account per day while the difference lasts.
        self._notifier.notify(
            Alert(
                company_id,
                "balance_mismatch",
                f"account:{account_id}",
                datetime(day.year, day.month, day.day, tzinfo=UTC),
                "staff",
                None,
                {
                    "stored_minor": found.stored_minor,
                    "derived_minor": found.derived_minor,
                    "stored_count": found.stored_count,
                    "derived_count": found.derived_count,
                },
            )
        )
        return found


def _day_of(now: datetime | None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()
