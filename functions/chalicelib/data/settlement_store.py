"""Move an account's settlement cursor, with or without a charge, atomically.

Consumption reaches the ledger in settlements, not per reading. A settlement
is one ``TransactWriteItems``: put the charge entry (keyed by the cursor it
starts from and the reading it ends at, so a replay meets the same key) and,
on the account, ``ADD`` the amount and ``SET`` the new cursor on condition that
the cursor is still where the caller read it. Two ingests racing on one meter
cannot both settle the same energy: the loser sees ``CursorMovedError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..domain.ledger import LedgerEntry
from . import keys
from .conditions import conditional_check_failed, failed_at
from .errors import CursorMovedError
from .ledger_store import LedgerStore, entry_item
from .models import Account, LedgerEntryItem


@dataclass(frozen=True)
class Cursor:
    kwh: str
    at: datetime
    usage: dict[str, Any]


class SettlementStore:
    def __init__(self, connection: Connection, ledger: LedgerStore) -> None:
        self._connection = connection
        self._ledger = ledger

    def settle(
        self,
        company_id: str,
        account_id: str,
        expected_at: datetime | None,
        cursor: Cursor,
        entry: LedgerEntry | None,
        close: bool = False,
    ) -> bool:
        """Charge ``entry`` (may be None: energy was free or zero) and move the
        cursor. True if applied; False if this exact settlement was a replay.
        Raises CursorMovedError if another settlement moved the cursor first, or
        the account was closed (a move-out's final charge, ``close=True``, closes
        it: a reader with a stale catalogue must not charge the leaver for later
        readings)."""
        account = Account(keys.account_pk(company_id, account_id), keys.ACCOUNT_SK)
        condition = Account.closed_at.does_not_exist() & (
            Account.settled_at.does_not_exist()
            if expected_at is None
            else Account.settled_at == expected_at
        )
        moves: list[Any] = [
            Account.settled_kwh.set(cursor.kwh),
            Account.settled_at.set(cursor.at),
            Account.usage.set(cursor.usage),
        ]
        if close:
            moves.append(Account.closed_at.set(cursor.at))
        if entry is None:
            try:
                account.update(actions=moves, condition=Account.pk.exists() & condition)
            except UpdateError as exc:
                if conditional_check_failed(exc):
                    raise CursorMovedError(f"account {account_id}: cursor moved") from exc
                raise
            return True
        item = entry_item(company_id, entry)
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(
                    item, condition=LedgerEntryItem.pk.does_not_exist(), return_values="ALL_OLD"
                )
                tx.update(
                    account,
                    actions=[
                        Account.balance_minor.add(item.amount_minor),
                        Account.entry_count.add(1),
                        *moves,
                    ],
                    condition=Account.pk.exists() & (Account.currency == item.currency) & condition,
                )
        except TransactWriteError as exc:
            if failed_at(exc, 0):  # the entry id exists: a replay, or a conflict
                self._ledger.check_replay(company_id, item, exc.cancellation_reasons[0])
                return False
            if failed_at(exc, 1):
                raise CursorMovedError(f"account {account_id}: cursor moved") from exc
            raise
        return True
