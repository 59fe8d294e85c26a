"""Who is calling: a verified identity (ID token or browser session) plus the role and
property scope of the company's membership record, read on every request so that a
role change, a removal or a suspended company takes effect at once.

The same read carries the user's session epoch (``sessions_valid_from_ms``): a
session opened, or a token authenticated, before it is refused. A password change,
a global sign-out or a disabled login moves the epoch (``application/
session_revocation.py``), so it ends every browser session and every bearer token of
the user on their next request, at no extra read: no cache to wait for."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.errors import NotFoundError
from ..data.member_access import MemberAccess
from .errors import CompanySuspendedAccessError, NoMembershipError, SessionRevokedError
from .principal import Principal, Role

SUSPENDED = "suspended"


@dataclass(frozen=True)
class Principals:
    _members: MemberAccess

    def load(
        self,
        company_id: str,
        user_sub: str,
        email: str,
        allowed: frozenset[Role],
        issued_at_ms: int,
    ) -> Principal:
        """The caller, refused (ForbiddenError) when its role is not in ``allowed``.
        ``issued_at_ms``: when the session was opened or the token's user authenticated."""
        if not company_id or not user_sub:
            raise NoMembershipError("no verified identity on the request")
        try:
            member, company = self._members.membership_and_company(company_id, user_sub)
        except NotFoundError as exc:
            raise NoMembershipError("the user has no role in this company") from exc
        valid_from = member.sessions_valid_from_ms
        if valid_from is not None and issued_at_ms < int(valid_from):
            raise SessionRevokedError("the session ended (password, sign-out or disabled)")
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
