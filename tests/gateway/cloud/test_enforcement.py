"""Offline cutoff decisions and the friendly-hours schedule carried in the shadow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meter_gateway.enforcement import RelayStateStore, judge, parse_desired
from meter_gateway.errors import ShadowDocumentError, StateStoreError

# 2026-11-27 is a Friday (weekday 4).
FRIDAY_UTC_1000 = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def _desired(kwh="100.000", weekly=(), holidays=(), tz="Europe/Berlin", power="on"):
    return parse_desired(
        {
            "power": power,
            "reason": "credit_ok",
            "cmd": "c1",
            "cutoff": {
                "kwh": kwh,
                "friendly": {
                    "tz": tz,
                    "weekly": [list(w) for w in weekly],
                    "holidays": list(holidays),
                },
            },
        }
    )


def test_a_manual_on_with_an_end_keeps_power_on_until_then_only():
    # GIVEN a manual "on" until Friday 11:00 UTC, past its cutoff already
    until = int((FRIDAY_UTC_1000 + dt.timedelta(hours=1)).timestamp())
    desired = parse_desired(
        {**_desired().model_dump(mode="json"), "reason": "manual_on", "until": until}
    )
    # WHEN it is before the end THEN no cut, whatever the reading
    assert judge(desired, Decimal("500"), FRIDAY_UTC_1000).why == "manual_on_until"
    # AND from the end on the cutoff is enforced again
    assert judge(desired, Decimal("500"), FRIDAY_UTC_1000 + dt.timedelta(hours=1)).cut
    # AND an end that is not whole seconds is refused (the contract's integer)
    with pytest.raises(ShadowDocumentError):
        parse_desired({**desired.model_dump(mode="json"), "until": "soon"})


def test_cuts_at_the_cutoff_outside_friendly_hours():
    # GIVEN a cutoff at 100 kWh and no friendly window
    desired = _desired()
    # WHEN the meter reads exactly the cutoff THEN the gateway cuts
    assert judge(desired, Decimal("100.000"), FRIDAY_UTC_1000).cut
    # AND one Wh below it does not
    assert judge(desired, Decimal("99.999"), FRIDAY_UTC_1000).why == "below_cutoff"


def test_friendly_window_is_read_in_the_property_time_zone():
    # GIVEN Friday 10:30-12:00 friendly in Berlin (UTC+1 in November)
    desired = _desired(weekly=[(4, "10:30", "12:00")])
    # WHEN it is 10:00 UTC = 11:00 Berlin THEN no cut
    assert judge(desired, Decimal("200"), FRIDAY_UTC_1000).why == "friendly_hours"
    # AND at 11:00 UTC = 12:00 Berlin the window has ended (end is exclusive)
    assert judge(desired, Decimal("200"), FRIDAY_UTC_1000 + dt.timedelta(hours=1)).cut


def test_a_window_to_24_00_covers_the_last_minute_of_the_day():
    desired = _desired(weekly=[(4, "18:00", "24:00")], tz="UTC")
    assert judge(desired, Decimal("200"), dt.datetime(2026, 11, 27, 23, 59, tzinfo=dt.UTC)).why == (
        "friendly_hours"
    )
    assert judge(desired, Decimal("200"), dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)).cut


def test_a_holiday_is_friendly_all_day_in_local_time():
    # GIVEN 27 Nov a holiday in Auckland (UTC+13): 10:00 UTC Friday is already the 27th there
    desired = _desired(holidays=["2026-11-27"], tz="Pacific/Auckland")
    assert judge(desired, Decimal("200"), FRIDAY_UTC_1000).why == "friendly_hours"
    # AND 11:00 UTC is 28 Nov 00:00 there: the holiday is over
    assert judge(desired, Decimal("200"), FRIDAY_UTC_1000 + dt.timedelta(hours=1)).cut


def test_an_unknown_time_zone_fails_safe_by_never_cutting():
    desired = _desired(tz="Mars/Olympus_Mons")
    assert judge(desired, Decimal("200"), FRIDAY_UTC_1000).why == "friendly_hours"


def test_no_cutoff_or_power_off_never_cuts():
    assert not judge(None, Decimal("1e6"), FRIDAY_UTC_1000).cut
    no_cutoff = parse_desired({"power": "on", "reason": "postpaid", "cmd": "c", "cutoff": None})
    assert judge(no_cutoff, Decimal("1e6"), FRIDAY_UTC_1000).why == "no_cutoff"
    assert judge(_desired(power="off"), Decimal("1e6"), FRIDAY_UTC_1000).why == "already_off"


@pytest.mark.parametrize(
    "bad",
    [
        {"power": "maybe", "reason": "r", "cmd": "c"},
        {"power": "on", "reason": "r"},
        {"power": "on", "reason": "r", "cmd": "c", "cutoff": {"kwh": 12.5, "friendly": None}},
        {"power": "on", "reason": "r", "cmd": "c", "extra": 1},
    ],
)
def test_a_desired_state_outside_the_contract_is_refused_with_the_field(bad):
    with pytest.raises(ShadowDocumentError, match=r"desired state rejected: "):
        parse_desired(bad)


def test_a_weekday_or_time_outside_the_contract_is_refused():
    with pytest.raises(ShadowDocumentError, match="weekly"):
        _desired(weekly=[(7, "10:00", "11:00")])
    with pytest.raises(ShadowDocumentError, match="weekly"):
        _desired(weekly=[(1, "25:00", "26:00")])


@given(
    cutoff=st.decimals(min_value=0, max_value=10**6, places=3),
    reading=st.decimals(min_value=0, max_value=10**6, places=3),
    minutes=st.integers(0, 60 * 24 * 14),
)
def test_never_cuts_below_the_cutoff_nor_inside_an_all_week_window(cutoff, reading, minutes):
    at = FRIDAY_UTC_1000 + dt.timedelta(minutes=minutes)
    all_week = [(d, "00:00", "24:00") for d in range(7)]
    assert not judge(_desired(kwh=str(cutoff), weekly=all_week), reading, at).cut
    plain = judge(_desired(kwh=str(cutoff)), reading, at)
    assert plain.cut == (reading >= cutoff)


def test_the_relay_state_store_survives_a_reload(tmp_path):
    # GIVEN a store with a desired state and a local cut, saved
    store = RelayStateStore(tmp_path / "state" / "relay_state.json")
    record = store.get("m1")
    record.desired = {"power": "on", "reason": "credit_ok", "cmd": "c9", "cutoff": None}
    record.local_cut_cmd = "c9"
    store.save()
    # WHEN a new process loads it THEN everything is back
    again = RelayStateStore(tmp_path / "state" / "relay_state.json")
    again.load()
    assert again.get("m1") == record


def test_a_damaged_state_file_is_reported_not_guessed(tmp_path):
    path = tmp_path / "relay_state.json"
    path.write_text("{not json")
    with pytest.raises(StateStoreError, match=r"relay_state\.json"):
        RelayStateStore(path).load()
