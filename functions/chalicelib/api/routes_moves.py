"""Move-in and move-out as JSON routes, over the same services as the pages
(``portal/move_in.py``, ``portal/move_out.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response

from ..application import move_out as moves_out
from ..application.move_requests import MoveInRequest, MoveOutRequest
from ..routing.access import STAFF, current_principal, route
from ..routing.bodies import json_body
from ..routing.dependencies import deps
from ..routing.responses import CREATED_OR_REPLAYED
from .shapes import moves as shapes

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/units/{unit_id}/move-in",
    STAFF,
    methods=("POST",),
    body=MoveInRequest,
    response=shapes.MovedIn,
    success=CREATED_OR_REPLAYED,
    errors=(409, 422),
)
def move_in(unit_id: str) -> Response:
    """Let a vacant unit: tenancy, account (cursor at the opening reading), tenant login
    and invitation, optional opening credit. 201 new, 200 replay of the same key."""
    p = current_principal(bp, STAFF)
    deps().scope.visible_unit(p, unit_id)  # 404 before the body is looked at: no probing by error
    body = MoveInRequest.model_validate(json_body(bp.current_request) or {})
    result = deps().move_ins.move_in(p, unit_id, body, datetime.now(UTC))
    t = result.tenancy
    return Response(
        body={
            "tenancy_id": t.tenancy_id,
            "account_id": t.account_id,
            "unit_id": t.unit_id,
            "starts_on": t.starts_on,
            "starts_at": t.starts_at.isoformat() if t.starts_at else None,
            "opening_kwh": t.opening_kwh,
            "never_disconnect": bool(t.never_disconnect),
            "tenant": {
                "email": result.tenant_email,
                "user_sub": t.tenant_sub,
                "invited": result.tenant_invited,
            },
            "opening_credit_entry_id": result.opening_credit_entry_id,
            "balance": {"amount_minor": result.balance_minor, "currency": result.currency},
            "replayed": not result.applied,
        },
        status_code=201 if result.applied else 200,
    )


@route(
    bp,
    "/v1/units/{unit_id}/move-out",
    STAFF,
    methods=("POST",),
    body=MoveOutRequest,
    response=shapes.MovedOut,
    success=CREATED_OR_REPLAYED,
    errors=(409, 422),
)
def move_out(unit_id: str) -> Response:
    """Close the tenancy: final charge, refund or transfer of the rest, statement.
    ``dry_run`` computes the statement without writing. 201 done now, 200 replay."""
    p = current_principal(bp, STAFF)
    deps().scope.visible_unit(p, unit_id)
    body = MoveOutRequest.model_validate(json_body(bp.current_request) or {})
    result = deps().move_outs.move_out(p, unit_id, body, datetime.now(UTC))
    doc = statement_doc(
        deps().move_outs.statement(p, unit_id, result.tenancy.tenancy_id), result.plan
    )
    doc.update(replayed=not result.applied and not result.dry_run, dry_run=result.dry_run)
    return Response(body=doc, status_code=201 if result.applied else 200)


@route(
    bp,
    "/v1/units/{unit_id}/tenancies/{tenancy_id}/statement",
    STAFF,
    response=shapes.TenancyStatement,
)
def tenancy_statement(unit_id: str, tenancy_id: str) -> dict[str, Any]:
    """A tenancy's statement: the move-out settlement, or the figures so far."""
    p = current_principal(bp, STAFF)
    s = deps().move_outs.statement(p, unit_id, tenancy_id)
    return statement_doc(s, s.plan)


def statement_doc(s: moves_out.TenancyStatement, plan: dict[str, Any] | None) -> dict[str, Any]:
    t = s.tenancy
    currency = str(s.account.currency)
    doc: dict[str, Any] = {
        "unit_id": s.unit.unit_id,
        "tenancy_id": t.tenancy_id,
        "account_id": t.account_id,
        "tenant_email": s.tenant_email,
        "starts_on": t.starts_on,
        "ends_on": t.ends_on,
        "starts_at": t.starts_at.isoformat() if t.starts_at else None,
        "ends_at": t.ends_at.isoformat() if t.ends_at else None,
        "opening_kwh": t.opening_kwh,
        "closing_kwh": t.closing_kwh,
        "balance": {"amount_minor": int(s.account.balance_minor), "currency": currency},
        "settled_to": {
            "kwh": s.account.settled_kwh,
            "at": s.account.settled_at.isoformat() if s.account.settled_at else None,
        },
        "move_out": None,
    }
    if plan is not None:
        doc["move_out"] = {
            "stage": plan["stage"],
            "ends_on": plan["ends_on"],
            "moved_out_at": plan["at"],
            "disposition": plan["disposition"],
            "transfer_to_unit_id": plan["to_unit"],
            "readings": {
                "from_kwh": plan["from_kwh"],
                "from_at": plan["from_at"],
                "final_kwh": plan["final_kwh"],
                "final_source": plan["final_source"],
                "final_read_at": plan["final_read_at"],
            },
            "final_energy_kwh": plan["energy_kwh"],
            "tariff": {"tariff_id": plan["tariff_id"], "kind": plan["tariff_kind"]},
            "balance_before": {"amount_minor": plan["balance_before_minor"], "currency": currency},
            "remaining": {"amount_minor": plan["remaining_minor"], "currency": currency},
            "flags": plan["flags"],
            "entries": [
                {
                    "entry_id": e["entry_id"],
                    "account_id": e["account_id"],
                    "kind": e["kind"],
                    "amount": {"amount_minor": e["amount_minor"], "currency": currency},
                    "memo": e["memo"],
                    "refs": e["refs"],
                }
                for e in plan["entries"]
            ],
        }
    return doc
