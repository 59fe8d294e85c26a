"""Append-only ledger: producer-chosen ids, idempotent replays, balance = sum of entries."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from types import MappingProxyType

from chalicelib.domain.errors import (
    CurrencyMismatchError,
    InvalidLedgerEntryError,
    LedgerEntryConflictError,
    LedgerEntrySignError,
    LedgerLimitError,
)
from chalicelib.domain.money import Money

# No "#": it separates key parts in the store (data/keys.py uses the same alphabet).
ENTRY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_./@+=-]{0,127}$")
MAX_MEMO_CHARS = 500
MAX_REFS = 32
MAX_REF_KEY_CHARS = 64
MAX_REF_VALUE_CHARS = 256
MAX_LEDGER_ENTRIES = 1_000_000
FINGERPRINT_VERSION = 1


class EntryKind(Enum):
    TOP_UP = "top_up"
    CONSUMPTION_CHARGE = "consumption_charge"
    FIXED_CHARGE = "fixed_charge"
    EMERGENCY_CREDIT = "emergency_credit"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"


class Sign(Enum):
    POSITIVE = "positive"  # credit to the account
    NEGATIVE = "negative"  # debit from the account
    NON_ZERO = "non_zero"  # either, but it must move money


# Credits are positive, charges negative; no entry may be zero because it would move no money.
SIGN_RULES: Mapping[EntryKind, Sign] = MappingProxyType(
    {
        EntryKind.TOP_UP: Sign.POSITIVE,
        EntryKind.CONSUMPTION_CHARGE: Sign.NEGATIVE,
        EntryKind.FIXED_CHARGE: Sign.NEGATIVE,
        EntryKind.EMERGENCY_CREDIT: Sign.POSITIVE,
        EntryKind.ADJUSTMENT: Sign.NON_ZERO,
        EntryKind.REFUND: Sign.NEGATIVE,
        EntryKind.TRANSFER_OUT: Sign.NEGATIVE,
        EntryKind.TRANSFER_IN: Sign.POSITIVE,
    }
)


def check_sign(kind: EntryKind, amount: Money) -> None:
    """Raise LedgerEntrySignError unless `amount` has the sign `kind` requires."""
    rule = SIGN_RULES[kind]
    minor = amount.amount_minor
    ok = (
        (rule is Sign.POSITIVE and minor > 0)
        or (rule is Sign.NEGATIVE and minor < 0)
        or (rule is Sign.NON_ZERO and minor != 0)
    )
    if not ok:
        raise LedgerEntrySignError(f"{kind.value} must be {rule.value}, got {amount.amount_minor}")


def _check_text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidLedgerEntryError(f"{name} must be a str")
    if len(value) > limit:
        raise InvalidLedgerEntryError(f"{name} longer than {limit} characters")
    return value


def _frozen_refs(refs: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(refs, Mapping):
        raise InvalidLedgerEntryError("refs must be a mapping of str to str")
    if len(refs) > MAX_REFS:
        raise InvalidLedgerEntryError(f"more than {MAX_REFS} refs")
    for key, value in refs.items():
        _check_text("refs key", key, MAX_REF_KEY_CHARS)
        _check_text(f"refs[{key}]", value, MAX_REF_VALUE_CHARS)
        if not key:
            raise InvalidLedgerEntryError("refs keys must not be empty")
    return MappingProxyType(dict(sorted(refs.items())))


@dataclass(frozen=True, eq=False)
class LedgerEntry:
    """One immutable movement of money on one account. Never edited; corrections are new entries."""

    entry_id: str
    account_id: str
    kind: EntryKind
    amount: Money
    occurred_at: datetime
    memo: str = ""
    refs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.entry_id, str) or not ENTRY_ID_PATTERN.match(self.entry_id):
            raise InvalidLedgerEntryError(
                f"entry_id {self.entry_id!r} must match {ENTRY_ID_PATTERN.pattern}"
            )
        _check_text("account_id", self.account_id, 128)
        if not self.account_id:
            raise InvalidLedgerEntryError("account_id must not be empty")
        if not isinstance(self.kind, EntryKind):
            raise InvalidLedgerEntryError(f"kind must be an EntryKind, got {self.kind!r}")
        if not isinstance(self.amount, Money):
            raise InvalidLedgerEntryError("amount must be Money")
        check_sign(self.kind, self.amount)
        if not isinstance(self.occurred_at, datetime) or self.occurred_at.utcoffset() is None:
            raise InvalidLedgerEntryError("occurred_at must be a timezone-aware datetime")
        _check_text("memo", self.memo, MAX_MEMO_CHARS)
        object.__setattr__(self, "refs", _frozen_refs(self.refs))

    def canonical(self) -> dict[str, object]:
        """The content that identifies the entry; the fingerprint hashes exactly this."""
        occurred_utc = self.occurred_at.astimezone(UTC)
        return {
            "v": FINGERPRINT_VERSION,
            "entry_id": self.entry_id,
            "account_id": self.account_id,
            "kind": self.kind.value,
            "amount_minor": self.amount.amount_minor,
            "currency": self.amount.currency,
            "occurred_at": occurred_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "memo": self.memo,
            "refs": dict(sorted(self.refs.items())),
        }

    def fingerprint(self) -> str:
        """sha256 hex of the canonical JSON (sorted keys, no spaces, UTF-8). Stable: v1."""
        payload = json.dumps(
            self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LedgerEntry):
            return NotImplemented
        return self.fingerprint() == other.fingerprint()

    def __hash__(self) -> int:
        return hash(self.fingerprint())


class Ledger:
    """In-memory append-only ledger over many accounts (the store's reference behaviour)."""

    def __init__(self, max_entries: int = MAX_LEDGER_ENTRIES) -> None:
        self._max_entries = max_entries
        self._by_id: dict[str, tuple[str, LedgerEntry]] = {}
        self._order: list[LedgerEntry] = []
        self._currency_by_account: dict[str, str] = {}

    def append(self, entry: LedgerEntry) -> bool:
        """Append `entry`; True if new, False if an identical replay.

        Raises LedgerEntryConflictError if the id exists with different content, and
        CurrencyMismatchError if the account already holds another currency.
        """
        known = self._by_id.get(entry.entry_id)
        fingerprint = entry.fingerprint()
        if known is not None:
            if known[0] != fingerprint:
                raise LedgerEntryConflictError(
                    f"entry {entry.entry_id!r} exists with different content"
                )
            return False
        if len(self._order) >= self._max_entries:
            raise LedgerLimitError(f"ledger holds {self._max_entries} entries")
        currency = self.currency_of(entry.account_id)
        if currency is not None and currency != entry.amount.currency:
            raise CurrencyMismatchError(
                f"account {entry.account_id!r} is in {currency}, entry in {entry.amount.currency}"
            )
        self._by_id[entry.entry_id] = (fingerprint, entry)
        self._currency_by_account[entry.account_id] = entry.amount.currency
        self._order.append(entry)
        return True

    def currency_of(self, account_id: str) -> str | None:
        return self._currency_by_account.get(account_id)

    def entries(self, account_id: str | None = None) -> Iterator[LedgerEntry]:
        """Entries in append order, optionally for one account."""
        return (e for e in self._order if account_id is None or e.account_id == account_id)

    def balance(self, account_id: str, currency: str) -> Money:
        """The sum of the account's entries (zero of `currency` if none)."""
        total = Money.zero(currency)
        for entry in self.entries(account_id):
            total = total + entry.amount
        return total

    def __len__(self) -> int:
        return len(self._order)
