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

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

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
from .lazy import lazy_module
from .ledger_store import MAX_ATTEMPTS, LedgerStore, check_same_entry, entry_item, entry_values
from .wire import DynamoWire, WireError
from .wire.codec import ItemCodec, Raw, Updates, item_key
from .wire.errors import CancellationReason as WireReason
from .wire.errors import TransactionCanceledError
from .wire.transact import (
    CONDITION_FAILED,
    MAX_ITEMS,
    RETRYABLE_REASONS,
    TRANSACTION_CONFLICT,
    cancelled,
    put_new,
    transact_write,
    update,
)

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors
    from pynamodb import transactions as pynamo_transactions
    from pynamodb.connection import Connection
    from pynamodb.expressions import condition as pynamo_condition

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_condition = lazy_module("pynamodb.expressions.condition")
    pynamo_errors = lazy_module("pynamodb.exceptions")
    pynamo_transactions = lazy_module("pynamodb.transactions")

MAX_BATCH_KEYS = 100  # BatchGetItem's limit on the keys of one request


@functools.cache
def account_codec() -> ItemCodec[models.Account]:
    """The accounts' codec, made when a settlement first runs (it needs the models)."""
    return ItemCodec(models.Account)


@functools.cache
def entry_codec() -> ItemCodec[models.LedgerEntryItem]:
    return ItemCodec(models.LedgerEntryItem)


@dataclass(frozen=True)
class Cursor:
    kwh: str
    at: datetime
    usage: dict[str, Any]


@dataclass(frozen=True)
class Settlement:
    applied: bool  # False: this exact settlement was already in the ledger (a replay)
    balance_minor: int  # the account's balance after it (a replay's: as it stood)


@dataclass(frozen=True)
class Moved:
    """A settlement that charged nothing: the account's cursor was not where the caller
    read it, or the account is closed, gone (``account`` None) or in another currency.
    ``account``: as it stood when refused (the caller reloads its snapshot from it)."""

    account: models.Account | None


@dataclass(frozen=True)
class Settling:
    """One settlement as ``settle_all`` takes it: move ``account_id``'s cursor from
    ``expected_at`` (None: never settled) to ``cursor``, charging ``entry`` (None: nothing
    to charge), the account holding ``balance_minor`` before."""

    account_id: str
    expected_at: datetime | None
    balance_minor: int
    cursor: Cursor
    entry: LedgerEntry | None


def _cursor_condition(expected_at: datetime | None) -> pynamo_condition.Condition:
    return models.Account.closed_at.does_not_exist() & (
        models.Account.settled_at.does_not_exist()
        if expected_at is None
        else models.Account.settled_at == expected_at
    )


def _cursor_moves(cursor: Cursor) -> list[Any]:
    return [
        models.Account.settled_kwh.set(cursor.kwh),
        models.Account.settled_at.set(cursor.at),
        models.Account.usage.set(cursor.usage),
    ]


