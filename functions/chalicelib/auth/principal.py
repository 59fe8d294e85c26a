"""The caller as every route sees it: verified identity plus the role and
scope from the company's membership record (so a role change or removal takes
effect on the next request, not when the token expires)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import ForbiddenError


class Role(StrEnum):
    COMPANY_ADMIN = "company_admin"
    PROPERTY_MANAGER = "property_manager"
    LANDLORD = "landlord"
    TENANT = "tenant"
    # An API key of a reseller, never a user of a company (no membership).
    RESELLER = "reseller"


STAFF_ROLES = frozenset({Role.COMPANY_ADMIN, Role.PROPERTY_MANAGER, Role.LANDLORD})


@dataclass(frozen=True)
class Principal:
    company_id: str
    user_sub: str
    email: str
    role: Role
    # Managers and landlords see only these properties; admins see all.
    property_ids: frozenset[str] = field(default_factory=frozenset)

    def require(self, allowed: frozenset[Role]) -> None:
        if self.role not in allowed:
            raise ForbiddenError(f"role {self.role.value} may not call this route")

    def may_see_property(self, property_id: str) -> bool:
        if self.role is Role.COMPANY_ADMIN:
            return True
        if self.role in STAFF_ROLES:
            return property_id in self.property_ids
        return False
