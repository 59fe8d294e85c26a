"""Which units a caller may see. Anything else answers 404, never 403."""

from __future__ import annotations

from ..api.services import services
from ..auth.principal import Principal, Role
from ..data.errors import NotFoundError
from ..data.models import Unit


def visible_unit(p: Principal, unit_id: str) -> Unit:
    unit = services().catalogue.get_unit(p.company_id, unit_id)
    if p.role is Role.TENANT:
        if not unit.tenancy_id:
            raise NotFoundError("unit not found")
        tenancy = services().catalogue.get_tenancy(p.company_id, unit.tenancy_id)
        if tenancy.tenant_sub != p.user_sub:
            raise NotFoundError("unit not found")
    elif not p.may_see_property(unit.property_id):
        raise NotFoundError("unit not found")
    return unit
