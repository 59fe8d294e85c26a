"""Access cases of the company's own settings (its low-credit thresholds): the company
is the caller's, so the path names none; only a company admin reads or changes them (a
landlord or a manager is delegated some properties, the thresholds reach them all).
Another company's admin meets their own company's (never this one's: the answer is
checked for foreign data); tenants and scoped staff are refused by role. Writes carry
an invalid body, so nothing changes (an admin gets 400)."""

from __future__ import annotations

from .common import ANON, FORGED, Cases


def _admins_only(allowed: int, anonymous: int, forged: int) -> dict[str, int]:
    return {
        "admin": allowed,
        "landlord": 403,
        "manager": 403,
        "tenant": 403,
        "other_tenant": 403,
        "other_company_admin": allowed,
        "other_company_tenant": 403,
        ANON: anonymous,
        FORGED: forged,
    }


_API = "/v1/company/low-credit-thresholds"
_PAGE = "/portal/company/settings"

CASES: Cases = {
    ("GET", _API): (_API, _admins_only(200, 401, 403)),
    ("PUT", _API): (_API, _admins_only(400, 401, 403)),
    ("GET", _PAGE): (_PAGE, _admins_only(200, 303, 303)),
    # a form without a version: the admin gets the form back with the error, 400
    ("POST", _PAGE): (_PAGE, _admins_only(400, 303, 303)),
}
