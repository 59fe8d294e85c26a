"""Consumption of a unit per chart period, as JSON (the same read model as the pages)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from ..application.consumption import Consumption, PeriodTotal
from ..routing.access import ANY_SIGNED_IN, current_principal, route
from ..routing.dependencies import deps
from .shapes.portal import ConsumptionView

bp = Blueprint(__name__)


class ConsumptionQuery(BaseModel):
    # Unknown parameters (a cache-buster) are ignored, not refused.
    model_config = ConfigDict(extra="ignore", strict=True)

    period: str = Field(
        default="week",
        pattern=r"^(day|week|month|cycle|year)$",
        description="bars per hour (day), per day (week, month, cycle: the unit's billing "
        "cycle holding at) or per month (year)",
    )
    at: str = Field(
        default="",
        max_length=10,
        description="YYYY-MM-DD in the property's time zone, not after today; "
        "empty or absent: today",
    )


@route(
    bp,
    "/v1/units/{unit_id}/consumption",
    ANY_SIGNED_IN,
    query=ConsumptionQuery,
    response=ConsumptionView,
)
def consumption(unit_id: str) -> dict[str, Any]:
    """kWh per hour (period=day), day (week, month, cycle) or month (year) in the property's
    time zone, the period before for comparison, and the average per day.
    Query: ``period`` (day|week|month|cycle|year, default week), ``at`` (YYYY-MM-DD, default
    today). A tenant sees their own unit only, counted from their tenancy's start."""
    p = current_principal(bp, ANY_SIGNED_IN)
    q = ConsumptionQuery.model_validate(dict(bp.current_request.query_params or {}))
    c = deps().consumption.for_unit(p, unit_id, q.period, q.at or None, datetime.now(UTC))
    return as_json(c)


def as_json(c: Consumption) -> dict[str, Any]:
    return {
        "unit_id": c.unit_id,
        "time_zone": c.time_zone,
        "period": c.kind.value,
        "at": c.at.isoformat(),
        "since": c.since.isoformat() if c.since else None,
        "current": _total(c.current),
        "previous": _total(c.previous),
        "change_percent": str(c.change_percent) if c.change_percent is not None else None,
        "bars": [
            {
                "start": b.slot.local_start.isoformat(),
                "end": b.slot.end.astimezone(b.slot.local_start.tzinfo).isoformat(),
                "energy_kwh": str(b.energy_kwh),
            }
            for b in c.bars
        ],
        "has_data": c.has_data,
        "previous_at": c.previous_at.isoformat() if c.previous_at else None,
        "next_at": c.next_at.isoformat() if c.next_at else None,
    }


def _total(t: PeriodTotal) -> dict[str, Any]:
    return {
        "start": t.period.start.isoformat(),
        "end": t.period.end.isoformat(),
        "total_kwh": str(t.total_kwh),
        "days": t.days,
        "average_per_day_kwh": str(t.average_per_day_kwh),
    }
