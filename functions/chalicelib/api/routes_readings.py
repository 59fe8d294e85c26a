"""Held readings and meter exchanges as JSON routes, over the same use case as the
readings page (``application/reading_review.py``). Staff of the unit's property only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response

from ..application.reading_requests import (
    MeterExchangeRequest,
    ReadingDecisionRequest,
    reading_time,
)
from ..application.reading_views import (
    Exchange,
    ExchangeProposal,
    HeldEntry,
    NearbyReading,
    ReadingsReview,
)
from ..auth.principal import Principal
from ..routing.access import STAFF, current_principal, route
from ..routing.bodies import json_body
from ..routing.dependencies import deps
from ..routing.responses import CREATED
from .shapes import readings as shapes

bp = Blueprint(__name__)

HELD_READINGS = "/v1/units/{unit_id}/held-readings"
DECISION = "/v1/units/{unit_id}/held-readings/{reading_ms}/decision"
EXCHANGES = "/v1/units/{unit_id}/meter-exchanges"
POST = ("POST",)


@route(bp, HELD_READINGS, STAFF, response=shapes.HeldReadings)
def held_readings(unit_id: str) -> dict[str, Any]:
    """A unit's held readings (newest first) with their evidence, the meter's exchanges."""
    return review_doc(deps().reading_review.review(_staff(), unit_id))


@route(
    bp,
    DECISION,
    STAFF,
    methods=POST,
    body=ReadingDecisionRequest,
    response=shapes.Decided,
    errors=(409, 422),
)
def decide_held_reading(unit_id: str, reading_ms: str) -> dict[str, Any]:
    """Accept, reject or replace with an estimate one held reading; 409 if decided."""
    p = _staff()
    deps().scope.visible_unit(p, unit_id)  # 404 before the body is looked at: no probing
    read_at = reading_time(reading_ms)
    body = ReadingDecisionRequest.model_validate(json_body(bp.current_request) or {})
    done = deps().reading_review.decide(p, unit_id, read_at, body, datetime.now(UTC))
    return {"reading": held_doc(done.entry), "settled": done.settled, "released": done.released}


@route(
    bp,
    EXCHANGES,
    STAFF,
    methods=POST,
    body=MeterExchangeRequest,
    response=shapes.Exchanged,
    success=CREATED,
    errors=(409, 422),
)
def record_meter_exchange(unit_id: str) -> Response:
    """Record a meter exchange: the old meter's final reading and the new one's opening."""
    p = _staff()
    deps().scope.visible_unit(p, unit_id)
    body = MeterExchangeRequest.model_validate(json_body(bp.current_request) or {})
    done = deps().reading_review.exchange(p, unit_id, body, datetime.now(UTC))
    return Response(
        body={
            "exchange": exchange_doc(done.exchange),
            "settled": done.settled,
            "released": done.released,
        },
        status_code=201,
    )


def _staff() -> Principal:
    return current_principal(bp, STAFF)


def review_doc(r: ReadingsReview) -> dict[str, Any]:
    latest = r.latest
    return {
        "unit_id": r.unit.unit_id,
        "meter_id": r.meter.meter_id if r.meter else None,
        "time_zone": r.premises.time_zone,
        "tenancy_start": _iso(r.tenancy_start),
        "latest_reading": None
        if latest is None
        else {"kwh": latest.cumulative_kwh, "at": _iso(latest.at), "source": latest.source},
        "pending": r.pending.count,
        "pending_more": r.pending.more,
        "held": [held_doc(e) for e in r.held],
        "exchanges": [exchange_doc(x) for x in r.exchanges],
        "exchange_proposal": proposal_doc(r.proposal),
    }


def proposal_doc(x: ExchangeProposal | None) -> dict[str, Any] | None:
    """The exchange a changed serial proposes: what to POST to meter-exchanges."""
    if x is None:
        return None
    return {
        "old_serial": x.old_serial,
        "new_serial": x.new_serial,
        "last_good": None
        if x.last_good_kwh is None
        else {"kwh": x.last_good_kwh, "at": _iso(x.last_good_at)},
        "first_new": {"kwh": x.first_new_kwh, "at": _iso(x.first_new_at)},
        "at": x.at_iso,
    }


def held_doc(e: HeldEntry) -> dict[str, Any]:
    decided = None
    if not e.waiting:
        decided = {
            "by": e.decided_by,
            "at": _iso(e.decided_at),
            "note": e.decision_note,
            "replacement_kwh": e.replacement_kwh,
        }
    return {
        "reading_ms": e.reading_ms,
        "read_at": _iso(e.read_at),
        "reading_kwh": e.reading_kwh,
        "reason": e.reason,
        "status": e.status,
        "run": e.run,
        "evidence": {
            "anchor_kwh": e.anchor_kwh,
            "anchor_at": _iso(e.anchor_at),
            "energy_kwh": e.energy_kwh,
            "limit_kwh": e.limit_kwh,
            "watts": e.watts,
            "drawn_kwh": e.drawn_kwh,
            "serial": e.serial,
            "known_serial": e.known_serial,
        },
        "around": {"before": _nearby(e.before), "after": _nearby(e.after)}
        if e.looked_around
        else None,
        "decision": decided,
    }


def exchange_doc(x: Exchange) -> dict[str, Any]:
    return {
        "at": _iso(x.at),
        "old_final_kwh": x.old_final_kwh,
        "new_opening_kwh": x.new_opening_kwh,
        "by": x.by,
        "note": x.note,
        "recorded_at": _iso(x.recorded_at),
    }


def _nearby(n: NearbyReading | None) -> dict[str, str] | None:
    return None if n is None else {"kwh": n.kwh, "at": n.at.isoformat()}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
