"""The bus item's packed context: what ``pack`` writes, ``unpack`` reads back as rows
(data/rows.py) holding what PynamoDB's items held after a read, each row answering every
attribute as its model does; a pack of an older version is refused (the context is then
rebuilt from the catalogue, pipeline/context.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.data import builders
from chalicelib.data.bus_item import PACK_VERSION, CatalogueParts, pack, tariff_digest, unpack
from chalicelib.data.models import (
    Company,
    Gateway,
    Meter,
    PowerletItem,
    Property,
    Tenancy,
    Unit,
)
from chalicelib.data.rows import (
    CompanyRow,
    GatewayRow,
    MeterRow,
    PropertyRow,
    Row,
    TenancyRow,
    UnitRow,
    row_of,
)

CO = "co-pack"
OPENED = datetime(2026, 11, 1, tzinfo=UTC)
FLAT = {"kind": "flat", "tariff_id": "flat", "currency": "TWD", "price_per_kwh": "5.00"}
TIERED = {
    "kind": "tiered",
    "tariff_id": "tiered",
    "currency": "TWD",
    "tiers": [{"up_to_kwh": "120", "price_per_kwh": "1.68"}],
}


def as_read(item: PowerletItem) -> Any:
    """The item as a catalogue read answers it (what a context is built from)."""
    return type(item).from_raw_data(item.serialize())


ROW_OF: dict[type[PowerletItem], type[Row]] = {
    Gateway: GatewayRow,
    Property: PropertyRow,
    Company: CompanyRow,
    Meter: MeterRow,
    Unit: UnitRow,
    Tenancy: TenancyRow,
}


def parts(meters: int = 3) -> CatalogueParts:
    """The parts as pipeline/context.py reads them from the catalogue: rows of the items."""
    return rows_of(read_items(meters))


def rows_of(read: list[Any]) -> CatalogueParts:
    rows = [row_of(ROW_OF[type(item)], item) for item in read]
    gateway, company, premises = rows[:3]
    return CatalogueParts(
        gateway=gateway,
        premises=premises,
        company=company,
        meters=[r for r in rows if isinstance(r, MeterRow)],
        units={str(r.unit_id): r for r in rows if isinstance(r, UnitRow)},
        tenancies={str(r.tenancy_id): r for r in rows if isinstance(r, TenancyRow)},
    )


def read_items(meters: int = 3) -> list[Any]:
    """The catalogue's items of a bus as PynamoDB reads them: gateway, company, property,
    then each meter, unit and tenancy, then a vacant unit."""
    gateway = builders.gateway(CO, "gw1", "thing-1", property_id="p1")
    gateway.last_seen_at = datetime(2026, 11, 20, 3, 4, 5, 678000, tzinfo=UTC)
    company = builders.company(CO, "Co", OPENED, low_credit_thresholds_minor=[50000, 10000])
    items: list[Any] = []
    for n in range(meters):
        meter = builders.meter(CO, f"m{n}", "gw1", n + 1, unit_id=f"u{n}", profile="dds238")
        if n == 1:  # one meter offline, read once: values the others lack
            meter.last_error = "timeout"
            meter.last_read_at = datetime(2026, 11, 20, 3, tzinfo=UTC)
            meter.profile_versions = {"dds238": "3.ab12"}
        unit = builders.unit(
            CO,
            f"u{n}",
            "p1",
            name=f"u{n}",
            unit_type="flat",
            billing_mode="prepaid",
            meter_id=f"m{n}",
            tenancy_id=f"t{n}",
            account_id=f"a{n}",
            tariff=dict(FLAT) if n != 2 else dict(TIERED),  # equal documents, not one object
        )
        tenancy = builders.tenancy(
            CO, f"t{n}", f"u{n}", f"sub{n}", "2026-11-01", account_id=f"a{n}", opening_kwh="1.000"
        )
        items += [meter, unit, tenancy]
    vacant = builders.unit(  # an empty tariff document: priced by nothing
        CO, "u-vacant", "p1", name="v", unit_type="flat", billing_mode="postpaid", tariff={}
    )
    items.append(vacant)
    premises = builders.taipei_property(
        CO,
        emergency_credit_minor=0,
        landlord_subs={"sub-b", "sub-a"},
    )
    return [as_read(i) for i in [gateway, company, premises, *items]]


def stored(packed: dict[str, Any]) -> dict[str, Any]:
    """Through the bus item's attribute (JSON) and back."""
    return json.loads(json.dumps(packed, separators=(",", ":")))


def values(item: PowerletItem | Row) -> dict[str, Any]:
    return {k: v for k, v in item.attribute_values.items() if v is not None and k != "kind"}


