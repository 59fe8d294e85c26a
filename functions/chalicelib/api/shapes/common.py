"""Shapes every part of the API shares: money, ledger entries, relay commands.

Money is an integer count of minor units with its currency beside it; kWh, prices and
percentages are decimal strings: no float carries a figure (docs/api.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Shape(BaseModel):
    # An answer with a key its model does not name is a bug of ours, caught in tests.
    model_config = ConfigDict(extra="forbid")


Kwh = str  # a decimal string, e.g. "1234.567"
Timestamp = str  # ISO 8601 with offset


class Money(Shape):
    amount_minor: int = Field(description="integer count of the currency's minor unit")
    currency: str = Field(description="ISO 4217 code")


class LiveBalance(Shape):
    """The settled balance less the energy used since the last charge, priced."""

    amount_minor: int
    currency: str
    unsettled_kwh: Kwh
    unsettled_minor: int
    as_of: Timestamp | None


class Entry(Shape):
    """A ledger entry (top-up, charge, refund, correction...)."""

    entry_id: str
    kind: str
    amount: Money
    occurred_at: Timestamp
    memo: str | None


class RelayCommandView(Shape):
    command_id: str
    power: str = Field(description="on | off")
    reason: str
    note: str | None
    issued_at: Timestamp
    outcome: str = Field(description="pending | confirmed | failed | unconfirmed")
    tenancy_id: str | None = Field(
        default=None,
        description="staff, on a unit's overview: the tenancy the command was issued in "
        "(null: vacant, or not known)",
    )


class Health(Shape):
    status: str
