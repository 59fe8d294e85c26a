"""Bills, statements and notifications: pages and JSON routes.

The demo's bill belongs to khh-shop-1 (Kaohsiung, the manager's property; its
tenant is shop@formosa.example, who is not one of the callers here): the
landlord (Taipei only), both tenants and the other company get 404 for it.
Statements and bill lists are read on tpe-3f-a, the tenant's own unit.
"""

from __future__ import annotations

from chalicelib.pipeline.alerts import alert_id

from .common import ANON, FORGED, STAFF_WRITE_PAGE, Cases, tenant_read

# An open condition on tpe-daan's gateway (the landlord's property, not the manager's).
DEMO_ALERT = ("gateway_offline", "gateway:gw-tpe-1")
DEMO_ALERT_ID = alert_id(*DEMO_ALERT)
DEMO_BILL_ID = "a-t-khh-shop-1-2026-10-01:2026-10-01"
BILL_UNIT = "khh-shop-1"


def _demo_bill(anonymous: int, forged: int) -> dict[str, int]:
    return {
        "admin": 200,
        "manager": 200,
        "landlord": 404,
        "tenant": 404,
        "other_tenant": 404,
        "other_company_admin": 404,
        "other_company_tenant": 404,
        ANON: anonymous,
        FORGED: forged,
    }


def _tenant_page(own: int, other: int) -> dict[str, int]:
    """Tenant pages: staff are the wrong audience (403); other tenants 404."""
    return {
        "admin": 403,
        "landlord": 403,
        "tenant": own,
        "other_tenant": other,
        "other_company_admin": 403,
        "other_company_tenant": 404,
        ANON: 303,
        FORGED: 303,
    }


def _own_page(own: int) -> dict[str, int]:
    """A tenant's own page (no unit in the path): every tenant reads their own."""
    return {**_tenant_page(own, own), "other_company_tenant": own}


STAFF_ONLY_API = {
    "admin": 200,
    "landlord": 200,
    "manager": 200,
    "tenant": 403,
    "other_tenant": 403,
    "other_company_admin": 200,  # their own company's outbox, never this one's
    "other_company_tenant": 403,
    ANON: 401,
    FORGED: 403,
}
STAFF_ONLY_PAGE = {**STAFF_ONLY_API, ANON: 303, FORGED: 303}
STAFF_OF_UNIT_PAGE = {**tenant_read(303, 303), "tenant": 403, "other_tenant": 403}
STAFF_OF_UNIT_PAGE["other_company_tenant"] = 403

_BILL = f"{BILL_UNIT}/bills/{DEMO_BILL_ID}"

CASES: Cases = {
    # --- JSON ---
    ("GET", "/v1/units/{unit_id}/bills"): ("/v1/units/tpe-3f-a/bills", tenant_read(401, 403)),
    ("GET", "/v1/units/{unit_id}/bills/{bill_id}"): (f"/v1/units/{_BILL}", _demo_bill(401, 403)),
    ("GET", "/v1/units/{unit_id}/statement"): (
        "/v1/units/tpe-3f-a/statement",
        tenant_read(401, 403),
    ),
    ("GET", "/v1/notifications"): ("/v1/notifications", STAFF_ONLY_API),
    # --- staff pages ---
    ("GET", "/portal/units/{unit_id}/bills"): ("/portal/units/tpe-3f-a/bills", STAFF_OF_UNIT_PAGE),
    ("GET", "/portal/units/{unit_id}/bills/{bill_id}"): (
        f"/portal/units/{_BILL}",
        {**_demo_bill(303, 303), "tenant": 403, "other_tenant": 403, "other_company_tenant": 403},
    ),
    ("GET", "/portal/units/{unit_id}/statement"): (
        "/portal/units/tpe-3f-a/statement",
        STAFF_OF_UNIT_PAGE,
    ),
    ("GET", "/portal/notifications"): ("/portal/notifications", STAFF_ONLY_PAGE),
    # an alert test_api_access opens on the Taipei gateway; the form has no action: 400
    ("POST", "/portal/alerts/{alert_id}"): (f"/portal/alerts/{DEMO_ALERT_ID}", STAFF_WRITE_PAGE),
    ("GET", "/tenant/notifications"): ("/tenant/notifications", _own_page(200)),
    # no channels-form marker: 400 and nothing chosen
    ("POST", "/tenant/notifications"): ("/tenant/notifications", _own_page(400)),
    # --- tenant pages ---
    ("GET", "/tenant/units/{unit_id}/bills"): (
        "/tenant/units/tpe-3f-a/bills",
        _tenant_page(200, 404),
    ),
    ("GET", "/tenant/units/{unit_id}/bills/{bill_id}"): (
        f"/tenant/units/{_BILL}",
        _tenant_page(404, 404),
    ),
    ("GET", "/tenant/units/{unit_id}/statement"): (
        "/tenant/units/tpe-3f-a/statement",
        _tenant_page(200, 404),
    ),
}
