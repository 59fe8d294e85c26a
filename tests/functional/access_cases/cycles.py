"""Access cases of a unit's billing cycle and the resale check: staff of the property
only; tenants are refused by role, others' objects answer 404. Writes carry an invalid
body, so nothing changes (allowed callers get 400)."""

from __future__ import annotations

from .common import STAFF_READ_API, STAFF_READ_PAGE, STAFF_WRITE_API, STAFF_WRITE_PAGE, Cases

_CYCLE = "/v1/units/tpe-3f-a/billing-cycle"

CASES: Cases = {
    ("GET", "/v1/units/{unit_id}/billing-cycle"): (_CYCLE, STAFF_READ_API),
    ("PUT", "/v1/units/{unit_id}/billing-cycle"): (_CYCLE, STAFF_WRITE_API),
    # no change waits on the demo unit: allowed callers get 400, nothing is withdrawn
    ("DELETE", "/v1/units/{unit_id}/billing-cycle/change"): (f"{_CYCLE}/change", STAFF_WRITE_API),
    ("GET", "/portal/units/{unit_id}/cycle"): ("/portal/units/tpe-3f-a/cycle", STAFF_READ_PAGE),
    ("POST", "/portal/units/{unit_id}/cycle"): ("/portal/units/tpe-3f-a/cycle", STAFF_WRITE_PAGE),
    ("GET", "/v1/properties/{property_id}/resale-check"): (
        "/v1/properties/tpe-daan/resale-check",
        STAFF_READ_API,
    ),
    ("GET", "/portal/properties/{property_id}/resale"): (
        "/portal/properties/tpe-daan/resale",
        STAFF_READ_PAGE,
    ),
    ("POST", "/portal/properties/{property_id}/resale"): (
        "/portal/properties/tpe-daan/resale",
        STAFF_WRITE_PAGE,
    ),
    ("POST", "/portal/units/{unit_id}/cycle/withdraw"): (
        "/portal/units/tpe-3f-a/cycle/withdraw",
        STAFF_WRITE_PAGE,
    ),
}
