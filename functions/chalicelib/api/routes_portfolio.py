"""Read routes over the caller's portfolio: who am I, properties, units, ledger."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..data.errors import NotFoundError
from ..portal.scope import visible_unit
from .access import ANY_SIGNED_IN, PUBLIC, STAFF, current_principal, route
from .services import services

bp = Blueprint(__name__)

LEDGER_PAGE = 50


@route(bp, "/health", PUBLIC)
def health() -> dict[str, str]:
    return {"status": "ok"}


@route(bp, "/v1/me", ANY_SIGNED_IN)
def me() -> dict[str, Any]:
    p = current_principal(bp, ANY_SIGNED_IN)
    company = services().catalogue.get_company(p.company_id)
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
    props = [
        prop.as_dict()
        for prop in services().catalogue.list_properties(p.company_id)
        if p.may_see_property(prop.property_id)
    ]
    return {"properties": props}


@route(bp, "/v1/properties/{property_id}/units", STAFF)
def list_units(property_id: str) -> dict[str, Any]:
    p = current_principal(bp, STAFF)
    if not p.may_see_property(property_id):
        raise NotFoundError("property not found")
    catalogue = services().catalogue
    catalogue.get_property(p.company_id, property_id)
    return {
        "units": [u.as_dict() for u in catalogue.list_units_of_property(p.company_id, property_id)]
    }


@route(bp, "/v1/units/{unit_id}", ANY_SIGNED_IN)
def get_unit(unit_id: str) -> dict[str, Any]:
    p = current_principal(bp, ANY_SIGNED_IN)
    unit = visible_unit(p, unit_id)
    body = unit.as_dict()
    if unit.account_id:
        account = services().ledger.get_account(p.company_id, unit.account_id)
        body["balance"] = {"amount_minor": int(account.balance_minor), "currency": account.currency}
    return body


@route(bp, "/v1/units/{unit_id}/ledger", ANY_SIGNED_IN)
def unit_ledger(unit_id: str) -> dict[str, Any]:
    p = current_principal(bp, ANY_SIGNED_IN)
    unit = visible_unit(p, unit_id)
    if not unit.account_id:
        return {"entries": []}
    entries = services().ledger.entries(p.company_id, unit.account_id, limit=LEDGER_PAGE)
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
