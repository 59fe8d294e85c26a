"""The JSON face of the portal: everything the pages show and do, for API
clients with a bearer ID token. Same read models and actions as the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from ..application import actions, views
from ..application.live_balance import LiveBalance
from ..auth.principal import Role
from ..data.models import LedgerEntryItem, RelayCommand
from ..domain import format_kwh
from ..routing.access import ANY_SIGNED_IN, STAFF, current_principal, route
from ..routing.bodies import json_body
from ..routing.dependencies import deps
from ..routing.responses import CREATED_OR_REPLAYED
from .shapes import portal as shapes

bp = Blueprint(__name__)

TENANT = frozenset({Role.TENANT})


class TopUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    amount_minor: int = Field(gt=0, le=actions.MAX_TOP_UP_MINOR)
    idempotency_key: str = Field(pattern=actions.IDEMPOTENCY_KEY.pattern)
    # Shown on the receipt and in the ledger; part of what a replay must repeat.
    note: str | None = Field(
        default=None, max_length=actions.MAX_NOTE_CHARS, pattern=actions.NOTE_PATTERN
    )


class DashboardQuery(BaseModel):
    # Unknown parameters (a cache-buster) are ignored, not refused.
    model_config = ConfigDict(extra="ignore", strict=True)

    property_id: str = Field(
        default="", max_length=64, description="the property to show; default the first"
    )
    q: str = Field(default="", max_length=100, description="search in unit names")
    power: str = Field(default="", pattern=r"^(on|off)?$", description="on | off: only those")
    cursor: str | None = Field(
        default=None, min_length=1, max_length=1024, description="next_cursor of the page before"
    )


class RelayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    power: str = Field(pattern=r"^(on|off|auto)$")
    reason: str = Field(min_length=1, max_length=actions.MAX_REASON_CHARS)
    # "on" needs an end, never indefinitely: a time (ISO 8601; without an offset, on the
    # property's clock) within a month, or the next top-up (at most 7 days).
    until: str | None = Field(default=None, max_length=actions.MAX_UNTIL_CHARS)
    until_topup: bool = False


@route(bp, "/v1/dashboard", STAFF, query=DashboardQuery, response=shapes.Dashboard, errors=(404,))
def dashboard() -> dict[str, Any]:
    """One page of units of one property, with balance, power and online state; newest alerts."""
    p = current_principal(bp, STAFF)
    q = DashboardQuery.model_validate(dict(bp.current_request.query_params or {}))
    board = deps().views.dashboard(
        p, property_id=q.property_id or None, search=q.q, power=q.power or None, cursor=q.cursor
    )
    return {
        "properties": [
            {"property_id": x.property_id, "name": x.name, "city": x.city} for x in board.properties
        ],
        "property_id": board.selected.property_id if board.selected else None,
        "units": [_row(r) for r in board.rows],
        "next_cursor": board.next_cursor,
        "alerts": [
            {
                "notification_id": a.notification_id,
                "topic": a.topic,
                "subject_ref": a.subject_ref,
                "created_at": a.created_at.isoformat(),
            }
            for a in board.alerts
        ],
    }


def _row(r: views.UnitRow) -> dict[str, Any]:
    return {
        "unit_id": r.unit.unit_id,
        "name": r.unit.name,
        "billing_mode": r.unit.billing_mode,
        "vacant": not r.unit.tenancy_id,
        "balance": _money(int(r.account.balance_minor), r.account.currency) if r.account else None,
        "live_balance": _live(r.live, str(r.account.currency)) if r.account and r.live else None,
        "power": r.unit.power,
        "power_reason": r.unit.power_reason,
        "meter_online": bool(r.meter.online) if r.meter else None,
        "gateway_online": bool(r.gateway.online) if r.gateway else None,
    }


@route(bp, "/v1/units/{unit_id}/overview", ANY_SIGNED_IN, response=shapes.UnitOverview)
def unit_overview(unit_id: str) -> dict[str, Any]:
    """Everything the unit page shows: balance, days left, power and why, reading, usage."""
    p = current_principal(bp, ANY_SIGNED_IN)
    d = deps().views.unit_detail(p, unit_id)
    return {
        "unit_id": d.unit.unit_id,
        "name": d.unit.name,
        "property": {
            "property_id": d.premises.property_id,
            "name": d.premises.name,
            "time_zone": d.premises.time_zone,
            "currency": d.premises.currency,
        },
        "billing_mode": d.unit.billing_mode,
        "balance": _money(int(d.account.balance_minor), d.account.currency) if d.account else None,
        # the settled balance less the energy used since the last charge, priced
        "live_balance": _live(d.live, str(d.account.currency)) if d.account and d.live else None,
        "days_left": d.days_left,
        "power": {
            "state": d.power_state,
            "confirmed_state": d.unit.power,
            "reason": d.power_reason,
            "note": d.power_note,
        },
        "latest_reading": {
            "import_kwh": d.latest.cumulative_kwh,
            "read_at": d.latest.at.isoformat() if d.latest.at else None,
        }
        if d.latest
        else None,
        "tenancy": {
            "tenancy_id": d.tenancy.tenancy_id,
            "starts_on": d.tenancy.starts_on,
            "starts_at": _instant(d.tenancy.starts_at),
        }
        if d.tenancy and p.role is not Role.TENANT
        else None,
        "usage_by_day": [
            {
                "day": u.day.date().isoformat(),
                "energy_kwh": str(u.energy_kwh),
                "tenancies": [{"tenancy_id": t, "energy_kwh": str(e)} for t, e in u.tenancies],
            }
            for u in d.usage
        ],
        # staff: each command labelled with the tenancy it was issued in
        "relay_commands": [
            {**_command(c), "tenancy_id": d.tenancy_at(c.issued_at)} for c in d.commands
        ],
    }


@route(
    bp,
    "/v1/units/{unit_id}/top-ups",
    STAFF,
    methods=("POST",),
    body=TopUpRequest,
    response=shapes.TopUpDone,
    success=CREATED_OR_REPLAYED,
    errors=(409, 422),
)
def top_up(unit_id: str) -> Any:
    """Add credit once per idempotency key (201 new, 200 replay, 409 key reused)."""
    p = current_principal(bp, STAFF)
    unit = deps().scope.visible_unit(p, unit_id)  # 404 before any validation: no probing by error
    body = TopUpRequest.model_validate(json_body(bp.current_request) or {})
    receipt = deps().credit.top_up(
        p, unit, body.amount_minor, body.idempotency_key, datetime.now(UTC), note=body.note
    )
    return Response(
        body={
            "receipt": _entry(receipt.entry),
            "replayed": not receipt.applied,
            "balance": _money(receipt.balance_minor, receipt.entry.currency),
        },
        status_code=201 if receipt.applied else 200,
    )


@route(bp, "/v1/units/{unit_id}/receipts/{entry_id}", ANY_SIGNED_IN, response=shapes.Receipt)
def get_receipt(unit_id: str, entry_id: str) -> dict[str, Any]:
    """A ledger entry of the unit's current account, as a receipt."""
    p = current_principal(bp, ANY_SIGNED_IN)
    _, entry, balance_after = deps().views.entry_of_unit(p, unit_id, entry_id)
    return {
        "receipt": _entry(entry),
        "balance_after": _money(balance_after, str(entry.currency)),
    }


