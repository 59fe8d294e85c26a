"""Access cases of move-in, move-out and the tenancy statement (pages and JSON).

On the demo's occupied tpe-3f-a: the GET pages show the forms (or say the unit is
occupied), the POSTs carry an invalid body, so allowed callers get 400 and nothing
changes; the statement is the current tenancy's interim one.
"""

from __future__ import annotations

from .common import (
    STAFF_READ_API,
    STAFF_READ_PAGE,
    STAFF_WRITE_API,
    STAFF_WRITE_PAGE,
    Cases,
)

UNIT = "/portal/units/tpe-3f-a"
TENANCY = "t-tpe-3f-a-2026-11-01"

CASES: Cases = {
    ("GET", "/portal/units/{unit_id}/move-in"): (f"{UNIT}/move-in", STAFF_READ_PAGE),
    ("POST", "/portal/units/{unit_id}/move-in"): (f"{UNIT}/move-in", STAFF_WRITE_PAGE),
    ("GET", "/portal/units/{unit_id}/move-out"): (f"{UNIT}/move-out", STAFF_READ_PAGE),
    ("POST", "/portal/units/{unit_id}/move-out"): (f"{UNIT}/move-out", STAFF_WRITE_PAGE),
    ("GET", "/portal/units/{unit_id}/tenancies/{tenancy_id}"): (
        f"{UNIT}/tenancies/{TENANCY}",
        STAFF_READ_PAGE,
    ),
    ("POST", "/v1/units/{unit_id}/move-in"): ("/v1/units/tpe-3f-a/move-in", STAFF_WRITE_API),
    ("POST", "/v1/units/{unit_id}/move-out"): ("/v1/units/tpe-3f-a/move-out", STAFF_WRITE_API),
    ("GET", "/v1/units/{unit_id}/tenancies/{tenancy_id}/statement"): (
        f"/v1/units/tpe-3f-a/tenancies/{TENANCY}/statement",
        STAFF_READ_API,
    ),
}
