"""Answers of move-in, move-out and the tenancy statement."""

from __future__ import annotations

from pydantic import Field

from .common import Kwh, Money, Shape, Timestamp
from .statements import TariffRef


class TenantLogin(Shape):
    email: str
    user_sub: str | None
    invited: bool = Field(description="a new login was made and invited")


class MovedIn(Shape):
    tenancy_id: str
    account_id: str
    unit_id: str
    starts_on: str
    starts_at: Timestamp | None = Field(
        default=None,
        description="the opening reading's instant (null: a back-dated move-in, from the "
        "start of its day)",
    )
    opening_kwh: Kwh
    never_disconnect: bool
    tenant: TenantLogin
    opening_credit_entry_id: str | None
    balance: Money
    replayed: bool


class SettledTo(Shape):
    kwh: Kwh | None
    at: Timestamp | None


class MoveReadings(Shape):
    from_kwh: Kwh
    from_at: Timestamp
    final_kwh: Kwh
    final_source: str
    final_read_at: Timestamp | None


class SettlementEntry(Shape):
    entry_id: str
    account_id: str
    kind: str
    amount: Money
    memo: str | None
    refs: dict[str, str]


class MoveOutView(Shape):
    stage: str = Field(description="planned | charged | closed | done")
    ends_on: str
    moved_out_at: Timestamp
    disposition: str = Field(description="refund | transfer")
    transfer_to_unit_id: str | None
    readings: MoveReadings
    final_energy_kwh: Kwh
    tariff: TariffRef
    balance_before: Money
    remaining: Money
    flags: list[str]
    entries: list[SettlementEntry]


class TenancyStatement(Shape):
    unit_id: str
    tenancy_id: str
    account_id: str
    tenant_email: str | None
    starts_on: str
    ends_on: str | None
    starts_at: Timestamp | None = Field(
        default=None, description="the move-in reading's instant; null: start of the day"
    )
    ends_at: Timestamp | None = Field(
        default=None, description="the move-out reading's instant; null: end of the day"
    )
    opening_kwh: Kwh
    closing_kwh: Kwh | None
    balance: Money
    settled_to: SettledTo
    move_out: MoveOutView | None


class MovedOut(TenancyStatement):
    replayed: bool
    dry_run: bool
