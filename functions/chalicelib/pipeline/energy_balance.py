"""The building's main meter against its unit meters, day by day, and the loss alert.

A property may name a main meter (``Property.main_meter_id``): a meter on one of its
gateways that belongs to no unit. Each gateway rolls its buses' days up when a local
day ends (``day_rollup.py``); when one does, ingest asks this module about that day.
The comparison needs every gateway of the property to have rolled the day up (else a
bus not yet rolled up would look like lost energy), so the last gateway to roll up is
the one that raises the alert; an earlier one finds the day incomplete and says nothing.
The alert's time is the end of the day, so a late message that rolls the day up again
repeats the same alert, which the outbox records once (alerts.py).

Reads per check (once per gateway per day): the property's gateways (1 Query), then per
gateway its meters and its day item (2 Queries). The property page's chart uses the
same reads for up to ``MAX_DAYS`` days.

A bus may have its own main meter (``Gateway.main_meter_id``: a building fed in parts,
a bus per floor or per wing): it is compared with that bus's other meters only, so its
day is complete as soon as that one gateway rolls it up, and its alert names the bus.
A bus's main meter is no unit meter: the property's comparison leaves it out of the sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..data.catalogue import Catalogue
from ..data.usage_days import UsageDayStore
from ..domain.energy import format_kwh
from ..domain.energy_balance import BalanceStatus, DayBalance, alert_percent, balance
from ..domain.usage_periods import local_midnight
from .alerts import Alert

if TYPE_CHECKING:
    from ..data import rows
    from ..data.models import Gateway as GatewayModel
    from ..data.models import Property as PropertyModel

    # a model read from the catalogue, or a bus context's row (data/rows.py)
    Gateway = GatewayModel | rows.GatewayRow
    Property = PropertyModel | rows.PropertyRow

MAX_DAYS = 62
TOPIC = "energy_loss"


@dataclass(frozen=True)
class PropertyBalance:
    premises: Property
    main_meter_id: str | None
    alert_percent: Decimal
    days: list[DayBalance] = field(default_factory=list)
    # days some gateway of the property has not rolled up (no verdict is final for them)
    incomplete: frozenset[date] = frozenset()


class EnergyBalances:
    def __init__(self, catalogue: Catalogue, days: UsageDayStore) -> None:
        self._catalogue = catalogue
        self._days = days

    def of_property(
        self, company_id: str, premises: Property, first: date, last: date
    ) -> PropertyBalance:
        """Each day from ``first`` to ``last`` that a gateway of the property rolled up."""
        percent = alert_percent(premises.main_meter_loss_percent)
        main = premises.main_meter_id
        if not main:
            return PropertyBalance(premises, None, percent)
        first = max(first, last - timedelta(days=MAX_DAYS - 1))
        gateways = self._catalogue.gateways_of_property(company_id, premises.property_id)
        meters: list[str] = []
        energy: dict[date, dict[str, Decimal]] = {}
        rolled: dict[date, int] = {}
        for gateway in gateways:
            meters += [
                m.meter_id
                for m in self._catalogue.list_meters_of_gateway(company_id, gateway.gateway_id)
            ]
            for item in self._days.days_between(company_id, gateway.gateway_id, first, last):
                day = date.fromisoformat(item.day)
                rolled[day] = rolled.get(day, 0) + 1
                energy.setdefault(day, {}).update(
                    {m: Decimal(str(v)) for m, v in (item.energy or {}).items()}
                )
        bus_mains = {str(g.main_meter_id) for g in gateways if g.main_meter_id}
        units = [m for m in meters if m != main and m not in bus_mains]
        found = []
        for day in sorted(energy):
            of_day = energy[day]
            found.append(
                balance(
                    day,
                    of_day.get(main),
                    {m: of_day[m] for m in units if m in of_day},
                    [m for m in units if m not in of_day],
                    percent,
                )
            )
        incomplete = frozenset(d for d, n in rolled.items() if n < len(gateways))
        return PropertyBalance(premises, main, percent, found, incomplete)

    def of_bus(
        self, company_id: str, premises: Property, gateway: Gateway, first: date, last: date
    ) -> PropertyBalance:
        """The bus's main meter against the bus's other meters, each day the gateway
        rolled up from ``first`` to ``last`` (complete when it has)."""
        percent = alert_percent(gateway.main_meter_loss_percent)
        main = gateway.main_meter_id
        if not main:
            return PropertyBalance(premises, None, percent)
        first = max(first, last - timedelta(days=MAX_DAYS - 1))
        meters = [
            m.meter_id
            for m in self._catalogue.list_meters_of_gateway(company_id, gateway.gateway_id)
        ]
        units = [m for m in meters if m != main]
        found = []
        for item in self._days.days_between(company_id, gateway.gateway_id, first, last):
            of_day = {m: Decimal(str(v)) for m, v in (item.energy or {}).items()}
            found.append(
                balance(
                    date.fromisoformat(item.day),
                    of_day.get(main),
                    {m: of_day[m] for m in units if m in of_day},
                    [m for m in units if m not in of_day],
                    percent,
                )
            )
        return PropertyBalance(premises, str(main), percent, found)

    def bus_alerts_for_day(
        self, company_id: str, premises: Property, gateway: Gateway, day: date
    ) -> list[Alert]:
        """The bus's loss alert of ``day`` (its gateway has just rolled the day up)."""
        if not gateway.main_meter_id:
            return []
        result = self.of_bus(company_id, premises, gateway, day, day)
        return _loss_alerts(
            company_id, premises, result, day, f"gateway:{gateway.gateway_id}", gateway.gateway_id
        )

    def alerts_for_day(self, company_id: str, premises: Property, day: date) -> list[Alert]:
        """The loss alert of ``day``, if every gateway has rolled it up and it lost more
        than the property allows."""
        if not premises.main_meter_id:
            return []
        result = self.of_property(company_id, premises, day, day)
        if day in result.incomplete:
            return []
        return _loss_alerts(
            company_id, premises, result, day, f"property:{premises.property_id}", None
        )


def _loss_alerts(
    company_id: str,
    premises: Property,
    result: PropertyBalance,
    day: date,
    subject: str,
    gateway_id: str | None,
) -> list[Alert]:
    alerts = []
    for found in result.days:
        if found.status is not BalanceStatus.LOSS or found.day != day:
            continue
        assert found.main_kwh is not None and found.loss_kwh is not None
        end = local_midnight(day + timedelta(days=1), ZoneInfo(premises.time_zone))
        fields = {
            "day": day.isoformat(),
            "main_meter": str(result.main_meter_id),
            "main_kwh": format_kwh(found.main_kwh),
            "units_kwh": format_kwh(found.units_kwh),
            "loss_kwh": format_kwh(found.loss_kwh),
            "loss_percent": str(found.loss_percent),
            "alert_percent": str(result.alert_percent),
            "meters_without_energy": ", ".join(found.missing) or "-",
        }
        if gateway_id is not None:
            fields["bus"] = gateway_id
        alerts.append(Alert(company_id, TOPIC, subject, end, "staff", None, fields))
    return alerts