class SettlementStore:
    """``settle_all`` and ``accounts`` (ingest's settlements and its accounts' reads) go
    through the lean client (``wire``: the container's; by default the process's, at the
    models' table); the rest through PynamoDB."""

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
    ) -> dict[str, models.Account]:
        """The accounts found of ``account_ids``, read consistently in BatchGetItem requests
        of at most 100 keys (DynamoDB's limit), the keys a request leaves unprocessed sent
        again after a wait (``sleep(attempt)``). What is still unread after MAX_ATTEMPTS is
        left out: a caller reads it alone (``Settler.refresh``)."""
        wire = self._wire
        wanted = sorted(set(account_ids))
        found: dict[str, models.Account] = {}
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
                    if raw.get(account_codec().kind_name, {}).get("S") == account_codec().kind:
                        account = account_codec().decode(raw)
                        found[str(account.account_id)] = account
                keys_left = answer.get("UnprocessedKeys", {}).get(wire.table, {}).get("Keys", [])
                if not keys_left:
                    break
        return found

    def settle_all(
        self,
        company_id: str,
        settlings: Sequence[Settling],
        *,
        sleep: Callable[[int], None] = backoff,
    ) -> list[Settlement | Moved]:
        """``settle`` (the same items, conditions and entry ids) for each of ``settlings``,
        whose caller holds each account's balance: the account's condition asks for that
        balance too, so the balance after is the held balance plus the entry's amount,
        with no read. Answered in the order given: a ``Settlement``, or ``Moved`` (the
        cursor was moved, the account closed, gone or in another currency: nothing was
        charged).

        The settlements travel together, as few ``TransactWriteItems`` as DynamoDB's 100
        items allow (``_groups``). A cancelled transaction's reasons (wire/transact.py) say
        what became of each settlement in it, with no read back (``_verdict``): the entry
        exists (a replay, ``applied`` False, or LedgerEntryConflictError), the account
        refused (moved; or a top-up moved its balance: sent again at the balance its reason
        holds), or it was refused for another's sake (sent again as it was). Whatever is
        left goes again at once, after a wait only when a transaction met a concurrent one;
        TransactionContentionError after MAX_ATTEMPTS rounds."""
        wire = self._wire
        pending = [_Pending.of(company_id, n, s) for n, s in enumerate(settlings)]
        done: dict[int, Settlement | Moved] = {}
        for attempt in range(MAX_ATTEMPTS):
            contended = False
            for group in _groups(pending):
                failure = _send(wire, group)
                for at, one in zip(_offsets(group), group, strict=True):
                    verdict = (
                        Settlement(True, one.balance_minor + one.amount)
                        if failure is None
                        else _verdict(one, failure, at)
                    )
                    if isinstance(verdict, int):
                        one.balance_minor = verdict  # a top-up moved it: again at once
                    elif isinstance(verdict, _Again):
                        contended = contended or verdict is _Again.AFTER_A_WAIT
                    else:
                        done[one.index] = verdict
            pending = [one for one in pending if one.index not in done]
            if not pending:
                return [done[n] for n in range(len(settlings))]
            if contended:
                sleep(attempt)
        raise TransactionContentionError(
            f"{len(pending)} settlement(s), the first of account {pending[0].account_id}: "
            f"still contended after {MAX_ATTEMPTS} attempts"
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
        account = models.Account(keys.account_pk(company_id, account_id), keys.ACCOUNT_SK)
        condition = _cursor_condition(expected_at)
        moves = _cursor_moves(cursor)
        if close:
            moves.append(models.Account.closed_at.set(cursor.at))
        if entry is None:
            try:
                account.update(actions=moves, condition=models.Account.pk.exists() & condition)
            except pynamo_errors.UpdateError as exc:
                if conditional_check_failed(exc):
                    raise CursorMovedError(f"account {account_id}: cursor moved") from exc
                raise
            return True
        item = entry_item(company_id, entry)
        try:
            with pynamo_transactions.TransactWrite(connection=self._connection) as tx:
                tx.save(
                    item,
                    condition=models.LedgerEntryItem.pk.does_not_exist(),
                    return_values="ALL_OLD",
                )
                tx.update(
                    account,
                    actions=[
                        models.Account.balance_minor.add(item.amount_minor),
                        models.Account.entry_count.add(1),
                        *moves,
                    ],
                    condition=models.Account.pk.exists()
                    & (models.Account.currency == item.currency)
                    & condition,
                )
        except pynamo_errors.TransactWriteError as exc:
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
        account = models.Account(keys.account_pk(company_id, account_id), keys.ACCOUNT_SK)
        actions = _cursor_moves(cursor)
        if items:
            actions += [
                models.Account.balance_minor.add(sum(int(i.amount_minor) for i in items)),
                models.Account.entry_count.add(len(items)),
            ]
        condition = (
            models.Account.pk.exists()
            & (models.Account.currency == bill.currency)
            & _cursor_condition(expected_at)
        )
        for attempt in range(MAX_ATTEMPTS):
            try:
                with pynamo_transactions.TransactWrite(connection=self._connection) as tx:
                    tx.save(
                        bill.item(company_id, account_id), condition=models.Bill.pk.does_not_exist()
                    )
                    for item in items:
                        tx.save(
                            item,
                            condition=models.LedgerEntryItem.pk.does_not_exist(),
                            return_values="ALL_OLD",
                        )
                    tx.update(
                        account, actions=actions, condition=condition, return_values="ALL_OLD"
                    )
                return True
            except pynamo_errors.TransactWriteError as exc:
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
        self,
        company_id: str,
        account_id: str,
        currency: str,
        reason: pynamo_errors.CancellationReason | None,
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
    updates = Updates(account_codec()).set_all(
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


class _Again(Enum):
    """A verdict: send the settlement again as it is, at once (another's reason cancelled
    the transaction) or after a wait (it met a concurrent transaction)."""

    AT_ONCE = "at once"
    AFTER_A_WAIT = "after a wait"


@dataclass
class _Pending:
    """One settlement on its way: its items' values and the balance it asks for."""

    index: int
    account_id: str
    key: Raw
    expected_at: datetime | None
    balance_minor: int
    cursor: Cursor
    values: dict[str, Any] | None  # the entry's (None: nothing to charge)

    @classmethod
    def of(cls, company_id: str, index: int, settling: Settling) -> _Pending:
        key = item_key(keys.account_pk(company_id, settling.account_id), keys.ACCOUNT_SK)
        values = entry_values(company_id, settling.entry) if settling.entry else None
        return cls(
            index,
            settling.account_id,
            key,
            settling.expected_at,
            settling.balance_minor,
            settling.cursor,
            values,
        )

    @property
    def amount(self) -> int:
        return int(self.values["amount_minor"]) if self.values is not None else 0

    @property
    def size(self) -> int:
        """Its items in a transaction: the entry (if any) and the account."""
        return 1 if self.values is None else 2

    def items(self, table: str) -> list[dict[str, Any]]:
        updates, condition = _cursor_update(
            self.cursor, self.expected_at, self.balance_minor, self.values
        )
        account = update(table, self.key, updates, condition)
        if self.values is None:
            return [account]
        return [put_new(table, entry_codec().item(self.values)), account]


def _groups(pending: Sequence[_Pending]) -> Iterator[list[_Pending]]:
    """``pending`` in order, cut into transactions: at most MAX_ITEMS items each, and no
    account twice in one (DynamoDB refuses two actions on one item; entry ids differ by
    meter and cursor). A transaction's size stays far below its 4 MB: an entry and an
    account update are each well under 4 KB, so 100 of them under 400 KB."""
    group: list[_Pending] = []
    items, accounts = 0, set[str]()
    for one in pending:
        if group and (items + one.size > MAX_ITEMS or one.account_id in accounts):
            yield group
            group, items, accounts = [], 0, set()
        group.append(one)
        items += one.size
        accounts.add(one.account_id)
    if group:
        yield group


def _offsets(group: Sequence[_Pending]) -> list[int]:
    """Where each settlement's items start in its transaction."""
    offsets, at = [], 0
    for one in group:
        offsets.append(at)
        at += one.size
    return offsets


def _send(wire: DynamoWire, group: Sequence[_Pending]) -> TransactionCanceledError | None:
    """Send ``group`` as one transaction: None if it was applied, else its cancellation,
    with one reason per item (a reasonless one, a transaction still in progress, is
    given a conflict on every item)."""
    items = [item for one in group for item in one.items(wire.table)]
    try:
        transact_write(wire, items)
    except TransactionCanceledError as exc:
        if len(exc.reasons) != len(items):
            raise  # not an answer we can read: a bug, or a stand-in unlike DynamoDB
        return exc
    except WireError as exc:
        if not cancelled(exc):
            raise
        conflict = tuple(WireReason(TRANSACTION_CONFLICT) for _ in items)
        return TransactionCanceledError(str(exc), reasons=conflict, operation=exc.operation)
    return None


def _verdict(
    one: _Pending, failure: TransactionCanceledError, at: int
) -> Settlement | Moved | int | _Again:
    """What became of one settlement of a cancelled transaction (its items' reasons start
    at ``at``: the entry's when it has one, then the account's): a replay
    (``Settlement``, not applied), ``Moved``, the balance to send it again at (an int: a
    top-up moved it), or ``_Again``. A reason we cannot act on raises
    the cancellation itself."""
    reasons = failure.reasons[at : at + one.size]
    *entry_reason, account_reason = reasons
    account = _account(account_reason)
    if entry_reason and entry_reason[0].code == CONDITION_FAILED:
        # The entry id exists: before the cursor, which our own earlier attempt moved.
        assert one.values is not None
        stored = entry_reason[0].item
        if stored is None:
            raise failure  # ALL_OLD was asked: DynamoDB and moto return the entry
        check_same_entry(
            str(one.values["entry_id"]),
            entry_codec().decode(stored).fingerprint,
            one.values["fingerprint"],
        )
        # the account as it stood; its condition held (no reason): the balance asked for
        balance = one.balance_minor if account is None else int(account.balance_minor)
        return Settlement(False, balance)
    codes = {r.code for r in reasons} - {None}
    if account_reason.code == CONDITION_FAILED:
        if (
            account is None
            or account.closed_at is not None
            or account.settled_at != one.expected_at
            or (one.values is not None and account.currency != one.values["currency"])
        ):
            return Moved(account)
        if int(account.balance_minor) != one.balance_minor:
            return int(account.balance_minor)
        return _Again.AFTER_A_WAIT  # every condition holds now: it changed back in between
    if not codes:
        return _Again.AT_ONCE
    if codes <= RETRYABLE_REASONS:
        return _Again.AFTER_A_WAIT
    raise failure  # a validation error, an item collection too large: not contention


def _account(reason: WireReason) -> models.Account | None:
    return account_codec().decode(reason.item) if reason.item is not None else None
