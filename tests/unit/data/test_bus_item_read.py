"""The bus item as ingest reads it off the wire (``raw_bus_read``, no GatewayState made)
is what reading it through the model's attributes gives (``bus_read`` of
``STATE_CODEC.decode``), on every shape of item: attributes absent or null, no control
state yet, a context of this pack version, of an older one, or none; and its JSON,
parsed by orjson, is what ``json`` parses."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.data.bus_item import STATE_CODEC, BusRead, _json, bus_read, pack, raw_bus_read
from chalicelib.data.control_state import MeterControlState, PendingCommand, encode_meters
from chalicelib.pipeline.context import assemble, steady_record
from tests.bus_parts import bus_parts

FLAT = {"kind": "flat", "tariff_id": "flat", "currency": "TWD", "price_per_kwh": "5.00"}
AT = datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)
PARTS = bus_parts("co-read", [{"billing_mode": "prepaid", "tariff": FLAT}, {}])
DAY = date(2026, 11, 20)
PACKED = pack(PARTS, steady_record(assemble(PARTS, DAY), PARTS, DAY))
METERS = encode_meters(
    {
        "m0": MeterControlState(
            account_id="a0",
            balance_minor=500,
            settled_kwh=Decimal("10.000"),
            settled_at=AT,
            power="on",
            reason="credit_ok",
            command_id="c1",
            pending=PendingCommand("c1", AT, AT),
        ),
        "m1": MeterControlState(),
    }
)


def _comparable(read: BusRead) -> dict[str, Any]:
    context = read.context
    return {
        "state": (read.state, dict(read.state.meters), type(read.state.meters)),
        "versions": (read.context_version, read.context_built, read.context_at_ms),
        "open": read.open_conditions,
        "stored": None if read.stored is None else read.stored.steady,
        "context": None
        if context is None
        else (
            [m.attribute_values for m in context.meters],
            {k: u.attribute_values for k, u in context.units.items()},
            context.gateway.attribute_values,
            context.premises.attribute_values,
            context.company.attribute_values,
            {k: t.attribute_values for k, t in context.tenancies.items()},
            context.tariff_digests,
        ),
    }


@settings(max_examples=200, deadline=None)
@given(
    version=st.sampled_from([None, 0, 1, 7]),
    meters=st.sampled_from([None, {}, METERS]),
    flags=st.sampled_from([None, [], ["offline"]]),
    context=st.sampled_from([None, PACKED, {"v": 3, "gateway": {}}, {**PACKED, "cold": 1}]),
    context_version=st.sampled_from([None, 0, 4, 12.0]),
    context_built=st.sampled_from([None, 0, 3]),
    context_at_ms=st.sampled_from([None, 1795152930028, -5]),
    open_conditions=st.sampled_from([None, {"meter_offline|m0|1795152930028"}]),
)
def test_the_wire_read_is_the_models_read(**values: Any) -> None:
    present = {name: value for name, value in values.items() if value is not None}
    raw = STATE_CODEC.item({**present, "company_id": "co-read", "updated_at": AT})

    fast = raw_bus_read("co-read", "gw1", raw, None)

    assert _comparable(fast) == _comparable(
        bus_read("co-read", "gw1", STATE_CODEC.decode(raw), None)
    )


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.booleans())
def test_the_item_json_parses_as_json_does(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only).encode()
    assert _json(text) == json.loads(text)


def test_what_orjson_refuses_is_read_as_json_reads_it() -> None:
    text = b'{"a":NaN,"b":Infinity,"c":"\\ud800"}'
    found = _json(text)
    assert math.isnan(found["a"]) and found["b"] == math.inf and found["c"] == "\ud800"
