"""The building's main meter: declaring it, and its daily comparison with the units
(the property's energy-balance page and JSON). The arithmetic is the domain's
(domain/energy_balance.py); the reads and the alert are the pipeline's
(pipeline/energy_balance.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from ..auth.principal import Principal
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.settings_store import SettingsStore
from ..domain.energy import format_kwh
from ..domain.energy_balance import InvalidAlertPercentError, alert_percent
from ..domain.usage_periods import local_day
from ..pipeline.energy_balance import EnergyBalances, PropertyBalance
from .scope import UnitScope
from .settings_errors import InvalidSettingsError

SHOWN_DAYS = 30


class MainMeterUpdate(BaseModel):
    """The property's main meter (null: none) and its loss alert in percent (a decimal
    string, 0.5 to 50; null: the default 5 %); with ``gateway_id``, that bus's own main
    meter instead (a building fed in parts: a bus per floor or wing)."""

    model_config = ConfigDict(extra="forbid")

    meter_id: str | None = Field(max_length=17)
    loss_alert_percent: str | None = Field(default=None, max_length=8)
    gateway_id: str | None = Field(default=None, max_length=40)


@dataclass(frozen=True)
class BuildingBalance:
    _catalogue: Catalogue
    _store: SettingsStore
    _balances: EnergyBalances
    _scope: UnitScope

    def of_property(self, p: Principal, property_id: str, now: datetime) -> PropertyBalance:
        """The last ``SHOWN_DAYS`` finished local days (404 outside the caller's scope)."""
        premises = self._scope.visible_property(p, property_id)
        yesterday = local_day(now, ZoneInfo(premises.time_zone)) - timedelta(days=1)
        first = yesterday - timedelta(days=SHOWN_DAYS - 1)
        return self._balances.of_property(p.company_id, premises, first, yesterday)

    def of_buses(
        self, p: Principal, property_id: str, now: datetime
    ) -> list[tuple[str, PropertyBalance]]:
        """Each bus of the property with its own main meter, over the same days."""
        premises = self._scope.visible_property(p, property_id)
        yesterday = local_day(now, ZoneInfo(premises.time_zone)) - timedelta(days=1)
        first = yesterday - timedelta(days=SHOWN_DAYS - 1)
        return [
            (g.gateway_id, self._balances.of_bus(p.company_id, premises, g, first, yesterday))
            for g in self._catalogue.gateways_of_property(p.company_id, property_id)
            if g.main_meter_id
        ]

    def main_meter_candidates(self, p: Principal, property_id: str) -> list[str]:
        """Meters on the property's gateways that belong to no unit (one Query per
        gateway, after the gateways' one)."""
        self._scope.visible_property(p, property_id)
        return sorted(
            m.meter_id
            for g in self._catalogue.gateways_of_property(p.company_id, property_id)
            for m in self._catalogue.list_meters_of_gateway(p.company_id, g.gateway_id)
            if not m.unit_id
        )

    def set_main_meter(
        self, p: Principal, property_id: str, update: MainMeterUpdate, now: datetime
    ) -> None:
        """A meter of one of the property's gateways that belongs to no unit: a unit's
        meter measures a tenant, not the building."""
        self._scope.visible_property(p, property_id)  # 404 first
        try:
            percent = (
                None
                if update.loss_alert_percent is None
                else str(alert_percent(update.loss_alert_percent))
            )
        except InvalidAlertPercentError as exc:
            raise InvalidSettingsError("loss_alert_percent", str(exc)) from exc
        gateways = {
            g.gateway_id: g for g in self._catalogue.gateways_of_property(p.company_id, property_id)
        }
        bus = update.gateway_id
        if bus is not None and bus not in gateways:
            raise InvalidSettingsError("gateway_id", "no such bus on this property")
        if update.meter_id is not None:
            try:
                meter = self._catalogue.get_meter(p.company_id, update.meter_id)
            except NotFoundError as exc:
                raise InvalidSettingsError("meter_id", "no such meter") from exc
            if meter.gateway_id not in gateways or (bus is not None and meter.gateway_id != bus):
                raise InvalidSettingsError("meter_id", "the meter is not on this property's bus")
            if meter.unit_id:
                raise InvalidSettingsError(
                    "meter_id", f"the meter is unit {meter.unit_id}'s, not the building's"
                )
            # one meter is the property's main meter or a bus's, never both
            premises = self._catalogue.get_property(p.company_id, property_id)
            taken = {str(g.main_meter_id) for g in gateways.values() if g.main_meter_id}
            if bus is not None:
                taken = (taken - {str(gateways[bus].main_meter_id)}) | {str(premises.main_meter_id)}
            if update.meter_id in taken:
                raise InvalidSettingsError("meter_id", "the meter is already another main meter")
        if bus is not None:
            self._store.set_bus_main_meter(
                p.company_id, bus, update.meter_id, percent, actor=f"user:{p.user_sub}", at=now
            )
            return
        self._store.set_main_meter(
            p.company_id,
            property_id,
            update.meter_id,
            percent,
            actor=f"user:{p.user_sub}",
            at=now,
        )


def as_json(
    result: PropertyBalance, buses: list[tuple[str, PropertyBalance]] | None = None
) -> dict[str, Any]:
    return {
        "property_id": result.premises.property_id,
        **_balance_json(result),
        "buses": [{"gateway_id": g, **_balance_json(b)} for g, b in buses or []],
    }


def _balance_json(result: PropertyBalance) -> dict[str, Any]:
    return {
        "main_meter_id": result.main_meter_id,
        "loss_alert_percent": str(result.alert_percent),
        "days": [
            {
                "day": d.day.isoformat(),
                "main_kwh": None if d.main_kwh is None else format_kwh(d.main_kwh),
                "units_kwh": format_kwh(d.units_kwh),
                "loss_kwh": None if d.loss_kwh is None else format_kwh(d.loss_kwh),
                "loss_percent": None if d.loss_percent is None else str(d.loss_percent),
                "status": d.status.value,
                "meters_without_energy": list(d.missing),
                "complete": d.day not in result.incomplete,
            }
            for d in result.days
        ],
    }
