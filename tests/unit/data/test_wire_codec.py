"""The wire codec against PynamoDB: an item encoded from attribute values is what
``Model.serialize`` makes of the same values, and an item decoded from DynamoDB JSON
holds what ``from_raw_data`` gives (binary values travel as base64 on the wire): for the
models' own codec (``ItemCodec``) and for the rows' (``RowCodec``, every kind the lean
client carries on ingest's steady path, with no PynamoDB)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.data.models import (
    GatewayCycle,
    GatewayState,
    GatewayUsage,
    PowerletItem,
    UsageMonth,
)
from chalicelib.data.rows import (
    GatewayCycleRow,
    GatewayStateRow,
    GatewayUsageRow,
    Row,
    UsageMonthRow,
)
from chalicelib.data.wire.codec import ItemCodec, RowCodec, Updates, kind_of

AT = datetime(2026, 12, 6, 18, 20, 5, 123456, tzinfo=UTC)
CYCLE: dict[str, Any] = {
    "pk": "CO#c1#GWD#gw-1",
    "sk": "CYC#1796581205123#sp#7",
    "gateway_id": "gw-1",
    "spool_id": "sp",
    "seq": 7,
    "cycle_at_ms": 1796581205123,
    "received_at_ms": 1796581206000,
    "rows": [["m-1", 0, "100.500", None, 230, "on", None]],
    "expires_at": 1799000000,
}
STATE: dict[str, Any] = {
    "pk": "CO#c1#GWD#gw-1",
    "sk": "CYC~STATE",
    "company_id": "c1",
    "gateway_id": "gw-1",
    "version": 4,
    "meters": {"m-1": {"b": -25, "k": "12.500"}},
    "flags": ["bus_fault", "low_credit"],
    "updated_at": AT,
    "context": {"v": 2, "units": []},
    "context_version": 3,
    "context_built": 3,
    "context_at_ms": 1796581205123,
    "open_conditions": {"meter_offline|meter:m-1|1"},
    "duepk": "DUE#silence#2026-12-06#1",
    "duesk": "1796583005123#c1#gw-1#-",
}


def _on_the_wire(raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: {"B": base64.b64encode(v["B"]).decode()} if "B" in v else v for name, v in raw.items()
    }


@pytest.mark.parametrize(("cls", "values"), [(GatewayCycle, CYCLE), (GatewayState, STATE)])
def test_an_item_is_encoded_as_pynamodb_serializes_it(
    cls: type[PowerletItem], values: dict[str, Any]
) -> None:
    expected = _on_the_wire(cls(**values).serialize())
    assert ItemCodec(cls).item(values) == expected


@pytest.mark.parametrize(("cls", "values"), [(GatewayCycle, CYCLE), (GatewayState, STATE)])
def test_an_item_is_decoded_as_pynamodb_reads_it(
    cls: type[PowerletItem], values: dict[str, Any]
) -> None:
    raw = cls(**values).serialize()
    expected = PowerletItem.from_raw_data(raw)

    decoded = ItemCodec(cls).decode({**_on_the_wire(raw), "unknown": {"S": "ignored"}})

    assert type(decoded) is type(expected) is cls
    assert decoded.attribute_values == expected.attribute_values
    assert kind_of(_on_the_wire(raw)) == ItemCodec(cls).kind


def test_an_update_names_every_attribute_and_value_by_placeholder() -> None:
    updates = Updates(ItemCodec(GatewayState)).set_all(
        [("kind", GatewayState), ("version", 5), ("context_built", 3)]
    )
    condition = updates.equals("version", 4)
    request = updates.request("t", {"pk": {"S": "p"}, "sk": {"S": "s"}}, condition)

    assert request["UpdateExpression"] == "SET #n0 = :v0, #n1 = :v1, #n2 = :v2"
    assert request["ConditionExpression"] == "#n1 = :v3"  # the name's placeholder reused
    assert request["ExpressionAttributeNames"] == {"#n0": "kind", "#n1": "version", "#n2": "ctxb"}
    assert request["ExpressionAttributeValues"] == {
        ":v0": {"S": "GwState"},
        ":v1": {"N": "5"},
        ":v2": {"N": "3"},
        ":v3": {"N": "4"},
    }
    with pytest.raises(ValueError, match="no value"):
        Updates(ItemCodec(GatewayState)).set("context", None)


USAGE: dict[str, Any] = {
    "pk": "CO#c1#GWD#gw-1",
    "sk": "U15#1796581200000",
    "gateway_id": "gw-1",
    "bucket_start": datetime(2026, 12, 6, 18, 15, tzinfo=UTC),
    "energy": {"m-1": "0.125", "m-2": "0.000"},
    "messages": 15,
    "health": {"t": 1796581205123, "m": {"m-1": [0, 0, 1, 0, 0]}},
}
MONTH: dict[str, Any] = {
    "pk": "CO#c1#USAGE",
    "sk": "MONTH#2026-12",
    "company_id": "c1",
    "month": "2026-12",
    "meters_delta": -2,
    "messages": 43_200,
    "top_ups": 0,
}
# Every kind the lean client carries on ingest's steady path, with an item of it.
ROWS: list[tuple[type[PowerletItem], type[Row], dict[str, Any]]] = [
    (GatewayCycle, GatewayCycleRow, CYCLE),
    (GatewayState, GatewayStateRow, STATE),
    (GatewayUsage, GatewayUsageRow, USAGE),
    (UsageMonth, UsageMonthRow, MONTH),
]
KINDS = pytest.mark.parametrize(
    ("cls", "row", "values"), ROWS, ids=[row.__name__ for _, row, _ in ROWS]
)


def _sets_sorted(raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        n: {t: sorted(v) if t == "SS" else v for t, v in typed.items()} for n, typed in raw.items()
    }


@KINDS
def test_a_row_codec_encodes_an_item_as_pynamodb_serializes_it(
    cls: type[PowerletItem], row: type[Row], values: dict[str, Any]
) -> None:
    expected = _on_the_wire(cls(**values).serialize())
    assert _sets_sorted(RowCodec(row).item(values)) == _sets_sorted(expected)


@KINDS
def test_a_row_codec_decodes_what_pynamodb_reads(
    cls: type[PowerletItem], row: type[Row], values: dict[str, Any]
) -> None:
    raw = cls(**values).serialize()
    expected = PowerletItem.from_raw_data(raw)
    decoded = RowCodec(row).decode({**_on_the_wire(raw), "unknown": {"S": "ignored"}})
    # THEN the row holds the model's values, less the model class under ``kind``
    assert type(decoded) is row
    assert decoded.attribute_values == {
        k: v for k, v in expected.attribute_values.items() if k != "kind"
    }
    assert kind_of(_on_the_wire(raw)) == RowCodec(row).kind == ItemCodec(cls).kind
    for name in row.FIELDS:
        assert getattr(decoded, name) == getattr(expected, name), name


@KINDS
def test_a_row_codec_names_each_attribute_as_the_model_stores_it(
    cls: type[PowerletItem], row: type[Row], values: dict[str, Any]
) -> None:
    codec, models = RowCodec(row), ItemCodec(cls)
    for name in row.FIELDS:
        assert codec.stored_name(name) == models.stored_name(name)
    assert codec.kind_name == models.kind_name
    update = Updates(codec).set_all([("kind", cls), *values.items()])
    assert update.values == Updates(models).set_all([("kind", cls), *values.items()]).values


_TEXT = st.text(max_size=8)
_DOCUMENT = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_INSTANT = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(
    version=st.integers(0, 2**53),
    meters=_DOCUMENT.filter(lambda d: d is not None),  # not null in the model
    flags=_DOCUMENT.filter(lambda d: d is not None),
    updated_at=st.none() | _INSTANT,
    built=st.none() | st.integers(-1, 10**9),
    marks=st.none() | st.sets(st.text(min_size=1, max_size=6), max_size=3),
    company=st.none() | _TEXT,
)
def test_any_bus_item_decodes_as_pynamodb_reads_it(
    version: int,
    meters: Any,
    flags: Any,
    updated_at: datetime | None,
    built: int | None,
    marks: set[str] | None,
    company: str | None,
) -> None:
    values = {
        **STATE,
        "version": version,
        "meters": meters,
        "flags": flags,
        "updated_at": updated_at,
        "context_built": built,
        "open_conditions": marks or None,
        "company_id": company,
    }
    raw = GatewayState(**values).serialize()
    wire = _on_the_wire(raw)
    decoded = RowCodec(GatewayStateRow).decode(wire)
    expected = PowerletItem.from_raw_data(raw)
    assert decoded.attribute_values == {
        k: v for k, v in expected.attribute_values.items() if k != "kind"
    }
    assert _sets_sorted(RowCodec(GatewayStateRow).item(values)) == _sets_sorted(wire)
