"""Access cases of the building's energy balance (main meter): staff of the property
only; tenants are refused by role, others' properties answer 404. Writes carry an
invalid body, so nothing changes (allowed callers get 400)."""

from __future__ import annotations

from .common import STAFF_READ_API, STAFF_READ_PAGE, STAFF_WRITE_API, STAFF_WRITE_PAGE, Cases

_PAGE = "/portal/properties/tpe-daan/energy"

CASES: Cases = {
    ("GET", "/v1/properties/{property_id}/energy-balance"): (
        "/v1/properties/tpe-daan/energy-balance",
        STAFF_READ_API,
    ),
    ("PUT", "/v1/properties/{property_id}/main-meter"): (
        "/v1/properties/tpe-daan/main-meter",
        STAFF_WRITE_API,
    ),
    ("GET", "/portal/properties/{property_id}/energy"): (_PAGE, STAFF_READ_PAGE),
    ("POST", "/portal/properties/{property_id}/energy"): (_PAGE, STAFF_WRITE_PAGE),
}
