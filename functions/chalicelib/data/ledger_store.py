"""Accounts and their append-only ledger in DynamoDB.

An append is one ``TransactWriteItems``: put the entry keyed by its producer's
id on condition that the key does not exist, and ``ADD`` its amount to the
account's stored balance. Either both happen or neither. Because the entry's
key is its id, a replay hits the condition forever (not only within the
10-minute client-token window); the stored fingerprint then tells a harmless
replay (no-op) from an id reused with other content (``LedgerEntryConflictError``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.ledger import LedgerEntry
from . import builders, keys
from .backoff import backoff
from .conditions import conditional_check_failed, failed_at, retryable
from .errors import (
    CurrencyMismatchError,
    LedgerEntryConflictError,
    NotFoundError,
    TransactionContentionError,
)
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors
    from pynamodb import transactions as pynamo_transactions
    from pynamodb.connection import Connection

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")
    pynamo_transactions = lazy_module("pynamodb.transactions")

MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class AppendResult:
    entry_id: str
    applied: bool  # False: this exact entry was already recorded (a replay)


@dataclass(frozen=True)
class DerivedBalance:
    stored_minor: int
    stored_count: int
    derived_minor: int
    derived_count: int

    @property
    def consistent(self) -> bool:
        return (self.stored_minor, self.stored_count) == (self.derived_minor, self.derived_count)


class LedgerStore:
    def __init__(self, connection: Connection) -> None:
        # TransactWrite needs an explicit connection; injecting it also lets a
        # test or a tool point the store at any endpoint.
        self._connection = connection

    # --- accounts ---

    def open_account(
        self, company_id: str, account_id: str, currency: str, at: datetime
    ) -> models.Account:
        account = builders.account(company_id, account_id, currency, at)
        try:
            account.save(condition=models.Account.pk.does_not_exist())
        except pynamo_errors.PutError as exc:
            if not conditional_check_failed(exc):
                raise
            existing = self.get_account(company_id, account_id)
            if existing.currency != currency:
                raise CurrencyMismatchError(
                    f"account {account_id} exists in {existing.currency}, not {currency}"
                ) from exc
            return existing
        return account

    def get_account(self, company_id: str, account_id: str) -> models.Account:
        try:
            return models.Account.get(
                keys.account_pk(company_id, account_id), keys.ACCOUNT_SK, consistent_read=True
            )
        except pynamo_errors.DoesNotExist as exc:
            raise NotFoundError(f"account {account_id} not found") from exc

    def balance_minor(self, company_id: str, account_id: str) -> int:
        return int(self.get_account(company_id, account_id).balance_minor)

    # --- entries ---

    def append(self, company_id: str, entry: LedgerEntry) -> AppendResult:
        item = entry_item(company_id, entry)
        account_key = keys.account_pk(company_id, entry.account_id)
        for attempt in range(MAX_ATTEMPTS):
            try:
                with pynamo_transactions.TransactWrite(connection=self._connection) as tx:
                    tx.save(
                        item,
                        condition=models.LedgerEntryItem.pk.does_not_exist(),
                        return_values="ALL_OLD",
                    )
                    tx.update(
                        models.Account(account_key, keys.ACCOUNT_SK),
                        actions=[
                            models.Account.balance_minor.add(item.amount_minor),
                            models.Account.entry_count.add(1),
                        ],
                        condition=(
                            models.Account.pk.exists() & (models.Account.currency == item.currency)
                        ),
                    )
                return AppendResult(entry.entry_id, applied=True)
            except pynamo_errors.TransactWriteError as exc:
                if failed_at(exc, 0):  # the entry id exists: a replay, or a conflict
                    self.check_replay(company_id, item, exc.cancellation_reasons[0])
                    return AppendResult(entry.entry_id, applied=False)
                if failed_at(exc, 1):
                    account = self.get_account(company_id, entry.account_id)
                    raise CurrencyMismatchError(
                        f"entry {entry.entry_id} is in {item.currency}; "
                        f"account {entry.account_id} is in {account.currency}"
                    ) from exc
                if not retryable(exc):
                    raise
                backoff(attempt)
        raise TransactionContentionError(
            f"entry {entry.entry_id}: still contended after {MAX_ATTEMPTS} attempts"
        )

    def get_entry(self, company_id: str, account_id: str, entry_id: str) -> models.LedgerEntryItem:
        try:
            return models.LedgerEntryItem.get(
                keys.account_pk(company_id, account_id),
                keys.ledger_entry_sk(entry_id),
                consistent_read=True,
            )
        except pynamo_errors.DoesNotExist as exc:
            raise NotFoundError(f"ledger entry {entry_id} not found") from exc

    def entries(
        self, company_id: str, account_id: str, *, newest_first: bool = True, limit: int = 50
    ) -> Iterator[models.LedgerEntryItem]:
        """The account's ledger in time order (GSI2), for statements and the portal."""
        pk = keys.account_pk(company_id, account_id)
        yield from models.LedgerEntryItem.gsi2.query(  # type: ignore[misc]
            pk,
            models.LedgerEntryItem.gsi2sk.startswith(keys.LEDGER_TIME_PREFIX),
            scan_index_forward=not newest_first,
            limit=limit,
        )

    def entries_since(
        self, company_id: str, account_id: str, start: datetime, limit: int
    ) -> list[models.LedgerEntryItem]:
        """Entries that occurred at or after ``start``, oldest first (gsi2, pattern 17);
        at most ``limit`` of them."""
        return [
            e
            for e in models.LedgerEntryItem.gsi2.query(
                keys.account_pk(company_id, account_id),
                models.LedgerEntryItem.gsi2sk >= keys.ledger_time_bound_gsi2sk(start),
                scan_index_forward=True,
                limit=limit,
            )
            if isinstance(e, models.LedgerEntryItem)
        ]

    def all_entries(
        self, company_id: str, account_id: str, limit: int
    ) -> list[models.LedgerEntryItem]:
        """Every entry of the account (consistent reads), at most ``limit``."""
        return list(
            models.LedgerEntryItem.query(
                keys.account_pk(company_id, account_id),
                models.LedgerEntryItem.sk.startswith(keys.LEDGER_ENTRY_PREFIX),
                consistent_read=True,
                limit=limit,
            )
        )

    def accounts_and_bills(
        self, company_id: str, account_ids: Iterable[str], bills_of: Mapping[str, str]
    ) -> tuple[dict[str, models.Account], dict[str, models.Bill]]:
        """Accounts and, for the accounts in ``bills_of``, their bill of the period starting
        on the day it maps them to (each unit's own cycle: the keys are known, so both come
        in one BatchGetItem)."""
        wanted = {(keys.account_pk(company_id, a), keys.ACCOUNT_SK) for a in account_ids}
        wanted |= {
            (keys.account_pk(company_id, a), keys.bill_sk(start)) for a, start in bills_of.items()
        }
        found = list(models.PowerletItem.batch_get(sorted(wanted))) if wanted else []
        accounts = {str(x.account_id): x for x in found if isinstance(x, models.Account)}
        bills = {str(x.account_id): x for x in found if isinstance(x, models.Bill)}
        return accounts, bills

    def derive_balance(self, company_id: str, account_id: str) -> DerivedBalance:
        """Re-derive the balance from every entry (consistent reads on the
        account partition) and compare it with the stored cache."""
        pk = keys.account_pk(company_id, account_id)
        account = self.get_account(company_id, account_id)
        total = count = 0
        for item in models.LedgerEntryItem.query(
            pk, models.LedgerEntryItem.sk.startswith(keys.LEDGER_ENTRY_PREFIX), consistent_read=True
        ):
            total += int(item.amount_minor)
            count += 1
        return DerivedBalance(int(account.balance_minor), int(account.entry_count), total, count)

    # --- helpers ---

    def check_replay(
        self,
        company_id: str,
        item: models.LedgerEntryItem,
        reason: pynamo_errors.CancellationReason | None,
    ) -> None:
        # ReturnValuesOnConditionCheckFailure hands back the stored entry, so a
        # replay costs no second read; fall back to one if it is absent.
        raw = reason.raw_item if reason else None
        stored_fingerprint = (
            raw["fingerprint"]["S"]
            if raw and "fingerprint" in raw
            else self.get_entry(company_id, item.account_id, item.entry_id).fingerprint
        )
        check_same_entry(str(item.entry_id), str(stored_fingerprint), str(item.fingerprint))