def test_unpacked_rows_hold_the_values_a_read_gives() -> None:
    # GIVEN the items of a bus as PynamoDB reads them from the catalogue
    read = read_items()
    original = rows_of(read)
    # WHEN their rows are packed onto the bus item and unpacked from it
    back = unpack(stored(pack(original)))
    # THEN every item of every kind the context holds came back as its kind's row, with
    # the values the model held (datetimes, sets, documents)
    gateway, company, premises, *catalogue = read
    units = {str(u.unit_id): u for u in catalogue if isinstance(u, Unit)}
    models: list[PowerletItem] = [gateway, company, premises]
    unpacked: list[Row] = [back.gateway, back.company, back.premises]
    for meter, row in zip([m for m in catalogue if isinstance(m, Meter)], back.meters, strict=True):
        models += [meter, units[str(meter.unit_id)]]
        unpacked += [row, back.units[str(row.unit_id)]]
    models += [units["u-vacant"], *(t for t in catalogue if isinstance(t, Tenancy))]
    unpacked += [back.units["u-vacant"], *back.tenancies.values()]
    assert {type(m) for m in models} == set(ROW_OF)  # every kind the context holds
    for model, row in zip(models, unpacked, strict=True):
        assert type(row) is ROW_OF[type(model)]
        assert values(row) == values(model)
        # and answers every attribute, declared once on its row, as the model does
        for name in type(row).FIELDS:
            assert getattr(row, name) == getattr(model, name), (type(row).__name__, name)
    assert back.gateway.last_seen_at == datetime(2026, 11, 20, 3, 4, 5, 678000, tzinfo=UTC)
    assert back.premises.landlord_subs == {"sub-a", "sub-b"}
    assert list(back.units) == list(original.units)
    assert list(back.tenancies) == list(original.tenancies)


def test_a_value_one_item_lacks_stays_absent_on_it() -> None:
    back = unpack(stored(pack(parts())))
    offline, answering = back.meters[1], back.meters[0]
    assert offline.attribute_values["last_error"] == "timeout"
    assert "last_error" not in answering.attribute_values
    assert "last_read_at" not in answering.attribute_values
    assert answering.profile_versions is None
    assert back.units["u-vacant"].tariff == {}


def test_each_tariff_document_is_packed_once_with_the_digests_assemble_keys_on() -> None:
    original = parts(meters=4)
    packed = stored(pack(original))
    assert sorted(packed["docs"]) == sorted({tariff_digest(FLAT), tariff_digest(TIERED)})
    back = unpack(packed)
    assert back.tariff_digests == {
        "u0": tariff_digest(FLAT),
        "u1": tariff_digest(FLAT),
        "u2": tariff_digest(TIERED),
        "u3": tariff_digest(FLAT),
    }
    assert back.units["u2"].tariff == TIERED
    assert back.units["u0"].tariff == back.units["u3"].tariff == FLAT


def test_unpacking_leaves_the_packed_value_as_it_was() -> None:
    packed = stored(pack(parts()))
    copy = json.loads(json.dumps(packed))
    unpack(packed)
    assert packed == copy
    assert values(unpack(packed).gateway) == values(parts().gateway)


def test_a_pack_of_an_older_version_is_refused_for_a_rebuild() -> None:
    # GIVEN a context packed by the code before tables (version 2: an object per item)
    older = {
        "v": 2,
        "gateway": [{"gateway_id": "gw1"}, {}],
        "property": [{}, {}],
        "company": [{}, {}],
        "meters": [],
        "units": [],
        "tenancies": [],
        "tariffs": {},
    }
    # THEN it is not read as this version (BusItems.read then rebuilds the context)
    with pytest.raises(ValueError, match="packed as 2"):
        unpack(older)
    # AND one of version 3 (the company and tenancies with the rest, no steady record)
    three = {**stored(pack(parts())), "v": 3}
    with pytest.raises(ValueError, match="packed as 3"):
        unpack(three)
    assert PACK_VERSION == 4


def test_a_row_of_the_wrong_width_is_refused() -> None:
    packed = stored(pack(parts()))
    packed["meters"]["r"][0].pop()
    with pytest.raises(ValueError, match="Meter"):
        unpack(packed)


@settings(max_examples=40, deadline=None)
@given(
    errors=st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=1, max_size=6),
    thresholds=st.one_of(st.none(), st.lists(st.integers(-(10**9), 10**9), max_size=3)),
)
def test_any_mix_of_present_and_absent_values_round_trips(
    errors: list[str | None], thresholds: list[int] | None
) -> None:
    original = parts(meters=len(errors))
    for meter, error in zip(original.meters, errors, strict=True):
        meter.last_error = error
    for unit in original.units.values():
        unit.low_credit_thresholds_minor = thresholds
    back = unpack(stored(pack(original)))
    for before, after in zip(original.meters, back.meters, strict=True):
        assert values(after) == values(before)
    for before, after in zip(original.units.values(), back.units.values(), strict=True):
        assert values(after) == values(before)
