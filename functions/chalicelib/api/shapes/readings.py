"""Answers of the held-reading and meter-exchange routes."""

from __future__ import annotations

from pydantic import Field

from .common import Kwh, Shape, Timestamp


class KwhAt(Shape):
    kwh: Kwh
    at: Timestamp | None


class SourcedReading(KwhAt):
    source: str = Field(description="cycle | meter")


class Evidence(Shape):
    anchor_kwh: Kwh | None = Field(description="the last good reading it was checked against")
    anchor_at: Timestamp | None
    energy_kwh: Kwh | None
    limit_kwh: Kwh | None
    watts: str | None
    drawn_kwh: Kwh | None
    serial: str | None
    known_serial: str | None


class Around(Shape):
    before: KwhAt | None
    after: KwhAt | None


class Decision(Shape):
    by: str | None
    at: Timestamp | None
    note: str | None
    replacement_kwh: Kwh | None


class HeldReading(Shape):
    reading_ms: int = Field(description="the reading's time in epoch ms: its id in the path")
    read_at: Timestamp | None
    reading_kwh: Kwh
    reason: str = Field(description="backwards | spike | clock | frozen | serial_changed")
    status: str = Field(description="held | accepted | rejected | replaced")
    run: int
    evidence: Evidence
    around: Around | None
    decision: Decision | None


class ExchangeView(Shape):
    at: Timestamp | None
    old_final_kwh: Kwh
    new_opening_kwh: Kwh
    by: str
    note: str
    recorded_at: Timestamp | None


class ExchangeProposalView(Shape):
    old_serial: str
    new_serial: str
    last_good: KwhAt | None
    first_new: KwhAt
    at: str = Field(description="the time to POST to meter-exchanges")


class HeldReadings(Shape):
    unit_id: str
    meter_id: str | None
    time_zone: str
    tenancy_start: Timestamp | None
    latest_reading: SourcedReading | None
    pending: int
    pending_more: bool
    held: list[HeldReading]
    exchanges: list[ExchangeView]
    exchange_proposal: ExchangeProposalView | None


class Decided(Shape):
    reading: HeldReading
    settled: bool = Field(description="a prepaid account was charged up to it at once")
    released: int = Field(description="later held readings it resolved")


class Exchanged(Shape):
    exchange: ExchangeView
    settled: bool
    released: int
