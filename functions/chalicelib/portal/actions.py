"""What a landlord or manager changes from the portal: credit and power.

These are seams: each is one function. While the pipeline has no top-up or
manual-relay service (``chalicelib/pipeline``), a top-up appends a TOP_UP entry
through ``LedgerStore.append`` and a relay change records the command and the
unit's requested state; swap the body for the pipeline's service when it lands
(it also writes the shadow and re-evaluates the prepaid policy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..api.services import services
from ..auth.principal import Principal
from ..data import keys
from ..data.errors import LedgerEntryConflictError, NotFoundError
from ..data.models import LedgerEntryItem, RelayCommand, Unit
from ..domain import EntryKind, LedgerEntry, Money
from .errors import IdempotencyKeyReusedError, InvalidRelayRequestError, InvalidTopUpError

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_TOP_UP_MINOR = 10_000_000_00  # ten million major units: a typo guard, not a policy
MAX_NOTE_CHARS = 200
MAX_REASON_CHARS = 200
TOP_UP_ID_PREFIX = "topup-"


@dataclass(frozen=True)
class TopUpReceipt:
    entry: LedgerEntryItem
    applied: bool  # False: this submit was a replay of an earlier one
    balance_minor: int


def top_up_entry_id(idempotency_key: str) -> str:
    if not IDEMPOTENCY_KEY.fullmatch(idempotency_key or ""):
        raise InvalidTopUpError("idempotency key must be 16-64 of [A-Za-z0-9_-]")
    return TOP_UP_ID_PREFIX + idempotency_key


def top_up(
    p: Principal,
    unit: Unit,
    amount_minor: int,
    note: str,
    idempotency_key: str,
    now: datetime,
) -> TopUpReceipt:
    """Credit the unit's current account once per idempotency key.

    A double click or a retry carries the same key, hence the same entry id.
    The replay is recognised by reading the entry first (a retry seconds later
    has another ``now``, so its fingerprint would differ); two submits racing
    past that read meet the store's conditional put, and the loser is
    recognised the same way.
    """
    if not unit.account_id:
        raise InvalidTopUpError("the unit has no tenancy to credit")
    if isinstance(amount_minor, bool) or not 0 < amount_minor <= MAX_TOP_UP_MINOR:
        raise InvalidTopUpError("amount must be positive and within the limit")
    note = note.strip()[:MAX_NOTE_CHARS]
    entry_id = top_up_entry_id(idempotency_key)
    ledger = services().ledger
    account = ledger.get_account(p.company_id, unit.account_id)
    existing = _existing(p.company_id, unit.account_id, entry_id)
    if existing is not None:
        return _replay(existing, amount_minor, ledger.balance_minor(p.company_id, unit.account_id))
    entry = LedgerEntry(
        entry_id=entry_id,
        account_id=unit.account_id,
        kind=EntryKind.TOP_UP,
        amount=Money(amount_minor, account.currency),
        occurred_at=now,
        memo=note,
        refs={"unit_id": unit.unit_id, "actor": f"user:{p.user_sub}", "channel": "portal"},
    )
    try:
        result = ledger.append(p.company_id, entry)
    except LedgerEntryConflictError:
        stored = _existing(p.company_id, unit.account_id, entry_id)
        if stored is None:
            raise
        return _replay(stored, amount_minor, ledger.balance_minor(p.company_id, unit.account_id))
    stored = ledger.get_entry(p.company_id, unit.account_id, entry_id)
    return TopUpReceipt(stored, result.applied, ledger.balance_minor(p.company_id, unit.account_id))


def _existing(company_id: str, account_id: str, entry_id: str) -> LedgerEntryItem | None:
    try:
        return services().ledger.get_entry(company_id, account_id, entry_id)
    except NotFoundError:
        return None


def _replay(stored: LedgerEntryItem, amount_minor: int, balance_minor: int) -> TopUpReceipt:
    if stored.entry_kind != EntryKind.TOP_UP.value or int(stored.amount_minor) != amount_minor:
        raise IdempotencyKeyReusedError("this submit key was already used for another top-up")
    return TopUpReceipt(stored, applied=False, balance_minor=balance_minor)


def set_power(p: Principal, unit: Unit, power: str, reason: str, now: datetime) -> RelayCommand:
    """Record a manual disconnection or restoration: who, when, why.

    The reason is stored on the command (and shown to the tenant); the unit's
    ``power``/``power_reason`` show the requested state until the pipeline's
    shadow confirmation replaces them.
    """
    if power not in {"on", "off"}:
        raise InvalidRelayRequestError("power must be 'on' or 'off'")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise InvalidRelayRequestError(f"a reason of 1-{MAX_REASON_CHARS} characters is required")
    if not unit.meter_id:
        raise InvalidRelayRequestError("the unit has no meter")
    command_id = f"manual-{int(now.timestamp() * 1000)}"
    code = "manual_off" if power == "off" else "manual_on"
    command = RelayCommand(
        keys.meter_data_pk(p.company_id, unit.meter_id),
        keys.relay_command_sk(now, command_id),
        company_id=p.company_id,
        meter_id=unit.meter_id,
        command_id=command_id,
        power=power,
        reason=code,
        actor=f"user:{p.user_sub}",
        issued_at=now,
        outcome="pending",
        attempts=0,
    )
    command.note = reason
    command.save()
    unit.update(actions=[Unit.power.set(power), Unit.power_reason.set(code)])
    return command
