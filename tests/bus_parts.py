"""A bus's catalogue parts for tests of the bus context (assembled, packed, recorded)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.data import builders
from chalicelib.data.bus_item import CatalogueParts
from chalicelib.data.models import Company, Property

VACANT = None  # a unit's ``tenancy`` for a unit nobody rents


def bus_parts(
    company_id: str,
    units: Sequence[Mapping[str, Any]],
    *,
    premises: Property | None = None,
    owner: Company | None = None,
) -> CatalogueParts:
    """Gateway gw1 on property p1 with meter m<n> on unit u<n> for each entry of
    ``units`` (the unit's attributes; its ``tenancy``: that tenancy's own attributes,
    default none, or VACANT), tenancy t<n> of tenant sub<n> from 2026-11-01 on account
    a<n>, and a spare meter on no unit."""
    meters, unit_items, tenancies = [], {}, {}
    for n, given in enumerate(units):
        attrs = dict(given)
        tenancy = attrs.pop("tenancy", {})
        if tenancy is not VACANT:
            attrs["tenancy_id"] = f"t{n}"
            tenancies[f"t{n}"] = builders.tenancy(
                company_id, f"t{n}", f"u{n}", f"sub{n}", "2026-11-01", account_id=f"a{n}", **tenancy
            )
        meters.append(
            builders.meter(company_id, f"m{n}", "gw1", n + 1, unit_id=f"u{n}", profile="x")
        )
        unit_items[f"u{n}"] = builders.unit(
            company_id, f"u{n}", "p1", name=f"u{n}", unit_type="flat", **attrs
        )
    meters.append(builders.meter(company_id, "m-spare", "gw1", 99, profile="x"))
    return CatalogueParts(
        gateway=builders.gateway(company_id, "gw1", "thing-1", property_id="p1"),
        premises=premises or builders.taipei_property(company_id),
        company=owner or builders.company(company_id, "Co", datetime(2026, 11, 1, tzinfo=UTC)),
        meters=meters,
        units=unit_items,
        tenancies=tenancies,
    )
