"""The callers of the access tests and the usual expectations per kind of route.

Demo data (local_aws.demo_data): the landlord has tpe-daan only, the manager
khh-yancheng only, the tenant rents tpe-3f-a, the other tenant tpe-2f (same
company), and the other company is Thames.
"""

from __future__ import annotations

USERS = {
    "admin": "admin@formosa.example",
    "landlord": "landlord@formosa.example",  # tpe-daan only
    "manager": "manager@formosa.example",  # khh-yancheng only
    "tenant": "tenant@formosa.example",  # tpe-3f-a
    "other_tenant": "tenant2@formosa.example",  # tpe-2f, same company
    "other_company_admin": "admin@thames.example",
    "other_company_tenant": "tenant@thames.example",
}
ANON = "anonymous"
FORGED = "forged_token"
OUTSIDERS = {"other_company_admin", "other_tenant", ANON}

DEMO_RECEIPT = "demo-topup-t-tpe-3f-a-2026-11-01"

Cases = dict[tuple[str, str], tuple[str, dict[str, int]]]


def staff_write(allowed: int, anonymous: int, forged: int) -> dict[str, int]:
    """A write on a tpe-daan unit: the manager (not delegated) and the other company get 404."""
    return {
        "admin": allowed,
        "landlord": allowed,
        "manager": 404,
        "tenant": 403,
        "other_tenant": 403,
        "other_company_admin": 404,
        "other_company_tenant": 403,
        ANON: anonymous,
        FORGED: forged,
    }


# POSTs carry an invalid body: allowed callers get 400 (nothing changes), everyone
# else is refused before the body is looked at. Pages send anonymous callers to sign in.
STAFF_WRITE_API = staff_write(400, 401, 403)
STAFF_WRITE_PAGE = staff_write(400, 303, 303)
STAFF_READ_API = staff_write(200, 401, 403)
STAFF_READ_PAGE = staff_write(200, 303, 303)


def tenant_read(anonymous: int, forged: int) -> dict[str, int]:
    """A read of the tenant's own unit tpe-3f-a: staff of tpe-daan may read it too."""
    return {
        "admin": 200,
        "landlord": 200,
        "manager": 404,
        "tenant": 200,
        "other_tenant": 404,
        "other_company_admin": 404,
        "other_company_tenant": 404,
        ANON: anonymous,
        FORGED: forged,
    }


ANY_READ_API = tenant_read(401, 403)
