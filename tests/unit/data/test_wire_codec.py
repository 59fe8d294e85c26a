"""The wire codec against PynamoDB: an item encoded from attribute values is what
``Model.serialize`` makes of the same values, and an item decoded from DynamoDB JSON
holds what ``from_raw_data`` gives (binary values travel as base64 on the wire)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.data.models import GatewayCycle, GatewayState, PowerletItem
from chalicelib.data.wire.codec import ItemCodec, Updates, kind_of

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
