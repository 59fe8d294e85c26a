"""A signed-in caller's membership, read together with its company.

Every page and every API call already reads the caller's membership; reading
the company item in the same BatchGetItem makes a suspension effective on the
very next request (sessions and bearer tokens alike) without another round
trip. Cost: one BatchGetItem of two small items instead of one GetItem
(+0.5 read unit, eventually consistent, no extra request). What a suspension
means is decided above this layer (``auth/principals.py``).
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, UpdateError

from . import keys
from .conditions import conditional_check_failed
from .errors import NotFoundError
from .models import Company, Membership, PowerletItem

# A person is a member of a few companies at most (docs/data-model.md, pattern 5).
MAX_MEMBERSHIPS_OF_A_USER = 20


class MemberAccess:
    def membership_and_company(self, company_id: str, user_sub: str) -> tuple[Membership, Company]:
        """NotFoundError without a membership (a membership without its company is none)."""
        company_pk = keys.company_pk(company_id)
        member_sk = keys.member_sk(user_sub)
        wanted = [(company_pk, member_sk), (company_pk, keys.COMPANY_SK)]
        found = {item.sk: item for item in PowerletItem.batch_get(wanted)}
        member, company = found.get(member_sk), found.get(keys.COMPANY_SK)
        if not isinstance(member, Membership) or not isinstance(company, Company):
            raise NotFoundError("membership not found")
        return member, company

    def end_sessions(self, company_id: str, user_sub: str, at_ms: int) -> None:
        """Move the user's session epoch to ``at_ms``: every session and token from
        before it is refused from the next request (the read above carries the epoch,
        so the check costs no extra request). Never moves it back (a late event about
        an older change must not revive what a newer one ended). NotFoundError without
        a membership."""
        member = Membership(keys.company_pk(company_id), keys.member_sk(user_sub))
        epoch = Membership.sessions_valid_from_ms
        try:
            member.update(
                actions=[epoch.set(at_ms)],
                condition=Membership.pk.exists() & (epoch.does_not_exist() | (epoch < at_ms)),
            )
        except UpdateError as exc:
            if not conditional_check_failed(exc):
                raise
            if not self._exists(company_id, user_sub):
                raise NotFoundError("membership not found") from exc
            # the epoch is already at or after at_ms: those sessions have ended

    def companies_of_user(self, user_sub: str) -> list[str]:
        """The companies the user has a membership of (access pattern 5: gsi1 ``USER#<sub>``,
        a handful at most): where an account change must end their sessions."""
        found = Membership.gsi1.query(
            keys.memberships_of_user_gsi1pk(user_sub), limit=MAX_MEMBERSHIPS_OF_A_USER
        )
        return [str(m.company_id) for m in found if isinstance(m, Membership)]

    def _exists(self, company_id: str, user_sub: str) -> bool:
        try:
            Membership.get(keys.company_pk(company_id), keys.member_sk(user_sub))
        except DoesNotExist:
            return False
        return True
