"""What a landlord or manager changes from the portal: credit and power.

Both go through the pipeline's ``MeterControlService`` (``chalicelib/pipeline/
meter_control.py``), which appends the ledger entry or records the manual
override and then re-applies the prepaid policy, writing the meter's shadow.
This module only validates the portal's input, recognises a replayed submit,
and turns the pipeline's failures into the portal's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from ..auth.principal import Principal
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.ledger_store import LedgerStore
from ..data.models import LedgerEntryItem, Unit
from ..data.usage_store import UsageCounters
from ..domain.text_rules import PLAIN_TEXT_PATTERN, has_refused_characters
from ..pipeline.errors import (
    InvalidManualEndError,
    ManualReasonRequiredError,
    NoAccountError,
    NoMeterError,
)
from ..pipeline.errors import (
    InvalidTopUpError as PipelineTopUpError,
)
from ..pipeline.meter_control import MAX_TOP_UP_MINOR as PIPELINE_MAX_TOP_UP_MINOR
from ..pipeline.meter_control import (
    ManualResult,
    MeterControlService,
    clean_top_up_note,
    top_up_memo,
)
from .errors import (
    IdempotencyKeyReusedError,
    InvalidPowerEndError,
    InvalidRelayRequestError,
    InvalidTopUpError,
    InvalidTopUpNoteError,
)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_TOP_UP_MINOR = PIPELINE_MAX_TOP_UP_MINOR
MAX_REASON_CHARS = 200
MAX_NOTE_CHARS = 200
MAX_UNTIL_CHARS = 40
# No control characters, line breaks or bidi controls: the rule of every typed text.
NOTE_PATTERN = PLAIN_TEXT_PATTERN
TOP_UP_ID_PREFIX = "topup:"  # the pipeline's entry id for a client key
POWER_CHOICES: dict[str, Literal["on", "off"] | None] = {"on": "on", "off": "off", "auto": None}


@dataclass(frozen=True)
class TopUpReceipt:
    entry: LedgerEntryItem
    applied: bool  # False: this submit was a replay of an earlier one
    balance_minor: int


def top_up_entry_id(idempotency_key: str) -> str:
    if not IDEMPOTENCY_KEY.fullmatch(idempotency_key or ""):
        raise InvalidTopUpError("idempotency key must be 16-64 of [A-Za-z0-9_-]")
    return TOP_UP_ID_PREFIX + idempotency_key


@dataclass(frozen=True)
class CreditAndPower:
    _ledger: LedgerStore
    _meter_control: MeterControlService
    _usage: UsageCounters
    _catalogue: Catalogue

    def top_up(
        self,
        p: Principal,
        unit: Unit,
        amount_minor: int,
        idempotency_key: str,
        now: datetime,
        note: str | None = None,
    ) -> TopUpReceipt:
        """Credit the unit's current account once per idempotency key.

        A double click or a retry carries the same key (rendered into the form),
        hence the same entry id: the pipeline recognises the replay and credits
        nothing. The same key with another amount or another note is a conflict.
        """
        try:
            note = clean_top_up_note(note)
        except PipelineTopUpError as exc:
            raise InvalidTopUpNoteError(str(exc)) from exc
        if not unit.account_id:
            raise InvalidTopUpError("the unit has no tenancy to credit")
        if isinstance(amount_minor, bool) or not 0 < amount_minor <= MAX_TOP_UP_MINOR:
            raise InvalidTopUpError("amount must be positive and within the limit")
        entry_id = top_up_entry_id(idempotency_key)
        existing = self._existing(p.company_id, unit.account_id, entry_id)
        actor = p.email or p.user_sub
        if existing is not None and (
            int(existing.amount_minor) != amount_minor
            or (existing.memo or "")
            != top_up_memo(note, str((existing.refs or {}).get("actor", actor)))
        ):
            raise IdempotencyKeyReusedError("this submit key was already used for another top-up")
        try:
            result = self._meter_control.top_up(
                p.company_id, unit.unit_id, amount_minor, idempotency_key, actor, now, memo=note
            )
        except PipelineTopUpError as exc:
            if self._existing(p.company_id, unit.account_id, entry_id) is not None:
                raise IdempotencyKeyReusedError(str(exc)) from exc
            raise InvalidTopUpError(str(exc)) from exc
        except (NoAccountError, NoMeterError) as exc:
            raise InvalidTopUpError(str(exc)) from exc
        if result.applied:
            # resellers invoice by top-ups (docs/brands.md); a replay is not counted again
            self._usage.top_up_recorded(p.company_id, now)
        entry = self._ledger.get_entry(p.company_id, unit.account_id, result.entry_id)
        return TopUpReceipt(entry, result.applied, result.balance_minor)

    def _existing(self, company_id: str, account_id: str, entry_id: str) -> LedgerEntryItem | None:
        try:
            return self._ledger.get_entry(company_id, account_id, entry_id)
        except NotFoundError:
            return None

    def set_power(
        self,
        p: Principal,
        unit: Unit,
        power: str,
        reason: str,
        now: datetime,
        *,
        until: str | None = None,
        until_topup: bool = False,
    ) -> ManualResult:
        """The unit's power mode, one of three: ``auto`` (the credit decides), ``off``
        by hand, ``on`` by hand until a time (``until``: ISO 8601 with an offset, or a
        local ``YYYY-MM-DDTHH:MM`` on the property's clock) or the next top-up. Who,
        when, why and until when are recorded; the reason is what the tenant sees."""
        if power not in POWER_CHOICES:
            raise InvalidRelayRequestError("power must be 'on', 'off' or 'auto'")
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON_CHARS:
            raise InvalidRelayRequestError(
                f"a reason of 1-{MAX_REASON_CHARS} characters is required"
            )
        if has_refused_characters(reason):
            # the tenant reads it: no hidden controls, no text that reads backwards
            raise InvalidRelayRequestError("the reason has control or bidi characters")
        end = self._until(unit, until) if until is not None else None
        try:
            return self._meter_control.set_manual(
                p.company_id,
                unit.unit_id,
                POWER_CHOICES[power],
                reason,
                p.user_sub,
                now,
                until=end,
                until_topup=until_topup,
            )
        except InvalidManualEndError as exc:
            raise InvalidPowerEndError(str(exc)) from exc
        except (ManualReasonRequiredError, NoMeterError) as exc:
            raise InvalidRelayRequestError(str(exc)) from exc

    def _until(self, unit: Unit, text: str) -> datetime:
        """An end as typed: with an offset as given, without one on the property's clock."""
        try:
            at = datetime.fromisoformat(text.strip()) if 0 < len(text) <= MAX_UNTIL_CHARS else None
        except ValueError:
            at = None
        if at is None:
            raise InvalidPowerEndError("the end must be a date and time (YYYY-MM-DDTHH:MM)")
        if at.utcoffset() is None:
            zone = self._catalogue.get_property(unit.company_id, unit.property_id).time_zone
            at = at.replace(tzinfo=ZoneInfo(str(zone)))
        return at
