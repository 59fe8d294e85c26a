"""The JSON face of a unit's billing cycle (read it, schedule a change for the next cycle
boundary, withdraw a change not yet in force) and of a property's resale check. Staff of
the property only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint

from ..application.cycle_schedule import CycleChangeRequest
from ..application.resale_check import ResaleRow, ResaleView
from ..auth.principal import Principal
from ..routing.access import STAFF, current_principal, route
from ..routing.bodies import json_body
from ..routing.dependencies import deps
from .shapes import cycles as shapes

bp = Blueprint(__name__)

RESALE_CHECK = "/v1/properties/{property_id}/resale-check"
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


@route(bp, RESALE_CHECK, STAFF, response=shapes.ResaleCheckView)
def get_resale_check(property_id: str) -> dict[str, Any]:
    """Per unit and per period, what the tenant was charged against what the same energy
    costs at the utility tariff the landlord entered (on the portal's resale page), and
    whether it is above the market's resale cap."""
    view = deps().resale_check.of_property(_staff(), property_id, datetime.now(UTC))
    return resale_json(view)


def resale_json(v: ResaleView) -> dict[str, Any]:
    cur = str(v.premises.currency)
    return {
        "property_id": v.premises.property_id,
        "currency": cur,
        "cap": None
        if v.cap is None
        else {"market": v.cap.market, "rule": v.cap.rule, "source": v.cap.source},
        "utility": None
        if v.utility is None
        else {
            "template_id": v.utility.template_id,
            "name": v.utility.name,
            "utility": v.utility.utility,
        },
        "warnings": v.warnings,
        "rows": [_resale_row(r, cur) for r in v.rows],
    }


def _resale_row(r: ResaleRow, cur: str) -> dict[str, Any]:
    c = r.comparison
    return {
        "unit_id": r.unit.unit_id,
        "unit_name": r.unit.name,
        "period": {"start": r.period.start.isoformat(), "end": r.period.end.isoformat()},
        "charged": _money(r.charged_minor, cur),
        "at_utility_tariff": None if c is None else _money(c.utility_minor, cur),
        "difference": None if c is None else _money(c.difference_minor, cur),
        "energy_kwh": None if c is None else str(c.energy_kwh),
        "markup_percent": None if c is None or c.markup_percent is None else str(c.markup_percent),
        "over_cap": c is not None and c.over_cap,
        "utility_versions": [] if c is None else list(c.utility_versions),
        "problem": r.problem,
    }


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": int(amount_minor), "currency": currency}


def _staff() -> Principal:
    return current_principal(bp, STAFF)
