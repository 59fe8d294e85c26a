"""The stretch of time a tenancy owns: from the move-in reading to the move-out reading.

A same-day changeover (tenant A moves out at 11:40, tenant B moves in at 11:40) must
show each tenant only their own part of that day. So a tenancy's edges are instants
(``Tenancy.starts_at`` / ``ends_at``: the timestamp of the reading the move was made
on, or the instant staff recorded it), and everything that happened at an instant
``t`` (a relay command, a note, a reading that ends a consumption interval) belongs
to the tenancy whose window holds ``t``:

    start < t <= end

Right-closed, because the changeover reading is the *last* reading the leaving tenant
pays for: the interval that ends on it is theirs, the next one is the newcomer's. So
each instant, and each kWh, belongs to exactly one of two adjacent tenancies.

Tenancies stored before instants existed have only dates: such a start is local
midnight of its first day and such an end local midnight after its last day, as the
views clipped them before (both tenants of a date-only same-day changeover still see
that day whole: only a move recorded with an instant can split it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from .calendar import local_midnight
from .consumption import Reading, consumption_intervals
from .energy import ZERO_KWH


@dataclass(frozen=True)
class TenancyWindow:
    """(start, end] in UTC; ``None``: open on that side (staff's whole history, or a
    tenancy that has not ended)."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, at: datetime) -> bool:
        return (self.start is None or at > self.start) and (self.end is None or at <= self.end)

    def covers(self, first: datetime, last: datetime) -> bool:
        """Every instant of [first, last) is inside (``last`` excluded: a bucket's end)."""
        return (self.start is None or first > self.start) and (self.end is None or last <= self.end)

    def misses(self, first: datetime, last: datetime) -> bool:
        """No instant of [first, last) is inside."""
        return (self.end is not None and first > self.end) or (
            self.start is not None and last <= self.start + timedelta(milliseconds=1)
        )

    @property
    def unbounded(self) -> bool:
        return self.start is None and self.end is None


OPEN = TenancyWindow()


def window_of(
    time_zone: str,
    starts_on: str,
    starts_at: datetime | None = None,
    ends_on: str | None = None,
    ends_at: datetime | None = None,
) -> TenancyWindow:
    """A tenancy's window from its stored fields: the instants when recorded, else the
    dates (local midnight of the first day; local midnight after the last day)."""
    start = starts_at or local_midnight(date.fromisoformat(starts_on), time_zone)
    end = ends_at
    if end is None and ends_on:
        end = local_midnight(date.fromisoformat(ends_on) + timedelta(days=1), time_zone)
    return TenancyWindow(start.astimezone(UTC), end.astimezone(UTC) if end else None)


def energy_in_window(
    readings: Sequence[Reading], first: datetime, last: datetime, window: TenancyWindow
) -> Decimal:
    """The energy of the intervals that end in [first, last) and inside ``window``: a
    15-minute bucket's share of one tenancy, split at the changeover reading
    (``readings``: the meter's readings in time order, the one before ``first`` included,
    so the bucket's first interval has its start)."""
    return Decimal(
        sum(
            (
                i.energy_kwh
                for i in consumption_intervals(readings)
                if i.charges and first <= i.end.at < last and window.holds(i.end.at)
            ),
            ZERO_KWH,
        )
    )
