"""Buildings made for one test module: a Taipei property on its own bus, with a vacant
prepaid room and its meter per unit id (so the module's moves touch nobody else's)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.data import builders
from chalicelib.pipeline.senders import thing_name_for
from local_aws.demo_data import TARIFF_TW_FLAT


def vacant_rooms(
    company_id: str,
    property_id: str,
    gateway_id: str,
    unit_ids: Iterable[str],
    *,
    name: str,
    address: str,
    opening_kwh: str,
    tariffs: Mapping[str, dict[str, Any]] | None = None,
) -> list[Any]:
    """The catalogue items (save them with ``catalogue.save_all``): the property, its
    gateway, and per unit a DDS238 meter ``m-<unit>`` read at ``opening_kwh`` now and a
    prepaid room on the unit's tariff in ``tariffs`` (5.00 TWD a kWh by default)."""
    now = datetime.now(UTC)
    items: list[Any] = [
        builders.property_(
            company_id,
            property_id,
            name=name,
            address=address,
            city="Taipei",
            country="TW",
            time_zone="Asia/Taipei",
            currency="TWD",
        ),
        builders.gateway(
            company_id, gateway_id, thing_name_for(company_id, gateway_id), property_id=property_id
        ),
    ]
    for bus_address, unit_id in enumerate(unit_ids, start=1):
        meter_id = f"m-{unit_id}"
        items.append(
            builders.meter(
                company_id,
                meter_id,
                gateway_id,
                bus_address,
                unit_id=unit_id,
                profile="dds238",
                last_kwh=opening_kwh,
                last_read_at=now,
            )
        )
        items.append(
            builders.unit(
                company_id,
                unit_id,
                property_id,
                name=f"Room {unit_id}",
                unit_type="room",
                billing_mode="prepaid",
                tariff=(tariffs or {}).get(unit_id, TARIFF_TW_FLAT),
                meter_id=meter_id,
            )
        )
    return items
