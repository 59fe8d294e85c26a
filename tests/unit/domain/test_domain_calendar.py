import json
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import pytest

from chalicelib.domain import FriendlyHours, InvalidCalendarError
from tests.unit.domain.samples import TAIPEI

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "iot_rules/schemas/meter_shadow.v1.json").read_text()
)

NIGHTS_AND_WEEKENDS = FriendlyHours.build(
    TAIPEI,
    weekly=[(d, "00:00", "08:00") for d in range(5)]
    + [(d, "18:00", "24:00") for d in range(5)]
    + [(5, "00:00", "24:00"), (6, "00:00", "24:00")],
    holidays=[date(2026, 2, 28)],
)


@pytest.mark.parametrize(
    ("utc_time", "friendly"),
    [
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), False),  # Mon 09:00 Taipei
        (datetime(2026, 3, 2, 9, 59, tzinfo=UTC), False),  # Mon 17:59 Taipei
        (datetime(2026, 3, 2, 10, 0, tzinfo=UTC), True),  # Mon 18:00 Taipei (start inclusive)
        (datetime(2026, 3, 1, 3, 0, tzinfo=UTC), True),  # Sun 11:00 Taipei
        (datetime(2026, 2, 28, 2, 0, tzinfo=UTC), True),  # holiday (a Saturday anyway)
        (datetime(2026, 2, 27, 23, 30, tzinfo=UTC), True),  # Sat 07:30 Taipei
    ],
)
def test_is_friendly_uses_the_property_zone(utc_time, friendly):
    assert NIGHTS_AND_WEEKENDS.is_friendly(utc_time) is friendly


def test_window_end_is_exclusive_and_start_inclusive():
    # GIVEN Mon 00:00-08:00 Taipei WHEN at 08:00 local THEN not friendly; at 07:59 it is
    assert NIGHTS_AND_WEEKENDS.is_friendly(datetime(2026, 3, 2, 0, 0, tzinfo=UTC)) is False
    assert NIGHTS_AND_WEEKENDS.is_friendly(datetime(2026, 3, 1, 23, 59, tzinfo=UTC)) is True
    # a dated holiday on a weekday is friendly all day
    cal = FriendlyHours.build(TAIPEI, holidays=[date(2026, 3, 4)])
    assert cal.is_friendly(datetime(2026, 3, 4, 4, 0, tzinfo=UTC)) is True
    assert cal.is_friendly(datetime(2026, 3, 5, 4, 0, tzinfo=UTC)) is False


def test_to_shadow_is_exactly_the_schema_friendly_object_and_round_trips():
    shadow = NIGHTS_AND_WEEKENDS.to_shadow()
    jsonschema.validate(shadow, {**SCHEMA, "$ref": "#/$defs/friendly"})
    assert shadow["weekly"][0] == [0, "00:00", "08:00"]
    assert shadow["holidays"] == ["2026-02-28"]
    assert FriendlyHours.from_shadow(shadow) == NIGHTS_AND_WEEKENDS


@pytest.mark.parametrize(
    "build",
    [
        lambda: FriendlyHours.build("Mars/Olympus"),
        lambda: FriendlyHours.build(TAIPEI, weekly=[(7, "00:00", "01:00")]),
        lambda: FriendlyHours.build(TAIPEI, weekly=[(0, "22:00", "06:00")]),
        lambda: FriendlyHours.build(TAIPEI, weekly=[(0, "24:00", "24:00")]),
        lambda: FriendlyHours.build(TAIPEI, weekly=[(0, "7:00", "08:00")]),
        lambda: FriendlyHours.build(TAIPEI, weekly=[(0, "00:00", "01:00")] * 65),
        lambda: FriendlyHours.build(
            TAIPEI,
            holidays=[date(2026, 1, 1)] * 1
            + [date.fromordinal(date(2026, 1, 1).toordinal() + i) for i in range(401)],
        ),
    ],
)
def test_malformed_calendars_are_refused(build):
    with pytest.raises(InvalidCalendarError):
        build()


def test_naive_instant_is_refused():
    with pytest.raises(InvalidCalendarError):
        NIGHTS_AND_WEEKENDS.is_friendly(datetime(2026, 3, 2, 1, 0))
