"""Access cases of held readings and meter exchanges (JSON API and the readings page):
staff of the unit's property only; tenants are refused by role, another company's or an
undelegated property's unit answers 404. Writes carry an invalid body (no decision, no
exchange), so nothing changes: allowed callers get 400."""

from __future__ import annotations

from .common import (
    STAFF_READ_API,
    STAFF_READ_PAGE,
    STAFF_WRITE_API,
    STAFF_WRITE_PAGE,
    Cases,
)

_UNIT = "/v1/units/tpe-3f-a"
_READING_MS = "1764547200000"  # 2025-12-01T00:00Z: any reading time; the body is refused first
_PAGE = "/portal/units/tpe-3f-a/readings"

CASES: Cases = {
    ("GET", "/v1/units/{unit_id}/held-readings"): (f"{_UNIT}/held-readings", STAFF_READ_API),
    ("POST", "/v1/units/{unit_id}/held-readings/{reading_ms}/decision"): (
        f"{_UNIT}/held-readings/{_READING_MS}/decision",
        STAFF_WRITE_API,
    ),
    ("POST", "/v1/units/{unit_id}/meter-exchanges"): (
        f"{_UNIT}/meter-exchanges",
        STAFF_WRITE_API,
    ),
    ("GET", "/portal/units/{unit_id}/readings"): (_PAGE, STAFF_READ_PAGE),
    ("POST", "/portal/units/{unit_id}/readings"): (_PAGE, STAFF_WRITE_PAGE),
}
