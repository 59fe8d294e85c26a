"""The control-state codec: every field has its compact key, and items written before the
typed records existed read back unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chalicelib.data.control_state import (
    MeterControlState,
    PendingCommand,
    decode_meter,
    decode_meters,
    encode_meter,
    encode_meters,
)
from chalicelib.data.errors import InvalidControlStateError

SETTLED_AT = datetime(2025, 11, 20, 1, 4, 0, 123000, tzinfo=UTC)
ISSUED_AT = datetime(2025, 11, 20, 1, 5, 1, 7000, tzinfo=UTC)
SENT_AT = datetime(2025, 11, 20, 1, 7, 31, 999000, tzinfo=UTC)

EVERY_FIELD = MeterControlState(
    account_id="a-u-a",
    balance_minor=-25,
    settled_kwh=Decimal("100.250"),
    settled_at=SETTLED_AT,
    tariff_position={"key": "seg/2025-01-01/2025-11-01", "kwh": "0.250"},
    never_settled=True,
    closed=True,
    power="off",
    reason="credit_exhausted",
    command_id="c1763600701007-0a1b2c",
    cutoff_kwh=Decimal("100.250"),
    schedule_tag="5f0e3c9a1b2d",
    manual="on",
    pending=PendingCommand("c1763600701007-0a1b2c", ISSUED_AT, SENT_AT, 2),
    flags=frozenset({"rev"}),
    local_cutoff_at=1763600700,
)
EVERY_KEY = {
    "acc": "a-u-a",
    "bal": -25,
    "sk": "100.250",
    "sa": 1763600640123,
    "use": {"key": "seg/2025-01-01/2025-11-01", "kwh": "0.250"},
    "new": 1,
    "x": 1,
    "pw": "off",
    "rs": "credit_exhausted",
    "cmd": "c1763600701007-0a1b2c",
    "cut": "100.250",
    "fh": "5f0e3c9a1b2d",
    "man": "on",
    "pend": {"cmd": "c1763600701007-0a1b2c", "at": 1763600851999, "iss": 1763600701007, "tries": 2},
    "fl": ["rev"],
    "local": 1763600700,
}

# As the code before the typed records wrote them (pipeline/control.py, settler.py and
# ingest.py of that time): items like these are in the table.
OLD_ITEM = Path(__file__).with_name("gateway_state_before_records.json")


def old_item_meters() -> dict[str, Any]:
    return dict(json.loads(OLD_ITEM.read_text())["meters"])


def test_every_field_has_its_compact_key_and_round_trips() -> None:
    encoded = encode_meter(EVERY_FIELD)
    assert encoded == EVERY_KEY
    assert decode_meter(json.loads(json.dumps(encoded))) == EVERY_FIELD


def test_an_item_written_in_the_old_format_reads_back_and_is_written_unchanged() -> None:
    # GIVEN the meters map of a GatewayState item as the JSON attribute stored it
    stored = old_item_meters()
    # WHEN it is read into records
    meters = decode_meters(stored)
    # THEN every key lands in its named field
    a = meters["m-a"]
    assert (a.account_id, a.balance_minor, a.settled_kwh) == (
        "a-u-a-1f2e3d4c",
        -25,
        Decimal("100.250"),
    )
    assert a.settled_at == datetime(2025, 11, 20, 1, 3, tzinfo=UTC)
    assert (a.power, a.reason, a.cutoff_kwh, a.flags) == (
        "off",
        "credit_exhausted",
        Decimal("100.250"),
        frozenset({"rev"}),
    )
    assert a.pending == PendingCommand(
        "c1763600581000-9f8e7d",
        datetime(2025, 11, 20, 1, 3, 1, tzinfo=UTC),
        datetime(2025, 11, 20, 1, 3, 1, tzinfo=UTC),
        1,
    )
    b = meters["m-b"]
    assert (b.never_settled, b.tariff_position, b.cutoff_kwh, b.schedule_tag) == (
        True,
        None,
        None,
        None,
    )
    c = meters["m-c"]
    assert (c.closed, c.manual, c.local_cutoff_at) == (True, "off", 1763600600)
    assert c.tariff_position == {
        "key": "tou/2025-11-01",
        "bands": {"off": "3.000", "peak": "4.500"},
    }
    assert meters["m-d"] == MeterControlState()
    # AND written back, the item is the same, key for key
    assert encode_meters(meters) == old_item_meters()


@pytest.mark.parametrize(
    "raw",
    [
        {"bal": 1.5},  # money is never a float
        {"bal": True},
        {"sk": 100.25},  # nor energy
        {"sk": "lots"},
        {"pw": "maybe"},
        {"sa": "yesterday"},
        {"pend": {"cmd": "c1"}},  # a pending command without its times
        {"use": ["not", "an", "object"]},
    ],
)
def test_an_unreadable_value_is_refused_with_the_item(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidControlStateError):
        decode_meter(raw)
