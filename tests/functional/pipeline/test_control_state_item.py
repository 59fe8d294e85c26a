"""The GatewayState item in the table: an item written before the typed records reads back
into them, and written back it holds the same meters, in the short form (nulls and a
plain pending command's object left out: data/control_state.py)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.data import keys
from chalicelib.data.control_state import decode_meters, encode_meters
from chalicelib.data.models import GatewayState
from chalicelib.wiring.container import Container

pytestmark = pytest.mark.functional
OLD_ITEM = Path(__file__).parents[2] / "unit" / "data" / "gateway_state_before_records.json"


def test_an_old_format_item_round_trips_through_the_store(pipeline: Container) -> None:
    # GIVEN a state item as the code before the typed records wrote it
    old_meters = json.loads(OLD_ITEM.read_text())["meters"]
    co, gw = f"co-{uuid.uuid4().hex[:8]}", "gw-old"
    written_at = datetime(2025, 11, 20, 1, 5, tzinfo=UTC)
    GatewayState(
        keys.gateway_data_pk(co, gw),
        keys.GATEWAY_STATE_SK,
        company_id=co,
        gateway_id=gw,
        version=7,
        meters=old_meters,
        flags=["off:m-d", "silent"],
        updated_at=written_at,
    ).save()
    # WHEN the store reads it
    state = pipeline.telemetry.get_state(co, gw)
    # THEN it is typed, with its version and the bus's own flags
    assert (state.version, state.flags) == (7, frozenset({"silent", "off:m-d"}))
    assert state.meter("m-a").power == "off" and state.meter("m-b").never_settled
    # WHEN it is written back unchanged but for one meter's flags
    m_d = replace(state.meter("m-d"), flags=frozenset({"rev"}))
    saved = pipeline.telemetry.save_state(state.with_meters({"m-d": m_d}), written_at)
    # THEN the item holds the same meters in the short form, and the next version
    item = GatewayState.get(keys.gateway_data_pk(co, gw), keys.GATEWAY_STATE_SK)
    assert (saved.version, int(item.version)) == (8, 8)
    assert decode_meters(item.meters) == {**decode_meters(old_meters), "m-d": m_d}
    assert item.meters == {**encode_meters(decode_meters(old_meters)), "m-d": {"fl": ["rev"]}}
    assert item.meters["m-a"]["pend"] == old_meters["m-a"]["pend"]["at"]
    assert item.flags == ["off:m-d", "silent"]
