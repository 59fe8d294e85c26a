"""The bodies of a held reading's decision and of a meter exchange: one pydantic model
each, shared by the JSON API and the readings page (the page turns its form into the
same model). Strict: unknown fields, numbers for kWh and timestamps without an offset
are refused, and each error names its field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from ..data.errors import NotFoundError
from .actions import MAX_NOTE_CHARS, NOTE_PATTERN
from .move_requests import Kwh

# The reason of a decision or an exchange: the top-up note's rules (stripped, no control
# characters or line breaks: it lands in the audit trail and on the held reading), but
# required, because a change to what a tenant is charged must say why.
Reason = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_NOTE_CHARS, pattern=NOTE_PATTERN
    ),
]
Decision = Literal["accept", "reject", "estimate"]

# A held reading is named in a path by its time in unix milliseconds (its key's precision).
READING_MS = re.compile(r"^[0-9]{12,14}$")
EARLIEST_MS = 946_684_800_000  # 2000-01-01: no meter of the product read before it


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadingDecisionRequest(_Body):
    decision: Decision
    note: Reason
    # Only with ``estimate``: the register value a person puts in the held reading's place.
    estimate_kwh: Kwh | None = Field(default=None, validate_default=True)

    @field_validator("estimate_kwh")
    @classmethod
    def _only_for_an_estimate(cls, value: str | None, info: ValidationInfo) -> str | None:
        decision = info.data.get("decision")
        if decision == "estimate" and value is None:
            raise ValueError("required to replace a reading with an estimate")
        if decision in {"accept", "reject"} and value is not None:
            raise ValueError("only for decision 'estimate'")
        return value


class MeterExchangeRequest(_Body):
    at: AwareDatetime  # when the old meter was read for the last time and the new one fitted
    old_final_kwh: Kwh
    new_opening_kwh: Kwh
    note: Reason

    @field_validator("at", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        # pydantic would read a bare number as unix seconds: a time is written out, with
        # its UTC offset, so nobody's wall clock is guessed at.
        if not isinstance(value, str | datetime):
            raise ValueError("an ISO 8601 date and time with its UTC offset")
        return value


class SameMeterRequest(_Body):
    """A changed serial's proposal answered "no exchange: the same meter", and why."""

    note: Reason


def reading_time(reading_ms: str) -> datetime:
    """A path's ``reading_ms`` as the held reading's time; anything else names no reading."""
    if not READING_MS.fullmatch(reading_ms or "") or int(reading_ms) < EARLIEST_MS:
        raise NotFoundError("held reading not found")
    return datetime.fromtimestamp(int(reading_ms) / 1000, tz=UTC)


def reading_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)
