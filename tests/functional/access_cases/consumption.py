"""Access cases of the consumption charts (issue 5): the JSON route. The pages that
draw the charts (the unit page, the tenant home) keep their own cases."""

from __future__ import annotations

from .common import ANY_READ_API, Cases

CASES: Cases = {
    # the tenant's own unit: its staff and the tenant read it, everyone else is refused
    ("GET", "/v1/units/{unit_id}/consumption"): (
        "/v1/units/tpe-3f-a/consumption?period=month",
        ANY_READ_API,
    ),
}
