"""Answers of the portal's JSON routes: who am I, properties, units, dashboard, the unit's
overview, top-ups, receipts, relay, ledger, meter models, consumption."""

from __future__ import annotations

from pydantic import Field

from .common import Entry, Kwh, LiveBalance, Money, RelayCommandView, Shape, Timestamp


class CompanyRef(Shape):
    company_id: str
    name: str


class Me(Shape):
    user_sub: str
    email: str
    role: str
    company: CompanyRef
    property_ids: list[str]


class PropertyView(Shape):
    property_id: str
    name: str
    address: str
    city: str
    country: str
    time_zone: str
    currency: str
    locale: str
    main_meter_id: str | None


class Properties(Shape):
    properties: list[PropertyView]


class UnitView(Shape):
    unit_id: str
    property_id: str
    name: str
    unit_type: str = Field(description="flat | room | shop | office")
    billing_mode: str = Field(description="prepaid | postpaid")
    meter_id: str | None
    tenancy_id: str | None
    power: str = Field(description="the last confirmed relay state: on | off")
    power_reason: str | None


class Units(Shape):
    units: list[UnitView]


class UnitWithBalance(UnitView):
    balance: Money | None = Field(description="the current account's; null when vacant")


class LedgerLine(Shape):
    entry_id: str
    kind: str
    amount_minor: int
    currency: str
    occurred_at: Timestamp
    memo: str | None


class Ledger(Shape):
    entries: list[LedgerLine]


class MeterModelView(Shape):
    name: str = Field(description="the profile name registrations take")
    model: str
    version: int
    kind: str = Field(description="meter | relay_module")
    phases: int | None
    max_current_a: str | None
    nominal_voltage_v: str | None
    relay: str | None = Field(description="own: the meter switches itself; null: it cannot")


class MeterModels(Shape):
    models: list[MeterModelView]


class PropertyRef(Shape):
    property_id: str
    name: str
    city: str


class AlertRef(Shape):
    notification_id: str
    topic: str
    subject_ref: str | None
    created_at: Timestamp


class DashboardRow(Shape):
    unit_id: str
    name: str
    billing_mode: str
    vacant: bool
    balance: Money | None
    live_balance: LiveBalance | None
    power: str
    power_reason: str | None
    meter_online: bool | None
    gateway_online: bool | None


class Dashboard(Shape):
    properties: list[PropertyRef]
    property_id: str | None = Field(description="the property shown")
    units: list[DashboardRow]
    next_cursor: str | None
    alerts: list[AlertRef]


class PremisesRef(Shape):
    property_id: str
    name: str
    time_zone: str
    currency: str


class PowerView(Shape):
    state: str
    confirmed_state: str
    reason: str
    note: str | None


class LatestReading(Shape):
    import_kwh: Kwh
    read_at: Timestamp | None


class TenancyRef(Shape):
    tenancy_id: str
    starts_on: str
    starts_at: Timestamp | None = Field(
        default=None, description="the move-in reading's instant; null: start of the day"
    )


class TenancyShare(Shape):
    tenancy_id: str
    energy_kwh: Kwh


class DayUsage(Shape):
    day: str = Field(description="YYYY-MM-DD in the property's time zone")
    energy_kwh: Kwh
    tenancies: list[TenancyShare] = Field(
        default_factory=list,
        description="staff, on a day a tenancy starts or ends: each tenancy's share, split "
        "at the changeover reading",
    )


class UnitOverview(Shape):
    unit_id: str
    name: str
    property: PremisesRef
    billing_mode: str
    balance: Money | None
    live_balance: LiveBalance | None
    days_left: int | None
    power: PowerView
    latest_reading: LatestReading | None
    tenancy: TenancyRef | None = Field(description="staff only; null for a tenant")
    usage_by_day: list[DayUsage]
    relay_commands: list[RelayCommandView]


class TopUpDone(Shape):
    receipt: Entry
    replayed: bool
    balance: Money


class Receipt(Shape):
    receipt: Entry
    balance_after: Money


class DesiredPower(Shape):
    power: str
    reason: str


class RelaySet(Shape):
    desired: DesiredPower
    command_id: str | None


class TenantUnit(Shape):
    unit_id: str
    name: str
    property_id: str


class TenantUnits(Shape):
    units: list[TenantUnit]


class PeriodTotal(Shape):
    start: Timestamp
    end: Timestamp
    total_kwh: Kwh
    days: int = Field(
        description="days that could hold data: after the tenancy start, not after today"
    )
    average_per_day_kwh: Kwh


class Bar(Shape):
    start: Timestamp
    end: Timestamp
    energy_kwh: Kwh


class ConsumptionView(Shape):
    unit_id: str
    time_zone: str
    period: str = Field(description="day | week | month | year")
    at: str
    since: str | None
    current: PeriodTotal
    previous: PeriodTotal
    change_percent: str | None
    bars: list[Bar]
    has_data: bool
    previous_at: str | None
    next_at: str | None
