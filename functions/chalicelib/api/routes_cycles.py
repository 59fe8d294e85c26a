"""The JSON face of a unit's billing cycle: read it, schedule a change for the next
cycle boundary, withdraw a change not yet in force. Staff of the property only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint

from ..application.cycle_schedule import CycleChangeRequest
from ..auth.principal import Principal
from ..routing.access import STAFF, current_principal, route
from ..routing.bodies import json_body
from ..routing.dependencies import deps
from .shapes import cycles as shapes

bp = Blueprint(__name__)

UNIT_CYCLE = "/v1/units/{unit_id}/billing-cycle"
CYCLE_CHANGE = "/v1/units/{unit_id}/billing-cycle/change"


@route(bp, UNIT_CYCLE, STAFF, response=shapes.UnitCycle)
def get_unit_cycle(unit_id: str) -> dict[str, Any]:
    """The cycle in force today (the unit's, else its property's), the current period and
    the change waiting for the next boundary, if any."""
    return deps().cycle_scheduler.schedule_of(_staff(), unit_id, datetime.now(UTC)).as_json()


@route(
    bp,
    UNIT_CYCLE,
    STAFF,
    methods=("PUT",),
    body=CycleChangeRequest,
    response=shapes.UnitCycle,
    errors=(409,),
)
def put_unit_cycle(unit_id: str) -> dict[str, Any]:
    """Change the cycle from the next cycle boundary, never mid-cycle (400 naming the
    field: months, anchor_day, anchor_month out of range, or the cycle unchanged)."""
    p, scheduler, now = _staff(), deps().cycle_scheduler, datetime.now(UTC)
    scheduler.schedule_of(p, unit_id, now)  # 404 before the body is looked at
    body = CycleChangeRequest.model_validate(json_body(bp.current_request) or {})
    return scheduler.schedule(p, unit_id, body, now).as_json()


@route(bp, CYCLE_CHANGE, STAFF, methods=("DELETE",), response=shapes.UnitCycle, errors=(409,))
def delete_cycle_change(unit_id: str) -> dict[str, Any]:
    """Withdraw the change not yet in force (400 when none waits)."""
    return deps().cycle_scheduler.withdraw(_staff(), unit_id, None, datetime.now(UTC)).as_json()


def _staff() -> Principal:
    return current_principal(bp, STAFF)
