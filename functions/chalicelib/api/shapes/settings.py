"""Answers of the settings editors: the company's thresholds, a property's settings, a
unit's tariff, the building's main meter and energy balance."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import Kwh, Money, Shape
from .cycles import ResaleCapView, UtilityTariffView


class WeeklyWindow(Shape):
    weekday: int = Field(description="0 Monday .. 6 Sunday")
    start: str = Field(description="HH:MM, the property's time zone")
    end: str


class FriendlyHoursView(Shape):
    weekly: list[WeeklyWindow]
    holidays: list[str] = Field(description="YYYY-MM-DD")


class PropertyOverride(Shape):
    property_id: str
    name: str
    currency: str
    low_credit_thresholds_minor: list[int]


class UnitOverride(Shape):
    unit_id: str
    property_id: str
    name: str
    low_credit_thresholds_minor: list[int]


class ThresholdOverrides(Shape):
    properties: list[PropertyOverride] = Field(description="properties with their own")
    units: list[UnitOverride] = Field(description="units with their own")
    complete: bool = Field(
        description="false: the company has over 200 properties or 2,000 units, and these "
        "are the ones among those read"
    )


class CompanyThresholds(Shape):
    company_id: str = Field(description="the caller's company")
    version: int = Field(description="send it back with a change: 409 if it moved meanwhile")
    low_credit_thresholds_minor: list[int] = Field(
        description="highest first, in the minor unit of each property's currency"
    )
    overridden_by: ThresholdOverrides


class CompanyThresholdsSaved(CompanyThresholds):
    gateways_marked: int = Field(
        description="the company's buses whose ingest context was marked stale: each acts "
        "on the new thresholds from its next message"
    )


class PropertySettings(Shape):
    property_id: str
    version: int = Field(description="send it back with a change: 409 if it moved meanwhile")
    time_zone: str
    currency: str
    friendly_hours: FriendlyHoursView
    emergency_credit_minor: int
    low_credit_thresholds_minor: list[int] | None = Field(description="null: the company's")
    company_low_credit_thresholds_minor: list[int]


class Rollout(Shape):
    gateways: int
    meters: int
    shadows_written: int
    deferred: bool = Field(description="the gateways were busy: the next cycle applies it")


class PropertySettingsSaved(PropertySettings):
    rollout: Rollout


class UnitTariffView(Shape):
    unit_id: str
    property_id: str
    version: int
    billing_mode: str
    occupied: bool
    tariff: dict[str, Any] = Field(description="the tariff document (docs/tariffs.md)")
    low_credit_thresholds_minor: list[int] | None = Field(description="null: inherited")
    inherited_low_credit_thresholds_minor: list[int]
    tariff_change_applies: str = Field(
        description="immediately | after_settling_at_old_tariff | whole_unbilled_period"
    )


class UnitTariffSaved(UnitTariffView):
    settled_at_old_tariff: bool
    rollout: Rollout


class BalanceDay(Shape):
    day: str
    main_kwh: Kwh | None
    units_kwh: Kwh
    loss_kwh: Kwh | None
    loss_percent: str | None
    status: str
    meters_without_energy: list[str]
    complete: bool


class BusBalance(Shape):
    gateway_id: str = Field(description="the bus (gateway) with its own main meter")
    main_meter_id: str | None
    loss_alert_percent: str
    days: list[BalanceDay]


class EnergyBalance(Shape):
    property_id: str
    main_meter_id: str | None
    loss_alert_percent: str
    days: list[BalanceDay]
    buses: list[BusBalance] = Field(
        description="each bus with its own main meter, against that bus's other meters"
    )


class TariffVersionView(Shape):
    effective_from: str = Field(description="the day it takes effect, in the property's zone")
    status: str = Field(description="past | in_force | scheduled")
    source: str | None = None
    note: str | None = None
    tariff: dict[str, Any] = Field(description="the tariff document (docs/tariffs.md)")


class TariffSchedule(Shape):
    """A unit's tariff as a timeline of versions (docs/tariffs.md, "Scheduling")."""

    unit_id: str
    property_id: str
    time_zone: str
    currency: str
    today: str = Field(description="today in the property's time zone")
    billed_through: str | None = Field(
        description="the end of the last bill issued to the unit's account"
    )
    version: int = Field(description="the settings version: send it back to edit")
    versions: list[TariffVersionView]


class CycleView(Shape):
    months: int
    anchor_day: int
    anchor_month: int


class PreviewLine(Shape):
    code: str = Field(description="energy | fixed | tax | rounding")
    quantity: str
    unit: str
    unit_price: str
    amount: Money
    refs: dict[str, str]


class PreviewResale(Shape):
    """The same energy at the utility tariff the landlord pays, where the market caps
    resale (docs/tariffs.md, "The resale check and the caps per market")."""

    cap: ResaleCapView | None = Field(description="null: no resale cap found for the market")
    utility: UtilityTariffView | None = Field(
        description="null: none entered (on the resale page), or no cap to check"
    )
    at_utility_tariff: Money | None = Field(
        description="the same readings priced at the utility tariff; null: not priced"
    )
    over_cap: bool = Field(description="the market caps resale and the total is above it")


class TariffPreviewView(Shape):
    """A tariff priced over the unit's last cycle, nothing stored (docs/tariffs.md,
    "The editor")."""

    unit_id: str
    period_start: str = Field(description="the cycle's first day")
    period_end: str = Field(description="the day after its last")
    cycle: CycleView
    source: str = Field(description="unit: its own metered days | sample: 10 kWh a day")
    sample_day_kwh: Kwh | None
    energy_kwh: Kwh
    lines: list[PreviewLine]
    total: Money
    resale: PreviewResale
