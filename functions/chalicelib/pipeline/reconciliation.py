"""Re-derive every account balance from its entries; alert on any difference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..data.catalogue import Catalogue
from ..data.ledger_store import LedgerStore
from .alerts import Alert, Notifier


@dataclass(frozen=True)
class Mismatch:
    company_id: str
    account_id: str
    stored_minor: int
    derived_minor: int
    stored_count: int
    derived_count: int


class Reconciliation:
    def __init__(self, catalogue: Catalogue, ledger: LedgerStore, notifier: Notifier) -> None:
        self._catalogue = catalogue
        self._ledger = ledger
        self._notifier = notifier

    def run(self, now: datetime | None = None) -> tuple[int, list[Mismatch]]:
        """(accounts checked, mismatches). Accounts come from the per-company index."""
        now = now or datetime.now(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        checked = 0
        mismatches: list[Mismatch] = []
        for company in self._catalogue.list_companies():
            for account in self._catalogue.list_accounts(company.company_id):
                checked += 1
                derived = self._ledger.derive_balance(company.company_id, account.account_id)
                if derived.consistent:
                    continue
                found = Mismatch(
                    company.company_id,
                    account.account_id,
                    derived.stored_minor,
                    derived.derived_minor,
                    derived.stored_count,
                    derived.derived_count,
                )
                mismatches.append(found)
                # One alert per account per day while the difference lasts.
                self._notifier.notify(
                    Alert(
                        company.company_id,
                        "balance_mismatch",
                        f"account:{account.account_id}",
                        day,
                        "staff",
                        None,
                        {
                            "stored_minor": found.stored_minor,
                            "derived_minor": found.derived_minor,
                            "stored_count": found.stored_count,
                            "derived_count": found.derived_count,
                            "currency": str(account.currency),
                        },
                    )
                )
        return checked, mismatches
