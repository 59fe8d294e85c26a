"""The custom-domain challenge route of the reseller API.

alpha-homes (the first reseller's company) claims no domain: its own reseller
gets 404 for a domain it has not claimed, another reseller 404 for the company.
POST without a body: the route takes none. Company users, revoked keys and
anonymous callers never reach it.
"""

from __future__ import annotations

from .common import ANON, FORGED, Cases

_VERIFY = "/v1/reseller/companies/{company_id}/brand/domains/{domain}/verify"

CASES: Cases = {
    ("POST", _VERIFY): (
        "/v1/reseller/companies/alpha-homes/brand/domains/portal.alpha.example/verify",
        {
            "reseller": 404,
            "other_reseller": 404,
            "revoked_key": 403,
            "admin": 403,
            "other_company_admin": 403,
            "other_tenant": 403,
            ANON: 401,
            FORGED: 403,
        },
    ),
}
