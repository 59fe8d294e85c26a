"""Answers about billing cycles: a unit's cycle with its pending change, and the resale
check."""

from __future__ import annotations

from pydantic import Field

from .common import Kwh, Money, Shape


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


class ResaleCapView(Shape):
    market: str = Field(description="ISO 3166 alpha-2 of the property's country")
    rule: str = Field(description="max_resale_price (GB) | bill_average_price (TW)")
    source: str = Field(description="where the rule is published")


class UtilityTariffView(Shape):
    template_id: str
    name: str
    utility: str


class ResaleRowView(Shape):
    unit_id: str
    unit_name: str
    period: DayRange
    charged: Money = Field(description="what the tenant was charged for the period")
    at_utility_tariff: Money | None = Field(
        description="the same energy and days priced at the utility tariff; null: not priced"
    )
    difference: Money | None
    energy_kwh: Kwh | None
    markup_percent: str | None = Field(description="to 0.1; null when the utility price is 0")
    over_cap: bool = Field(description="the market caps resale and the charge is above it")
    utility_versions: list[str] = Field(description="the template versions that priced it")
    problem: str | None = Field(description="why the period was not priced, if it was not")


class ResaleCheckView(Shape):
    """docs/tariffs.md, "The resale check and the caps per market"."""

    property_id: str
    currency: str
    cap: ResaleCapView | None = Field(description="null: no resale cap found for the market")
    utility: UtilityTariffView | None = Field(description="null: none entered yet")
    warnings: int = Field(description="periods above the cap")
    rows: list[ResaleRowView]
