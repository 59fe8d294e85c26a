"""Move an account's settlement cursor, with or without a charge, atomically.

Consumption reaches the ledger in settlements, not per reading. A settlement
is one ``TransactWriteItems``: put the charge entry (keyed by the cursor it
starts from and the reading it ends at, so a replay meets the same key) and,
on the account, ``ADD`` the amount and ``SET`` the new cursor on condition that
the cursor is still where the caller read it. Two ingests racing on one meter
cannot both settle the same energy: the loser sees ``CursorMovedError``.

A postpaid bill is the same move with one more item in front: the bill itself,
put on condition that the period has no bill yet (``settle_bill``). So a bill
exists if and only if its charge was posted and the cursor moved to its closing reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import CancellationReason, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from ..domain.ledger import LedgerEntry
from . import keys
from .backoff import backoff
from .bills import BillRecord
from .binding import shared_wire
from .conditions import conditional_check_failed, failed_at, retryable
from .errors import (
    AccountClosedError,
    BillChargeWithoutBillError,
    CurrencyMismatchError,
    CursorMovedError,
    TransactionContentionError,
)
from .ledger_store import MAX_ATTEMPTS, LedgerStore, check_same_entry, entry_item, entry_values
from .models import Account, Bill, LedgerEntryItem
from .wire import ConditionalCheckFailedError, DynamoWire, WireError
from .wire.codec import ItemCodec, Raw, Updates, item_key
from .wire.transact import cancelled, put_new, transact_write, update

ACCOUNT_CODEC = ItemCodec(Account)
MAX_BATCH_KEYS = 100  # BatchGetItem's limit on the keys of one request
ENTRY_CODEC = ItemCodec(LedgerEntryItem)


@dataclass(frozen=True)
class Cursor:
    kwh: str
    at: datetime
    usage: dict[str, Any]


@dataclass(frozen=True)
class Settlement:
    applied: bool  # False: this exact settlement was already in the ledger (a replay)
    balance_minor: int  # the account's balance after it (a replay's: as read after)


def _cursor_condition(expected_at: datetime | None) -> Condition:
    return Account.closed_at.does_not_exist() & (
        Account.settled_at.does_not_exist()
        if expected_at is None
        else Account.settled_at == expected_at
    )


def _cursor_moves(cursor: Cursor) -> list[Any]:
    return [
        Account.settled_kwh.set(cursor.kwh),
        Account.settled_at.set(cursor.at),
        Account.usage.set(cursor.usage),
    ]


class SettlementStore:
    """``settle_from`` (ingest's settlements) goes through the lean client (``wire``: the
    container's; by default the process's, at the models' table); the rest through PynamoDB."""

    def __init__(
        self, connection: Connection, ledger: LedgerStore, wire: DynamoWire | None = None
    ) -> None:
        self._connection = connection
        self._ledger = ledger
        self._given = wire

    @property
    def _wire(self) -> DynamoWire:
        return self._given or shared_wire()

    def accounts(
        self, company_id: str, account_ids: Iterable[str], *, sleep: Callable[[int], None] = backoff
    ) -> dict[str, Account]:
        """The accounts found of ``account_ids``, read consistently in BatchGetItem requests
        of at most 100 keys (DynamoDB's limit), the keys a request leaves unprocessed sent
        again after a wait (``sleep(attempt)``). What is still unread after MAX_ATTEMPTS is
        left out: a caller reads it alone (``Settler.refresh``)."""
        wire = self._wire
        wanted = sorted(set(account_ids))
        found: dict[str, Account] = {}
        for start in range(0, len(wanted), MAX_BATCH_KEYS):
            keys_left = [
                item_key(keys.account_pk(company_id, a), keys.ACCOUNT_SK)
                for a in wanted[start : start + MAX_BATCH_KEYS]
            ]
            for attempt in range(MAX_ATTEMPTS):
                if attempt:
                    sleep(attempt - 1)
                request = {wire.table: {"Keys": keys_left, "ConsistentRead": True}}
                answer = wire.call("BatchGetItem", {"RequestItems": request})
                for raw in answer.get("Responses", {}).get(wire.table, []):
                    if raw.get(ACCOUNT_CODEC.kind_name, {}).get("S") == ACCOUNT_CODEC.kind:
                        account = ACCOUNT_CODEC.decode(raw)
                        found[str(account.account_id)] = account
                keys_left = answer.get("UnprocessedKeys", {}).get(wire.table, {}).get("Keys", [])
                if not keys_left:
                    break
        return found

    def settle_from(
        self,
        company_id: str,
        account_id: str,
        expected_at: datetime | None,
        balance_minor: int,
        cursor: Cursor,
        entry: LedgerEntry | None,
    ) -> Settlement:
        """``settle`` (the same items, conditions and errors) for a caller that holds the
        account's balance: the account's condition asks for that balance too, so the
        balance after is ``balance_minor`` plus the entry's amount, with no read.

        A cancelled attempt reads what the cancellation reasons would say (the lean
        client keeps no reasons: wire/transact.py), consistently: the entry first (there:
        a replay, ``applied`` False, or LedgerEntryConflictError; as in ``settle``, that
        comes before the cursor, which our own first attempt may have moved), then the
        account: moved, closed, gone or in another currency, CursorMovedError; else its
        balance moved (a top-up) or the attempt met a concurrent transaction, and it is
        sent again at the balance read (TransactionContentionError after MAX_ATTEMPTS)."""
        wire = self._wire
        pk = keys.account_pk(company_id, account_id)
        key = item_key(pk, keys.ACCOUNT_SK)
        values = entry_values(company_id, entry) if entry is not None else None
        amount = int(values["amount_minor"]) if values is not None else 0
        for attempt in range(MAX_ATTEMPTS):
            updates, condition = _cursor_update(cursor, expected_at, balance_minor, values)
            try:
                if values is None:
                    wire.call("UpdateItem", updates.request(wire.table, key, condition))
                else:
                    transact_write(
                        wire,
                        [
                            put_new(wire.table, ENTRY_CODEC.item(values)),
                            update(wire.table, key, updates, condition),
                        ],
                    )
                return Settlement(True, balance_minor + amount)
            except WireError as exc:
                if not (cancelled(exc) or isinstance(exc, ConditionalCheckFailedError)):
                    raise
                failure: WireError = exc
            if values is not None:
                stored = _get(wire, item_key(pk, str(values["sk"])), "fingerprint")
                if stored is not None:
                    fingerprint = ENTRY_CODEC.decode(stored).fingerprint
                    check_same_entry(str(values["entry_id"]), fingerprint, values["fingerprint"])
                    after = _get(wire, key)
                    balance = ACCOUNT_CODEC.decode(after).balance_minor if after else balance_minor
                    return Settlement(False, int(balance))
            raw = _get(wire, key)
            account = ACCOUNT_CODEC.decode(raw) if raw is not None else None
            if (
                account is None
                or account.closed_at is not None
                or account.settled_at != expected_at
                or (values is not None and account.currency != values["currency"])
            ):
                raise CursorMovedError(f"account {account_id}: cursor moved") from failure
            if int(account.balance_minor) == balance_minor:
                backoff(attempt)  # nothing of ours failed: a concurrent transaction
            balance_minor = int(account.balance_minor)
        raise TransactionContentionError(
            f"settlement {account_id}: still contended after {MAX_ATTEMPTS} attempts"
        )

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
        condition = _cursor_condition(expected_at)
        moves = _cursor_moves(cursor)
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

    def settle_bill(
        self,
        company_id: str,
        account_id: str,
        expected_at: datetime | None,
        cursor: Cursor,
        bill: BillRecord,
        entries: Sequence[LedgerEntry],
    ) -> bool:
        """Issue ``bill``, append its ``entries`` (none for a bill of zero: no entry moves
        no money) and move the cursor, in one ``TransactWriteItems``: all or nothing.

        Items, in order: the bill (``attribute_not_exists``), each entry
        (``attribute_not_exists``), the account (exists, open, in the bill's currency,
        cursor where the caller read it). True if written; False if the period already
        has a bill (an earlier or a concurrent run issued and charged it: nothing is
        written now). Raises CursorMovedError (someone else moved the cursor),
        AccountClosedError, CurrencyMismatchError, NotFoundError (no account),
        LedgerEntryConflictError (an entry id reused with other content) or
        BillChargeWithoutBillError; TransactionContentionError after the retries."""
        items = [entry_item(company_id, e) for e in entries]
        account = Account(keys.account_pk(company_id, account_id), keys.ACCOUNT_SK)
        actions = _cursor_moves(cursor)
        if items:
            actions += [
                Account.balance_minor.add(sum(int(i.amount_minor) for i in items)),
                Account.entry_count.add(len(items)),
            ]
        condition = (
            Account.pk.exists()
            & (Account.currency == bill.currency)
            & _cursor_condition(expected_at)
        )
        for attempt in range(MAX_ATTEMPTS):
            try:
                with TransactWrite(connection=self._connection) as tx:
                    tx.save(bill.item(company_id, account_id), condition=Bill.pk.does_not_exist())
                    for item in items:
                        tx.save(
                            item,
                            condition=LedgerEntryItem.pk.does_not_exist(),
                            return_values="ALL_OLD",
                        )
                    tx.update(
                        account, actions=actions, condition=condition, return_values="ALL_OLD"
                    )
                return True
            except TransactWriteError as exc:
                if failed_at(exc, 0):
                    return False
                for index, item in enumerate(items, start=1):
                    if failed_at(exc, index):
                        # Raises LedgerEntryConflictError unless it is the very same entry.
                        self._ledger.check_replay(company_id, item, exc.cancellation_reasons[index])
                        raise BillChargeWithoutBillError(
                            f"entry {item.entry_id} exists without bill {bill.period_start}"
                        ) from exc
                if failed_at(exc, len(items) + 1):
                    reason = exc.cancellation_reasons[len(items) + 1]
                    raise self._refusal(company_id, account_id, bill.currency, reason) from exc
                if not retryable(exc):
                    raise
                backoff(attempt)
        raise TransactionContentionError(
            f"bill {account_id} {bill.period_start}: still contended after {MAX_ATTEMPTS} attempts"
        )

    def _refusal(
        self, company_id: str, account_id: str, currency: str, reason: CancellationReason | None
    ) -> Exception:
        """Which of the account's conditions failed, from the account as it stood
        (``ReturnValuesOnConditionCheckFailure``; one consistent read when absent)."""
        raw = reason.raw_item if reason else None
        if raw:
            closed = "closed_at" in raw
            stored_currency = raw.get("currency", {}).get("S")
        else:
            stored = self._ledger.get_account(company_id, account_id)  # NotFoundError if none
            closed, stored_currency = stored.closed_at is not None, stored.currency
        if closed:
            return AccountClosedError(f"account {account_id} is closed")
        if stored_currency != currency:
            return CurrencyMismatchError(
                f"a bill in {currency}; account {account_id} is in {stored_currency}"
            )
        return CursorMovedError(f"account {account_id}: cursor moved")


def _cursor_update(
    cursor: Cursor,
    expected_at: datetime | None,
    balance_minor: int,
    entry: dict[str, Any] | None,
) -> tuple[Updates, str]:
    """``settle``'s account update and condition (``_cursor_moves``, ``_cursor_condition``)
    in the lean client's form, with the balance the caller holds."""
    updates = Updates(ACCOUNT_CODEC).set_all(
        (("settled_kwh", cursor.kwh), ("settled_at", cursor.at), ("usage", cursor.usage))
    )
    conditions = [
        updates.exists("pk"),
        updates.exists_not("closed_at"),
        updates.exists_not("settled_at")
        if expected_at is None
        else updates.equals("settled_at", expected_at),
        updates.equals("balance_minor", balance_minor),
    ]
    if entry is not None:
        updates.add("balance_minor", int(entry["amount_minor"])).add("entry_count", 1)
        conditions.insert(1, updates.equals("currency", entry["currency"]))
    return updates, " AND ".join(conditions)


def _get(wire: DynamoWire, key: Raw, projection: str | None = None) -> Raw | None:
    """One item, read consistently (None: there is none)."""
    request: dict[str, Any] = {"TableName": wire.table, "Key": key, "ConsistentRead": True}
    if projection is not None:
        request["ProjectionExpression"] = "#p"
        request["ExpressionAttributeNames"] = {"#p": projection}
    item: Raw | None = wire.call("GetItem", request).get("Item")
    return item