@route(
    bp,
    "/v1/units/{unit_id}/relay",
    STAFF,
    methods=("POST",),
    body=RelayRequest,
    response=shapes.RelaySet,
    errors=(409, 422),
)
def set_relay(unit_id: str) -> dict[str, Any]:
    """Set the unit's power mode: `auto` (the credit decides), `off` by hand, or `on` by hand
    until `until` or the next top-up (`until_topup`); the reason is shown to the tenant."""
    p = current_principal(bp, STAFF)
    unit = deps().scope.visible_unit(p, unit_id)
    body = RelayRequest.model_validate(json_body(bp.current_request) or {})
    result = deps().credit.set_power(
        p,
        unit,
        body.power,
        body.reason,
        datetime.now(UTC),
        until=body.until,
        until_topup=body.until_topup,
    )
    return {
        "desired": {"power": result.power, "reason": result.reason},
        "command_id": result.command_id,
    }


@route(bp, "/v1/tenant/units", TENANT, response=shapes.TenantUnits)
def tenant_units() -> dict[str, Any]:
    """The caller's current tenancies' units."""
    p = current_principal(bp, TENANT)
    return {
        "units": [
            {"unit_id": u.unit_id, "name": u.name, "property_id": u.property_id}
            for u in deps().views.tenant_units(p)
        ]
    }


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency}


def _entry(e: LedgerEntryItem) -> dict[str, Any]:
    return {
        "entry_id": e.entry_id,
        "kind": e.entry_kind,
        "amount": _money(int(e.amount_minor), e.currency),
        "occurred_at": e.occurred_at.isoformat(),
        "memo": e.memo,
    }


def _instant(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _command(c: RelayCommand) -> dict[str, Any]:
    return {
        "command_id": c.command_id,
        "power": c.power,
        "reason": c.reason,
        "note": getattr(c, "note", None),
        "issued_at": c.issued_at.isoformat(),
        "outcome": c.outcome,
    }


def _live(live: LiveBalance, currency: str) -> dict[str, Any]:
    return {
        **_money(live.balance_minor, currency),
        "unsettled_kwh": format_kwh(live.unsettled_kwh),
        "unsettled_minor": live.unsettled_minor,
        "as_of": live.as_of.isoformat() if live.as_of else None,
    }
