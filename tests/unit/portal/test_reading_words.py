"""A held reading's evidence in words (web/reading_words.py): the sentence per reason,
the durations' units and plurals, the property's clock, both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.application.reading_views import HeldEntry
from chalicelib.web.i18n import Translator
from chalicelib.web.reading_words import elapsed, evidence

AT = datetime(2026, 11, 20, 18, 41, tzinfo=UTC)  # 02:41 the next day in Taipei
TZ = "Asia/Taipei"


def held(reason: str, **evidence_: object) -> HeldEntry:
    values: dict[str, object] = {
        "read_at": AT,
        "reading_kwh": "0.000",
        "reason": reason,
        "status": "held",
        "run": 1,
        "anchor_kwh": "100.500",
        "anchor_at": AT - timedelta(minutes=1),
        "energy_kwh": None,
        "limit_kwh": None,
        "watts": None,
    }
    values.update(evidence_)
    return HeldEntry(**values)  # type: ignore[arg-type]


def test_a_backwards_reading_names_the_last_good_one_on_the_property_clock() -> None:
    words = evidence(Translator("en"), held("backwards"), TZ)
    assert words == "Held: 0.000 kWh is below the last good reading 100.500 kWh (02:40)."


def test_a_last_good_reading_of_another_day_gets_its_date() -> None:
    entry = held("backwards", anchor_at=AT - timedelta(days=2))
    assert "(Nov 19, 2026, 2:41:00" in evidence(Translator("en"), entry, TZ)


def test_a_spike_says_how_much_in_how_long_and_the_most_the_meter_can_pass() -> None:
    entry = held("spike", reading_kwh="150.500", energy_kwh="50.000", limit_kwh="0.331")
    assert (
        evidence(Translator("en"), entry, TZ)
        == "Held: +50.000 kWh in 1 minute; this meter can pass at most 0.331 kWh."
    )
    assert (
        evidence(Translator("zh_TW"), entry, TZ)
        == "暫扣：1 分鐘內增加 50.000 度；此電表最多只能通過 0.331 度。"
    )


def test_clock_holds_say_which_clock_problem() -> None:
    ahead = evidence(Translator("en"), held("clock", anchor_kwh=None, anchor_at=None), TZ)
    assert ahead.startswith("Held: stamped Nov 21, 2026") and "runs ahead" in ahead
    order = evidence(Translator("en"), held("clock", anchor_at=AT + timedelta(seconds=5)), TZ)
    assert "not after the last good reading 100.500 kWh (02:41)" in order


@pytest.mark.parametrize(
    ("delta", "en", "zh"),
    [
        (timedelta(seconds=1), "1 second", "1 秒"),
        (timedelta(seconds=59), "59 seconds", "59 秒"),
        (timedelta(seconds=60, milliseconds=900), "1 minute", "1 分鐘"),
        (timedelta(minutes=119), "119 minutes", "119 分鐘"),
        (timedelta(hours=2), "2 hours", "2 小時"),
        (timedelta(hours=47, minutes=59), "47 hours", "47 小時"),
        (timedelta(days=3, hours=5), "3 days", "3 天"),
        (timedelta(seconds=-3), "0 seconds", "0 秒"),
    ],
)
def test_durations_in_their_largest_readable_unit(delta: timedelta, en: str, zh: str) -> None:
    assert elapsed(Translator("en"), delta) == en
    assert elapsed(Translator("zh_TW"), delta) == zh