def check_same_entry(entry_id: str, stored_fingerprint: str, fingerprint: str) -> None:
    """A replay of an entry id is harmless only with the same content (its fingerprint)."""
    if stored_fingerprint != fingerprint:
        raise LedgerEntryConflictError(
            f"entry id {entry_id} was already used for different content"
        )


def entry_item(company_id: str, entry: LedgerEntry) -> models.LedgerEntryItem:
    """The ledger entry as its item: keyed by the producer's entry id, fingerprinted."""
    return models.LedgerEntryItem(**entry_values(company_id, entry))


def entry_values(company_id: str, entry: LedgerEntry) -> dict[str, Any]:
    """The entry item's attribute values by name (``entry_item``; the lean client encodes
    them with ``wire.codec.ItemCodec`` to the same item)."""
    pk = keys.account_pk(company_id, entry.account_id)
    return {
        "pk": pk,
        "sk": keys.ledger_entry_sk(entry.entry_id),
        "gsi2pk": pk,
        "gsi2sk": keys.ledger_time_gsi2sk(entry.occurred_at, entry.entry_id),
        "company_id": company_id,
        "account_id": entry.account_id,
        "entry_id": entry.entry_id,
        "entry_kind": entry.kind.value,
        "amount_minor": int(entry.amount.amount_minor),
        "currency": entry.amount.currency,
        "occurred_at": entry.occurred_at,
        "memo": entry.memo,
        "refs": dict(entry.refs),
        "fingerprint": entry.fingerprint(),
    }
