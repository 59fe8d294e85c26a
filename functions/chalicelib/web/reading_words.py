"""A held reading's evidence in words, in the reader's language, on the property's clock:
"Held: 0.000 kWh is below the last good reading 100.500 kWh (02:40)."

The numbers are the stored evidence (``application/reading_views.py`` ``HeldEntry``);
only the sentence is chosen here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..application.reading_views import HeldEntry
from .i18n import Translator


def evidence(tr: Translator, e: HeldEntry, tz: str) -> str:
    if e.reason == "backwards" and e.anchor_kwh is not None and e.anchor_at is not None:
        return tr.t(
            "held_backwards",
            reading=tr.kwh(e.reading_kwh),
            anchor=tr.kwh(e.anchor_kwh),
            at=when(tr, e.anchor_at, e.read_at, tz),
        )
    if e.reason == "spike" and e.energy_kwh and e.limit_kwh and e.elapsed is not None:
        return tr.t(
            "held_spike",
            energy=tr.kwh(e.energy_kwh),
            elapsed=elapsed(tr, e.elapsed),
            limit=tr.kwh(e.limit_kwh),
        )
    if e.reason == "clock":
        if e.anchor_kwh is not None and e.anchor_at is not None and e.read_at <= e.anchor_at:
            return tr.t(
                "held_clock_order",
                at=tr.datetime(e.read_at, tz),
                anchor=tr.kwh(e.anchor_kwh),
                anchor_at=when(tr, e.anchor_at, e.read_at, tz),
            )
        return tr.t("held_clock_future", at=tr.datetime(e.read_at, tz))
    if e.reason == "frozen" and e.drawn_kwh and e.limit_kwh and e.watts is not None:
        return tr.t(
            "held_frozen",
            reading=tr.kwh(e.reading_kwh),
            watts=tr.number(int(float(e.watts))),
            drawn=tr.kwh(e.drawn_kwh),
            limit=tr.kwh(e.limit_kwh),
        )
    if e.reason == "serial_changed" and e.serial:
        return tr.t("held_serial", serial=e.serial, known=e.known_serial or "?")
    return tr.t("held_unknown", reason=e.reason)  # evidence missing (older items)


def when(tr: Translator, at: datetime, beside: datetime, tz: str) -> str:
    """Only the time when it is the same local day as ``beside``; else date and time."""
    zone = ZoneInfo(tz)
    if at.astimezone(zone).date() == beside.astimezone(zone).date():
        return tr.time(at, tz)
    return tr.datetime(at, tz)


def elapsed(tr: Translator, delta: timedelta) -> str:
    """A duration in its largest whole unit that still reads exactly enough: seconds under a
    minute, minutes under two hours, hours under two days, then days."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return tr.plural("elapsed_seconds", seconds, n=tr.number(seconds))
    if seconds < 2 * 3600:
        minutes = seconds // 60
        return tr.plural("elapsed_minutes", minutes, n=tr.number(minutes))
    if seconds < 2 * 86400:
        hours = seconds // 3600
        return tr.plural("elapsed_hours", hours, n=tr.number(hours))
    days = seconds // 86400
    return tr.plural("day_count", days, days=tr.number(days))
