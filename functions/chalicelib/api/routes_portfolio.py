"""Read routes over the caller's portfolio: who am I, properties, units, ledger."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..data.models import Property, Unit
from ..domain.meter_models import meter_models
from ..routing.access import ANY_SIGNED_IN, PUBLIC, STAFF, current_principal, route
from ..routing.dependencies import deps
from .shapes import portal as shapes
from .shapes.common import Health

bp = Blueprint(__name__)

LEDGER_PAGE = 50


@route(bp, "/health", PUBLIC, response=Health)
def health() -> dict[str, str]:
    """Liveness: the function answers."""
    return {"status": "ok"}


@route(bp, "/v1/me", ANY_SIGNED_IN, response=shapes.Me)
def me() -> dict[str, Any]:
    """The caller: e-mail, role, company and the properties delegated to them."""
    p = current_principal(bp, ANY_SIGNED_IN)
    company = deps().portfolio.company(p)
    return {
        "user_sub": p.user_sub,
        "email": p.email,
        "role": p.role.value,
        "company": {"company_id": company.company_id, "name": company.name},
        "property_ids": sorted(p.property_ids),
    }


@route(bp, "/v1/properties", STAFF, response=shapes.Properties)
def list_properties() -> dict[str, Any]:
    """The properties the caller may see: all of them for an admin, their own for a manager or landlord."""
    p = current_principal(bp, STAFF)
    return {"properties": [property_view(prop) for prop in deps().portfolio.properties(p)]}


@route(bp, "/v1/properties/{property_id}/units", STAFF, response=shapes.Units)
def list_units(property_id: str) -> dict[str, Any]:
    """The units of one property."""
    p = current_principal(bp, STAFF)
    units = deps().portfolio.units_of_property(p, property_id)
    return {"units": [unit_view(u) for u in units]}


@route(bp, "/v1/units/{unit_id}", ANY_SIGNED_IN, response=shapes.UnitWithBalance)
def get_unit(unit_id: str) -> dict[str, Any]:
    """One unit with its current account's balance."""
    p = current_principal(bp, ANY_SIGNED_IN)
    found = deps().portfolio.unit(p, unit_id)
    account = found.account
    balance = None
    if account is not None:
        balance = {"amount_minor": int(account.balance_minor), "currency": account.currency}
    return {**unit_view(found.unit), "balance": balance}


@route(bp, "/v1/units/{unit_id}/ledger", ANY_SIGNED_IN, response=shapes.Ledger)
def unit_ledger(unit_id: str) -> dict[str, Any]:
    """The newest 50 entries of the unit's current account, newest first."""
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


@route(bp, "/v1/meter-models", STAFF, response=shapes.MeterModels)
def list_meter_models() -> dict[str, Any]:
    """The meter models the gateway supports, by profile name (docs/meters.md)."""
    current_principal(bp, STAFF)
    return {"models": [meter_models()[name].as_json() for name in sorted(meter_models())]}


def property_view(prop: Property) -> dict[str, Any]:
    return {
        "property_id": prop.property_id,
        "name": prop.name,
        "address": prop.address,
        "city": prop.city,
        "country": prop.country,
        "time_zone": prop.time_zone,
        "currency": prop.currency,
        "locale": prop.locale,
        "main_meter_id": prop.main_meter_id,
    }


def unit_view(u: Unit) -> dict[str, Any]:
    return {
        "unit_id": u.unit_id,
        "property_id": u.property_id,
        "name": u.name,
        "unit_type": u.unit_type,
        "billing_mode": u.billing_mode,
        "meter_id": u.meter_id,
        "tenancy_id": u.tenancy_id,
        "power": u.power,
        "power_reason": u.power_reason,
    }
