"""Who is calling: a verified identity (ID token or browser session) plus the role and
property scope of the company's membership record, read on every request so that a
role change, a removal or a suspended company takes effect at once."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.errors import NotFoundError
from ..data.member_access import MemberAccess
from .errors import CompanySuspendedAccessError, NoMembershipError
from .principal import Principal, Role

SUSPENDED = "suspended"


@dataclass(frozen=True)
class Principals:
    _members: MemberAccess

    def load(
        self, company_id: str, user_sub: str, email: str, allowed: frozenset[Role]
    ) -> Principal:
        """The caller, refused (ForbiddenError) when its role is not in ``allowed``."""
        if not company_id or not user_sub:
            raise NoMembershipError("no verified identity on the request")
        try:
            member, company = self._members.membership_and_company(company_id, user_sub)
        except NotFoundError as exc:
            raise NoMembershipError("the user has no role in this company") from exc
        if company.status == SUSPENDED:
            raise CompanySuspendedAccessError(f"the company {company_id} is suspended")
        principal = Principal(
            company_id=company_id,
            user_sub=user_sub,
            email=email,
            role=Role(member.role),
            property_ids=frozenset(member.property_ids or ()),
        )
        principal.require(allowed)
        return principal
