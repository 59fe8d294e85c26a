"""What a tariff being edited would bill: a whole cycle priced without saving anything.

The cycle is the unit's last completed billing cycle (the unit's cycle, else its
property's, else the calendar month). The energy is the unit's own, day by day, when its
meter metered anything in that cycle (the bus's day roll-ups: one Query), else the
stated sample (``domain/sample_usage.py``: 10 kWh a day). Either way it is priced by
``domain.billing.postpaid_bill``, the function every postpaid bill is made with, so the
preview cannot disagree with a bill of the same readings.

Where the property's market caps resale (``domain/resale.py``) and the landlord entered
the utility tariff they pay (the resale page), the same readings are priced at it too,
by the same ``postpaid_bill`` and ``compare`` the resale check uses, so the editor can
warn before a tariff above the cap is saved (saving stays allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..auth.principal import Principal
from ..data.catalogue import Catalogue
from ..data.models import Property, Unit
from ..data.usage_days import UsageDayStore
from ..domain.billing import Bill, postpaid_bill
from ..domain.calendar import zone
from ..domain.consumption import Reading
from ..domain.cycles import BillingCycle
from ..domain.errors import DomainError
from ..domain.periods import BillingPeriod
from ..domain.resale import ResaleCap, ResaleComparison, cap_of, compare
from ..domain.sample_usage import SAMPLE_DAY_KWH, sample_readings
from ..domain.tariff_versions import AnyTariff
from ..domain.tariffs import Tariff, TouTariff
from ..domain.templates import TariffTemplate
from ..pipeline.context import cycle_of_unit
from .resale_check import utility_of
from .scope import UnitScope
from .settings_errors import InvalidSettingsError

PreviewSource = Literal["unit", "sample"]


class PreviewRequest(BaseModel):
    """A tariff to preview: the document the API and the editor's form give."""

    model_config = ConfigDict(extra="forbid")

    tariff: Tariff


@dataclass(frozen=True)
class TariffPreview:
    unit: Unit
    premises: Property
    cycle: BillingCycle
    period: BillingPeriod  # the cycle priced
    source: PreviewSource
    bill: Bill
    cap: ResaleCap | None = None  # the market's resale cap; None: none found
    utility: TariffTemplate | None = None  # the utility tariff entered, where capped
    resale: ResaleComparison | None = None  # the bill against it; None: not priced

    @property
    def over_cap(self) -> bool:
        return self.resale is not None and self.resale.over_cap

    @property
    def sample_day_kwh(self) -> Decimal:
        return SAMPLE_DAY_KWH

    @property
    def last_day(self) -> date:
        return self.period.end - timedelta(days=1)

    def as_json(self) -> dict[str, Any]:
        currency = self.bill.currency
        return {
            "unit_id": self.unit.unit_id,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
            "cycle": self.cycle.rule.document(),
            "source": self.source,
            "sample_day_kwh": None if self.source == "unit" else str(SAMPLE_DAY_KWH),
            "energy_kwh": str(self.bill.energy_kwh),
            "lines": [
                {
                    "code": line.code,
                    "quantity": str(line.quantity),
                    "unit": line.unit,
                    "unit_price": str(line.unit_price),
                    "amount": {"amount_minor": line.amount_minor, "currency": currency},
                    "refs": dict(line.refs),
                }
                for line in self.bill.lines
            ],
            "total": {"amount_minor": self.bill.total_minor, "currency": currency},
            "resale": self._resale_json(),
        }

    def _resale_json(self) -> dict[str, Any]:
        cap, utility, resale = self.cap, self.utility, self.resale
        currency = self.bill.currency
        return {
            "cap": None
            if cap is None
            else {"market": cap.market, "rule": cap.rule, "source": cap.source},
            "utility": None
            if utility is None
            else {
                "template_id": utility.template_id,
                "name": utility.name,
                "utility": utility.utility,
            },
            "at_utility_tariff": None
            if resale is None
            else {"amount_minor": resale.utility_minor, "currency": currency},
            "over_cap": self.over_cap,
        }


@dataclass(frozen=True)
class TariffPreviewer:
    _catalogue: Catalogue
    _usage_days: UsageDayStore
    _scope: UnitScope

    def preview(
        self, p: Principal, unit_id: str, tariff: AnyTariff, now: datetime
    ) -> TariffPreview:
        """The unit's last completed cycle priced by ``tariff`` (nothing is stored)."""
        unit = self._scope.visible_unit(p, unit_id)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        if tariff.currency != prop.currency:
            raise InvalidSettingsError(
                "tariff.currency", f"must be {prop.currency}, the account's currency"
            )
        cycle = cycle_of_unit(unit, prop)
        today = now.astimezone(zone(str(prop.time_zone))).date()
        period = cycle.cycle_of(cycle.cycle_of(today).start - timedelta(days=1))
        days = self._own_days(p.company_id, unit, period)
        cap = cap_of(str(prop.country))
        utility = utility_of(prop) if cap is not None else None
        # bands need the hours; tiers need the days (the utility's bands too)
        hourly = isinstance(tariff, TouTariff) or (utility is not None and _has_bands(utility))
        readings = sample_readings(period, str(prop.time_zone), days, hourly=hourly)
        bill = postpaid_bill(tariff, period, readings, tz=str(prop.time_zone))
        resale = None
        if utility is not None:
            resale = against_utility(
                str(prop.country), str(prop.time_zone), utility, readings, bill
            )
        source: PreviewSource = "unit" if days else "sample"
        rule = cycle.in_force(period.start)  # the rule that cut it (a change is later)
        return TariffPreview(unit, prop, rule, period, source, bill, cap, utility, resale)

    def _own_days(
        self, company_id: str, unit: Unit, period: BillingPeriod
    ) -> dict[date, Decimal] | None:
        """The meter's energy per local day of the cycle; None when it metered nothing."""
        meter = self._catalogue.meter_of_unit(company_id, unit)
        if meter is None:
            return None
        days: dict[date, Decimal] = {}
        last = period.end - timedelta(days=1)
        for item in self._usage_days.days_between(company_id, meter.gateway_id, period.start, last):
            energy = (item.energy or {}).get(meter.meter_id)
            if energy is not None:
                days[date.fromisoformat(item.day)] = Decimal(str(energy))
        return days if any(days.values()) else None


def _has_bands(utility: TariffTemplate) -> bool:
    return any(isinstance(v.tariff, TouTariff) for v in utility.versions)


def against_utility(
    country: str, tz: str, utility: TariffTemplate, readings: list[Reading], bill: Bill
) -> ResaleComparison | None:
    """The preview's bill against the same readings priced at the utility tariff, as the
    resale check prices a period; None when the template cannot price the cycle (it
    starts after it)."""
    try:
        priced = postpaid_bill(utility.timeline, bill.period, readings, tz=tz)
    except DomainError:
        return None
    return compare(
        bill.period,
        priced.energy_kwh,
        bill.currency,
        bill.total_minor,
        priced.total_minor,
        country,
        priced.versions,
    )
