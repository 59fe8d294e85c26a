"""The caller's portfolio as the JSON API lists it: who am I, properties, units, ledger."""

from __future__ import annotations

from dataclasses import dataclass

from ..auth.principal import Principal
from ..data.catalogue import Catalogue
from ..data.ledger_store import LedgerStore
from ..data.models import Account, Company, LedgerEntryItem, Property, Unit
from .scope import UnitScope

LEDGER_PAGE = 50


@dataclass(frozen=True)
class UnitBalance:
    unit: Unit
    account: Account | None


@dataclass(frozen=True)
class Portfolio:
    _catalogue: Catalogue
    _ledger: LedgerStore
    _scope: UnitScope

    def company(self, p: Principal) -> Company:
        return self._catalogue.get_company(p.company_id)

    def properties(self, p: Principal) -> list[Property]:
        return [
            prop
            for prop in self._catalogue.list_properties(p.company_id)
            if p.may_see_property(prop.property_id)
        ]

    def units_of_property(self, p: Principal, property_id: str) -> list[Unit]:
        self._scope.visible_property(p, property_id)
        return list(self._catalogue.list_units_of_property(p.company_id, property_id))

    def unit(self, p: Principal, unit_id: str) -> UnitBalance:
        unit = self._scope.visible_unit(p, unit_id)
        account = None
        if unit.account_id:
            account = self._ledger.get_account(p.company_id, unit.account_id)
        return UnitBalance(unit, account)

    def ledger(self, p: Principal, unit_id: str, limit: int = LEDGER_PAGE) -> list[LedgerEntryItem]:
        unit = self._scope.visible_unit(p, unit_id)
        if not unit.account_id:
            return []
        return list(self._ledger.entries(p.company_id, unit.account_id, limit=limit))
