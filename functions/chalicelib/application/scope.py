"""Which units a caller may see. Anything else answers 404, never 403."""

from __future__ import annotations

from dataclasses import dataclass

from ..auth.principal import Principal, Role
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.models import Property, Tenancy, Unit


@dataclass(frozen=True)
class UnitScope:
    _catalogue: Catalogue

    def visible_unit(self, p: Principal, unit_id: str) -> Unit:
        unit = self._catalogue.get_unit(p.company_id, unit_id)
        if p.role is Role.TENANT:
            if not unit.tenancy_id:
                raise NotFoundError("unit not found")
            tenancy = self._catalogue.get_tenancy(p.company_id, unit.tenancy_id)
            if tenancy.tenant_sub != p.user_sub:
                raise NotFoundError("unit not found")
        elif not p.may_see_property(unit.property_id):
            raise NotFoundError("unit not found")
        return unit

    def visible_property(self, p: Principal, property_id: str) -> Property:
        if not p.may_see_property(property_id):
            raise NotFoundError("property not found")
        return self._catalogue.get_property(p.company_id, property_id)

    def current_tenancy(self, company_id: str, unit: Unit) -> Tenancy | None:
        """The unit's current tenancy, or None when it is vacant (or the item is gone)."""
        if not unit.tenancy_id:
            return None
        try:
            return self._catalogue.get_tenancy(company_id, unit.tenancy_id)
        except NotFoundError:
            return None
