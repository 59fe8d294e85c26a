"""Access cases of the settings editors (property settings, unit tariff): staff of
the property only; tenants are refused by role, others' objects answer 404.
Writes carry an invalid body, so nothing changes (allowed callers get 400)."""

from __future__ import annotations

from .common import (
    STAFF_READ_API,
    STAFF_READ_PAGE,
    STAFF_WRITE_API,
    STAFF_WRITE_PAGE,
    Cases,
)

_PROPERTY = "/v1/properties/tpe-daan/settings"
_TARIFF = "/v1/units/tpe-3f-a/tariff"

CASES: Cases = {
    ("GET", "/v1/properties/{property_id}/settings"): (_PROPERTY, STAFF_READ_API),
    ("PUT", "/v1/properties/{property_id}/settings"): (_PROPERTY, STAFF_WRITE_API),
    ("GET", "/v1/units/{unit_id}/tariff"): (_TARIFF, STAFF_READ_API),
    ("PUT", "/v1/units/{unit_id}/tariff"): (_TARIFF, STAFF_WRITE_API),
    ("GET", "/v1/units/{unit_id}/tariff/versions"): (f"{_TARIFF}/versions", STAFF_READ_API),
    ("POST", "/v1/units/{unit_id}/tariff/versions"): (f"{_TARIFF}/versions", STAFF_WRITE_API),
    ("POST", "/v1/units/{unit_id}/tariff/preview"): (f"{_TARIFF}/preview", STAFF_WRITE_API),
    # the day is not a date: allowed callers get 400, nothing is withdrawn
    ("DELETE", "/v1/units/{unit_id}/tariff/versions/{effective_from}"): (
        f"{_TARIFF}/versions/not-a-date",
        STAFF_WRITE_API,
    ),
    ("GET", "/portal/properties/{property_id}/settings"): (
        "/portal/properties/tpe-daan/settings",
        STAFF_READ_PAGE,
    ),
    ("POST", "/portal/properties/{property_id}/settings"): (
        "/portal/properties/tpe-daan/settings",
        STAFF_WRITE_PAGE,
    ),
    ("GET", "/portal/units/{unit_id}/tariff"): ("/portal/units/tpe-3f-a/tariff", STAFF_READ_PAGE),
    ("POST", "/portal/units/{unit_id}/tariff"): ("/portal/units/tpe-3f-a/tariff", STAFF_WRITE_PAGE),
    # an empty form is no tariff: allowed callers get 400, nothing is priced or stored
    ("POST", "/portal/units/{unit_id}/tariff/preview"): (
        "/portal/units/tpe-3f-a/tariff/preview",
        STAFF_WRITE_PAGE,
    ),
    ("POST", "/portal/units/{unit_id}/tariff/versions/withdraw"): (
        "/portal/units/tpe-3f-a/tariff/versions/withdraw",
        STAFF_WRITE_PAGE,
    ),
}
