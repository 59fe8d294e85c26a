"""A signed-in caller's membership, read together with its company's status.

Every page and every API call already reads the caller's membership; reading
the company item in the same BatchGetItem makes a suspension effective on the
very next request (sessions and bearer tokens alike) without another round
trip. Cost: one BatchGetItem of two small items instead of one GetItem
(+0.5 read unit, eventually consistent, no extra request).
"""

from __future__ import annotations

from ..auth.errors import CompanySuspendedAccessError
from . import keys
from .errors import NotFoundError
from .models import Company, Membership, PowerletItem

SUSPENDED = "suspended"


def active_membership(company_id: str, user_sub: str) -> Membership:
    """The membership; NotFoundError without one, CompanySuspendedAccessError if
    the company is suspended (a membership without its company is no access)."""
    company_pk = keys.company_pk(company_id)
    member_sk = keys.member_sk(user_sub)
    found = {
        item.sk: item
        for item in PowerletItem.batch_get([(company_pk, member_sk), (company_pk, keys.COMPANY_SK)])
    }
    member, company = found.get(member_sk), found.get(keys.COMPANY_SK)
    if not isinstance(member, Membership) or not isinstance(company, Company):
        raise NotFoundError("membership not found")
    if company.status == SUSPENDED:
        raise CompanySuspendedAccessError(f"the company {company_id} is suspended")
    return member
