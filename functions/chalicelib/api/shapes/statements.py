"""Answers of the bill, statement and notification routes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import Kwh, Money, Shape, Timestamp


class BillSummaryView(Shape):
    bill_id: str
    account_id: str
    period_start: str = Field(description="YYYY-MM-DD, the first day billed")
    period_end: str = Field(description="YYYY-MM-DD, the first day not billed")
    total: Money
    status: str


class Bills(Shape):
    unit_id: str
    bills: list[BillSummaryView]


class TariffRef(Shape):
    tariff_id: str | None
    kind: str | None


class ReadingRef(Shape):
    at: Timestamp | None
    cumulative_kwh: Kwh
    ref: str


class BillLine(Shape):
    line: int
    code: str = Field(description="energy | fixed | tax")
    quantity: str
    unit: str
    unit_price: str
    amount: Money
    season: str | None
    tier: int | None
    tier_upto_kwh: Kwh | None
    band: str | None
    fixed_charge: str | None
    prorate: str | None
    refs: dict[str, str]


class BillView(BillSummaryView):
    unit_id: str
    tariff: TariffRef
    opening_reading: ReadingRef | None
    closing_reading: ReadingRef | None
    metered_kwh: Kwh | None
    billed_kwh: Kwh
    lines: list[BillLine]
    subtotal: Money
    tax: Money
    adds_up: bool = Field(description="the lines add up to the total (checked on every read)")


class ReadingWindow(Shape):
    from_: Timestamp | None = Field(alias="from", serialization_alias="from")
    to: Timestamp | None
    from_kwh: Kwh | None
    to_kwh: Kwh | None
    energy_kwh: Kwh | None


class StatementEntry(Shape):
    entry_id: str
    kind: str
    occurred_at: Timestamp
    memo: str | None
    amount: Money
    balance_after: Money
    reading_window: ReadingWindow | None
    bill_id: str | None


class MonthRange(Shape):
    first: str = Field(description="YYYY-MM, the account's first month")
    last: str = Field(description="YYYY-MM, the current month")


class StatementView(Shape):
    unit_id: str
    account_id: str
    month: str
    start: Timestamp
    end: Timestamp
    opening_balance: Money
    entries: list[StatementEntry]
    closing_balance: Money
    balance_now: Money
    months: MonthRange


class Delivery(Shape):
    sent: int = Field(description="recipients it was sent to")
    failed: int = Field(description="recipients it could not be sent to")


class NotificationView(Shape):
    notification_id: str
    topic: str
    created_at: Timestamp
    subject_ref: str | None
    unit_id: str | None
    property_id: str | None
    audience: str = Field(description="staff | tenant")
    details: dict[str, Any]
    delivery: Delivery


class Notifications(Shape):
    notifications: list[NotificationView]
    next_cursor: str | None
