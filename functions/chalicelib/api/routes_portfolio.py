"""Read routes over the caller's portfolio: who am I, properties, units, ledger."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.meter_models import meter_models
from ..routing.access import ANY_SIGNED_IN, PUBLIC, STAFF, current_principal, route
from ..routing.dependencies import deps

bp = Blueprint(__name__)

LEDGER_PAGE = 50


@route(bp, "/health", PUBLIC)
def health() -> dict[str, str]:
    return {"status": "ok"}


@route(bp, "/v1/me", ANY_SIGNED_IN)
def me() -> dict[str, Any]:
    p = current_principal(bp, ANY_SIGNED_IN)
    company = deps().portfolio.company(p)
    return {
        "user_sub": p.user_sub,
        "email": p.email,
        "role": p.role.value,
        "company": {"company_id": company.company_id, "name": company.name},
        "property_ids": sorted(p.property_ids),
    }


@route(bp, "/v1/properties", STAFF)
def list_properties() -> dict[str, Any]:
    p = current_principal(bp, STAFF)
    return {"properties": [prop.as_dict() for prop in deps().portfolio.properties(p)]}


@route(bp, "/v1/properties/{property_id}/units", STAFF)
def list_units(property_id: str) -> dict[str, Any]:
    p = current_principal(bp, STAFF)
    units = deps().portfolio.units_of_property(p, property_id)
    return {"units": [u.as_dict() for u in units]}


@route(bp, "/v1/units/{unit_id}", ANY_SIGNED_IN)
def get_unit(unit_id: str) -> dict[str, Any]:
    p = current_principal(bp, ANY_SIGNED_IN)
    found = deps().portfolio.unit(p, unit_id)
    body = found.unit.as_dict()
    account = found.account
    if account is not None:
        body["balance"] = {"amount_minor": int(account.balance_minor), "currency": account.currency}
    return body


@route(bp, "/v1/units/{unit_id}/ledger", ANY_SIGNED_IN)
def unit_ledger(unit_id: str) -> dict[str, Any]:
    p = current_principal(bp, ANY_SIGNED_IN)
    entries = deps().portfolio.ledger(p, unit_id, limit=LEDGER_PAGE)
    return {
        "entries": [
            {
                "entry_id": e.entry_id,
                "kind": e.entry_kind,
                "amount_minor": int(e.amount_minor),
                "currency": e.currency,
                "occurred_at": e.occurred_at.isoformat(),
                "memo": e.memo,
            }
            for e in entries
        ]
    }


@route(bp, "/v1/meter-models", STAFF)
def list_meter_models() -> dict[str, Any]:
    """The meter models the gateway supports, by profile name (docs/meters.md)."""
    current_principal(bp, STAFF)
    return {"models": [meter_models()[name].as_json() for name in sorted(meter_models())]}
