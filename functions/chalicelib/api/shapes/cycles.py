"""Answers about billing cycles: a unit's cycle with its pending change, and the resale
check."""

from __future__ import annotations

from pydantic import Field

from .common import Shape


class CycleRuleView(Shape):
    months: int = Field(description="1..12: a cycle is this many months")
    anchor_day: int = Field(description="1..28: the day of the month a cycle starts")
    anchor_month: int = Field(description="1..12: a month a multi-month cycle starts in")
    kind: str = Field(description="monthly | every_n_months | anchored")


class DayRange(Shape):
    start: str = Field(description="YYYY-MM-DD, first day")
    end: str = Field(description="YYYY-MM-DD, the first day after (exclusive)")


class PendingCycleChange(Shape):
    effective_from: str = Field(description="the next cycle boundary: the change starts here")
    cycle: CycleRuleView
    first_period: DayRange = Field(description="the first cycle under the change")


class UnitCycle(Shape):
    """A unit's billing cycle (docs/tariffs.md, "Changing the cycle")."""

    unit_id: str
    property_id: str
    time_zone: str
    today: str = Field(description="today in the property's time zone")
    version: int = Field(description="the settings version: send it back to edit")
    inherited: bool = Field(description="true: the unit follows its property's cycle")
    cycle: CycleRuleView = Field(description="the cycle in force today")
    current_period: DayRange
    change: PendingCycleChange | None = Field(description="null: no change waiting")
