"""What an alert is about, in the names people read: the unit's name, the gateway and
the property it stands in, the property's clock and currency. A subject reference
(``unit:<id>``, ``meter:<id>``, ``gateway:<id>``, ``account:<id>``, ``property:<id>``,
with a qualifier after a second colon) is for keys and filters, never for a reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError


@dataclass(frozen=True)
class AlertSubject:
    kind: str  # unit | meter | gateway | account | property
    ident: str
    unit_id: str | None = None
    unit_name: str | None = None
    property_id: str | None = None
    property_name: str | None = None
    gateway_id: str | None = None
    time_zone: str = "UTC"
    currency: str | None = None  # the property's


def parse_subject(ref: str) -> tuple[str, str]:
    """(kind, id) of a subject reference; the qualifier (a threshold, a command) dropped."""
    kind, _, rest = str(ref).partition(":")
    return kind, rest.split(":", 1)[0]


def name_subjects(
    catalogue: Catalogue, company_id: str, refs: Iterable[str]
) -> dict[str, AlertSubject]:
    """Each reference's subject, named: one BatchGet each of meters, units and gateways
    at most, and the company's properties (one Query)."""
    refs = sorted(set(refs))
    parsed = {ref: parse_subject(ref) for ref in refs}
    idents = {
        kind: {i for k, i in parsed.values() if k == kind} for kind in ("unit", "meter", "gateway")
    }
    meters = catalogue.get_meters(company_id, idents["meter"]) if idents["meter"] else {}
    unit_ids = idents["unit"] | {str(m.unit_id) for m in meters.values() if m.unit_id}
    units = catalogue.get_units_lenient(company_id, unit_ids) if unit_ids else {}
    gateway_ids = idents["gateway"] | {str(m.gateway_id) for m in meters.values()}
    gateways = catalogue.get_gateways(company_id, gateway_ids) if gateway_ids else {}
    properties = {p.property_id: p for p in catalogue.list_properties(company_id)}
    out: dict[str, AlertSubject] = {}
    for ref, (kind, ident) in parsed.items():
        unit_id = property_id = gateway_id = None
        if kind == "unit" and ident in units:
            unit_id, property_id = ident, units[ident].property_id
        elif kind == "meter" and ident in meters:
            meter = meters[ident]
            gateway_id = str(meter.gateway_id)
            unit_id = str(meter.unit_id) if meter.unit_id and str(meter.unit_id) in units else None
            owner = units.get(unit_id or "") or gateways.get(gateway_id)
            property_id = owner.property_id if owner is not None else None
        elif kind == "gateway" and ident in gateways:
            gateway_id, property_id = ident, gateways[ident].property_id
        elif kind == "property" and ident in properties:
            property_id = ident
        premises = properties.get(str(property_id)) if property_id else None
        out[ref] = AlertSubject(
            kind=kind,
            ident=ident,
            unit_id=unit_id,
            unit_name=str(units[unit_id].name) if unit_id else None,
            property_id=str(property_id) if property_id else None,
            property_name=str(premises.name) if premises else None,
            gateway_id=gateway_id,
            time_zone=str(premises.time_zone) if premises else "UTC",
            currency=str(premises.currency) if premises else None,
        )
    return out


def name_subject(catalogue: Catalogue, company_id: str, ref: str) -> AlertSubject:
    """One reference's subject, for the alert being delivered: GetItems only (two or
    three), so the event functions need no batch or query grant to name it."""
    kind, ident = parse_subject(ref)
    unit = meter = gateway = None
    try:
        if kind == "unit":
            unit = catalogue.get_unit(company_id, ident)
        elif kind == "meter":
            meter = catalogue.get_meter(company_id, ident)
            if meter.unit_id:
                unit = _maybe(lambda: catalogue.get_unit(company_id, str(meter.unit_id)))
            if unit is None:
                gateway = _maybe(lambda: catalogue.get_gateway(company_id, str(meter.gateway_id)))
        elif kind == "gateway":
            gateway = catalogue.get_gateway(company_id, ident)
    except NotFoundError:
        return AlertSubject(kind, ident)
    owner = unit or gateway
    property_id = ident if kind == "property" else (owner.property_id if owner else None)
    premises = (
        _maybe(lambda: catalogue.get_property(company_id, str(property_id)))
        if property_id
        else None
    )
    return AlertSubject(
        kind=kind,
        ident=ident,
        unit_id=unit.unit_id if unit else None,
        unit_name=str(unit.name) if unit else None,
        property_id=str(property_id) if premises else None,
        property_name=str(premises.name) if premises else None,
        gateway_id=str(meter.gateway_id) if meter else (ident if kind == "gateway" else None),
        time_zone=str(premises.time_zone) if premises else "UTC",
        currency=str(premises.currency) if premises else None,
    )


T = TypeVar("T")


def _maybe(fetch: Callable[[], T]) -> T | None:
    try:
        return fetch()
    except NotFoundError:
        return None
