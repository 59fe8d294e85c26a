"""The control-state codec: every field has its compact key, items written before the
typed records existed (or before the short form) read back unchanged, and any record
round-trips through the short form, which is never longer."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.data.control_state import (
    MeterControlState,
    PendingCommand,
    decode_meter,
    decode_meters,
    encode_meter,
    encode_meters,
)
from chalicelib.data.errors import InvalidControlStateError

if TYPE_CHECKING:
    from chalicelib.domain.prepaid import PowerState

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
    # AND written back in the short form, it reads back as the same records, shorter
    written = encode_meters(meters)
    assert decode_meters(json.loads(json.dumps(written))) == meters
    assert len(json.dumps(written)) < len(json.dumps(stored))
    assert written["m-a"]["pend"] == 1763600581000  # its own command, sent once: the time
    assert "cut" not in written["m-b"] and "use" not in written["m-b"]
    assert "cut" not in written["m-c"] and written["m-c"]["man"] == "off"


def test_the_short_pending_form_is_the_meters_own_command_sent_once() -> None:
    own = PendingCommand(EVERY_FIELD.command_id or "", SENT_AT, SENT_AT, 1)
    state = replace(EVERY_FIELD, pending=own)
    assert encode_meter(state)["pend"] == 1763600851999
    assert decode_meter(encode_meter(state)) == state
    # any other pending command keeps the object: another id, a retry, a later send
    for other in (
        replace(own, command_id="c-other"),
        replace(own, tries=2),
        replace(own, issued_at=ISSUED_AT),
    ):
        encoded = encode_meter(replace(state, pending=other))
        assert isinstance(encoded["pend"], dict)
        assert decode_meter(encoded).pending == other


_TIMES = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
).map(lambda at: at.replace(microsecond=0))  # ms() of a whole second is exact
_KWH = st.decimals(min_value=0, max_value=10**6, places=3)
_TEXT = st.text(min_size=1, max_size=8)


@st.composite
def states(draw: st.DrawFn) -> MeterControlState:
    command = draw(st.none() | st.sampled_from(["c1", "c2"]))
    sent = draw(_TIMES)
    pending = draw(
        st.none()
        | st.builds(
            PendingCommand,
            st.sampled_from(["c1", "c2"]),
            st.sampled_from([sent, sent - timedelta(seconds=30)]),
            st.just(sent),
            st.integers(1, 3),
        )
    )
    power = cast("PowerState | None", draw(st.none() | st.sampled_from(["on", "off"])))
    account = draw(st.none() | _TEXT)
    cursor = draw(st.none() | _TIMES)  # the cursor's fields are kept with a cursor only
    return MeterControlState(
        account_id=account,
        balance_minor=draw(st.integers(-(10**9), 10**9)) if account else 0,
        settled_kwh=draw(_KWH) if cursor else Decimal("0.000"),
        settled_at=cursor,
        tariff_position=draw(st.none() | st.just({"key": "flat/2025-11-01", "kwh": "1.000"}))
        if cursor
        else None,
        never_settled=draw(st.booleans()),
        power=power,
        reason=draw(st.none() | _TEXT) if power else None,
        command_id=command,
        cutoff_kwh=draw(st.none() | _KWH) if power else None,
        schedule_tag=draw(st.none() | _TEXT) if power else None,
        pending=pending,
        flags=draw(st.frozensets(st.sampled_from(["rev", "x"]))),
    )


def _long_form(state: MeterControlState) -> dict[str, Any]:
    """The object as the code before the short form wrote it (nulls and ``pend`` kept)."""
    out = encode_meter(state)
    if state.settled_at is not None:
        out["use"] = None if state.tariff_position is None else dict(state.tariff_position)
    if state.power is not None:
        out["rs"] = state.reason
        out["cut"] = encode_meter(state).get("cut")
        out["fh"] = state.schedule_tag
    if state.pending is not None:
        out["pend"] = {
            "cmd": state.pending.command_id,
            "at": int(state.pending.sent_at.timestamp() * 1000),
            "iss": int(state.pending.issued_at.timestamp() * 1000),
            "tries": state.pending.tries,
        }
    return out


@settings(max_examples=300, deadline=None)
@given(states())
def test_any_state_round_trips_through_the_short_form_never_longer(
    state: MeterControlState,
) -> None:
    short = json.loads(json.dumps(encode_meter(state)))
    assert decode_meter(short) == state
    # the long form a stored item may hold reads as the same record
    assert decode_meter(json.loads(json.dumps(_long_form(state)))) == state
    assert len(json.dumps(short)) <= len(json.dumps(_long_form(state)))


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
        {"pend": 1763600581000},  # a pending command's time without a command
        {"pend": True, "cmd": "c1"},
        {"use": ["not", "an", "object"]},
    ],
)
def test_an_unreadable_value_is_refused_with_the_item(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidControlStateError):
        decode_meter(raw)
