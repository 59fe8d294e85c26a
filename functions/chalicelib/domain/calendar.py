"""Friendly hours: when an automatic (credit) disconnection must not happen."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.errors import InvalidCalendarError

# Limits taken from iot_rules/schemas/meter_shadow.v1.json (the gateway contract).
MAX_WEEKLY_WINDOWS = 64
MAX_HOLIDAYS = 400
MAX_TZ_CHARS = 64
HHMM_PATTERN = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
MINUTES_PER_DAY = 24 * 60


def parse_hhmm(value: str) -> int:
    """'HH:MM' (00:00..24:00) as minutes after local midnight."""
    if not isinstance(value, str) or not HHMM_PATTERN.match(value):
        raise InvalidCalendarError(f"time {value!r} is not HH:MM between 00:00 and 24:00")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def zone(tz: str) -> ZoneInfo:
    if not isinstance(tz, str) or not tz or len(tz) > MAX_TZ_CHARS:
        raise InvalidCalendarError(f"time zone {tz!r} must be a non-empty name <= 64 chars")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidCalendarError(f"unknown time zone {tz!r}") from exc


def local_midnight(day: date, tz: str) -> datetime:
    """The instant ``day`` begins on the wall clock of ``tz`` (aware, in that zone)."""
    return datetime.combine(day, time(0), zone(tz))


@dataclass(frozen=True)
class WeeklyWindow:
    """[start, end) on one weekday (0=Mon..6=Sun), local wall-clock time; start < end."""

    weekday: int
    start: str
    end: str

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise InvalidCalendarError("weekday must be an int 0..6")
        if not 0 <= self.weekday <= 6:
            raise InvalidCalendarError(f"weekday {self.weekday} not in 0..6 (0=Mon)")
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            # Overnight windows are two windows (e.g. Mon 22:00-24:00 + Tue 00:00-07:00) so the
            # gateway never has to guess which day a wrapped window belongs to.
            raise InvalidCalendarError(f"window start {self.start} must be before end {self.end}")

    def contains(self, weekday: int, minute_of_day: int) -> bool:
        return weekday == self.weekday and parse_hhmm(self.start) <= minute_of_day < parse_hhmm(
            self.end
        )


@dataclass(frozen=True)
class FriendlyHours:
    """Weekly windows plus whole dated holidays, in the property's time zone."""

    tz: str
    weekly: tuple[WeeklyWindow, ...] = ()
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        zone(self.tz)
        given = [w if isinstance(w, WeeklyWindow) else WeeklyWindow(*w) for w in self.weekly]
        if len(given) > MAX_WEEKLY_WINDOWS:
            raise InvalidCalendarError(f"more than {MAX_WEEKLY_WINDOWS} weekly windows")
        holidays = frozenset(self.holidays)
        if len(holidays) > MAX_HOLIDAYS:
            raise InvalidCalendarError(f"more than {MAX_HOLIDAYS} holidays")
        for day in holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise InvalidCalendarError(f"holiday {day!r} must be a date")
        # Order carries no meaning: keep one canonical order so equal calendars compare equal.
        windows = sorted(set(given), key=lambda w: (w.weekday, parse_hhmm(w.start), w.end))
        object.__setattr__(self, "weekly", tuple(windows))
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def build(
        cls,
        tz: str,
        weekly: Iterable[tuple[int, str, str]] = (),
        holidays: Iterable[date] = (),
    ) -> FriendlyHours:
        return cls(tz, tuple(WeeklyWindow(*w) for w in weekly), frozenset(holidays))

    def is_friendly(self, at: datetime) -> bool:
        """True when `at` falls on a holiday or inside a weekly window, in the property's zone."""
        if not isinstance(at, datetime) or at.utcoffset() is None:
            raise InvalidCalendarError("is_friendly needs a timezone-aware datetime")
        local = at.astimezone(zone(self.tz))
        if local.date() in self.holidays:
            return True
        minute = local.hour * 60 + local.minute
        return any(w.contains(local.weekday(), minute) for w in self.weekly)

    def to_shadow(self) -> dict[str, object]:
        """Exactly the `friendly` object of meter_shadow.v1.json, in a stable order."""
        return {
            "tz": self.tz,
            "weekly": [[w.weekday, w.start, w.end] for w in self.weekly],
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
        }

    @classmethod
    def from_shadow(cls, data: Mapping[str, object]) -> FriendlyHours:
        try:
            tz = data["tz"]
            weekly = data["weekly"]
            holidays = data["holidays"]
        except KeyError as exc:
            raise InvalidCalendarError(f"friendly object lacks {exc}") from exc
        if not isinstance(tz, str) or not isinstance(weekly, list):
            raise InvalidCalendarError("friendly.tz must be a str and weekly a list")
        if not isinstance(holidays, list):
            raise InvalidCalendarError("friendly.holidays must be a list")
        windows: list[WeeklyWindow] = []
        for item in weekly:
            if not isinstance(item, list | tuple) or len(item) != 3:
                raise InvalidCalendarError(f"weekly window {item!r} must be [weekday, start, end]")
            windows.append(WeeklyWindow(item[0], item[1], item[2]))
        days: set[date] = set()
        for text in holidays:
            try:
                days.add(date.fromisoformat(str(text)))
            except ValueError as exc:
                raise InvalidCalendarError(f"holiday {text!r} is not YYYY-MM-DD") from exc
        return cls(tz, tuple(windows), frozenset(days))
