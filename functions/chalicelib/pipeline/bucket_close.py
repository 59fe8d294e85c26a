"""The readings a closing bucket's energy needs, from one newest-first read of its cycles.

A bucket's energy per meter (buckets.py ``bucket_energy``) is the chain of consumption
intervals whose end lies in the bucket, each starting from the meter's reading before
it. Over time-sorted readings the chain's base on entering the bucket is the *first* of
the meter's latest readings before the bucket (a later one at the same instant is out of
order and never becomes the base), and readings after the bucket end no interval in it.
So the energy is exactly that of the series ``[base, *the bucket's readings]``; every
other reading of the window (the bucket before, mostly) is decoded only to compare its
time. Where the window holds no reading before the bucket for a meter (the bus or the
meter was silent), the base is the meter's reading in the newest older cycle that has
one, as before (``BASE_SEARCH_*``), inserted in front unsorted as before.

``BucketReads`` consumes the cycles of [window start - BASE_SEARCH_SPAN, bucket end)
newest first, as ``TelemetryStore.cycle_rows_back`` pages them, and stops as soon as it
knows every base: on the steady path that is the first page (the window and a couple of
cycles below it), so a bus whose bucket before is empty (a new or returning bus) needs
no second Query. docs/pipeline.md, "Closing a bucket", says why this shape; the
property test (tests/unit/pipeline/test_bucket_close.py) holds it to the old
computation, kept there as the oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ..data.control_state import from_ms, ms
from ..domain import Reading
from ..domain.energy import KWH_QUANTUM, MAX_KWH, ZERO_KWH, format_kwh
from .buckets import BUCKET

# How far back a bucket looks for the reading its first interval starts from after a
# gap. A whole bus's outage is found in the first page (the cycle before the gap read
# every meter); only one meter silent while its bus speaks, or a meter's very first
# reading (no base anywhere), pages further, so the search is capped at 15 pages of 8
# (about two hours of one-minute cycles) rather than a day of them (188 requests for a
# new meter's first bucket, on ingest's path).
BASE_SEARCH_SPAN = timedelta(days=1)
BASE_SEARCH_PAGE = 8
BASE_SEARCH_CYCLES = 15 * BASE_SEARCH_PAGE
# The window's cycles read at most (as ``TelemetryStore.cycles_between``'s limit was):
# the oldest ones are kept, as its ascending read kept them.
MAX_WINDOW_CYCLES = 2000
# The first page is sized from the bus's poll (the gap between its last two cycles):
# the window's cycles at that rate, plus WINDOW_SLACK for jitter and a late duplicate;
# a shorter gap than MIN_POLL (a replayed burst) is taken as MIN_POLL, so one odd pair
# never asks for a day of cycles.
WINDOW_SLACK = 2
MIN_POLL = timedelta(seconds=5)
DEFAULT_POLL = timedelta(seconds=10)  # the recipe's default, when there is no gap to go by
_BUCKET_MS = int(BUCKET.total_seconds() * 1000)

Row = list[Any]
Point = tuple[int, Decimal]  # a reading as the chain needs it: unix ms, kWh as Reading holds it


def first_page(poll: timedelta | None) -> int:
    """Items of the first page: the window [start - 15 min, start + 15 min) at ``poll``."""
    step = max(poll or DEFAULT_POLL, MIN_POLL)
    return min(-(-2 * BUCKET // step) + WINDOW_SLACK, MAX_WINDOW_CYCLES)


def _usable(row: Row) -> bool:
    """``MeterRow.usable`` of a stored compact row: read, no error, not held."""
    return row[2] is not None and not row[6] and (len(row) < 8 or row[7] is None)


def _point(cycle_ms: int, row: Row) -> Point:
    """The row's import reading: its time as ``MeterRow.from_compact`` makes it, in ms (a
    cycle's time is whole ms, so the order is the datetimes'), and its kWh as ``Reading``
    quantizes it. A value Reading would refuse is refused the same way."""
    value = Decimal(row[2])
    if not (value.is_finite() and ZERO_KWH <= value <= MAX_KWH):
        _reading((cycle_ms + int(row[1]), value))  # raises InvalidReadingError
    return cycle_ms + int(row[1]), value.quantize(KWH_QUANTUM, ROUND_HALF_EVEN)


def _reading(point: Point) -> Reading:
    return Reading(from_ms(point[0]), point[1])


def chain_energy(series: list[Point], start_ms: int, end_ms: int) -> str | None:
    """``bucket_energy`` of one meter's series (``consumption_intervals`` with no register
    change, as ingest's readings never carry one), without an Interval or a Reading: the
    intervals whose end is in [start, end) summed where they charge (forward, not back nor
    out of order); None where the meter has no reading in it (an interval's end is one)."""
    base_at, base_kwh = series[0]
    total = ZERO_KWH
    for at, value in series[1:]:
        if at <= base_at:
            continue  # out of order, or the base again: charges nothing, the base stays
        if start_ms <= at < end_ms and value >= base_kwh:  # below the base: backwards
            total += value - base_kwh  # both to 3 places: kwh() of the difference is itself
        base_at, base_kwh = at, value
    if any(start_ms <= at < end_ms for at, _ in series):
        return format_kwh(total)
    return None


class BucketReads:
    """One bucket's readings (per meter, the series whose intervals give its energy) and
    stored cycle count (``stored``), from its cycles newest first."""

    def __init__(self, start: datetime, window_page: int) -> None:
        self.start = start
        self._start_ms = ms(start)
        self._end_ms = self._start_ms + _BUCKET_MS
        self._low_ms = self._start_ms - _BUCKET_MS  # the window's first cycle time
        self._window_page = window_page
        self._searching = False
        self.series: dict[str, list[Point]] = {}
        self.stored = 0

    def energy(self) -> dict[str, str]:
        """Energy per meter in the bucket, as ``buckets.bucket_energy`` gives it."""
        energy: dict[str, str] = {}
        for meter, series in self.series.items():
            found = chain_energy(series, self._start_ms, self._end_ms)
            if found is not None:
                energy[meter] = found
        return energy

    def readings(self) -> dict[str, list[Reading]]:
        """The series as Readings (what ``bucket_energy`` takes)."""
        return {m: [_reading(p) for p in series] for m, series in self.series.items()}

    def page_size(self) -> int:
        """The next page's size: the window's estimate, then the base search's pages."""
        return BASE_SEARCH_PAGE if self._searching else self._window_page

    def read(self, cycles_newest_first: Iterable[tuple[int, Row]]) -> BucketReads:
        """Consume the cycles of [start - 15 min - BASE_SEARCH_SPAN, start + 15 min),
        newest first, only as far as needed."""
        cycles = iter(cycles_newest_first)
        window: list[tuple[int, list[Row]]] = []
        older: tuple[int, list[Row]] | None = None
        for cycle_ms, rows in cycles:
            if cycle_ms < self._low_ms:
                older = (cycle_ms, rows)
                break
            window.append((cycle_ms, rows))
        window.reverse()  # oldest first: the order the old ascending read saw
        missing = self._window(window[:MAX_WINDOW_CYCLES])
        if missing and older is not None:
            self._searching = True
            self._find_bases(missing, _chain(older, cycles))
        return self

    def _window(self, window: list[tuple[int, list[Row]]]) -> set[str]:
        """Each meter's base and bucket readings from the window (oldest first); the meters
        that read in the window but not before the bucket (their base is further back)."""
        start_ms, end_ms = self._start_ms, self._end_ms
        # meter -> (time, cycle ms, row) of its base candidate: strictly later replaces,
        # so of equal times the first in the old order stays (a stable sort's first)
        bases: dict[str, tuple[int, int, Row]] = {}
        inside: dict[str, list[tuple[int, int, Row]]] = {}
        seen: set[str] = set()
        for cycle_ms, rows in window:
            if cycle_ms // _BUCKET_MS * _BUCKET_MS == start_ms:
                self.stored += 1
            for row in rows:
                if row[2] is None or row[6] or (len(row) > 7 and row[7] is not None):
                    continue  # not _usable (inline: ~6,000 rows a bucket at 10 s polling)
                meter = row[0]
                at_ms = cycle_ms + int(row[1])
                if at_ms < start_ms:
                    known = bases.get(meter)
                    if known is None or at_ms > known[0]:
                        bases[meter] = (at_ms, cycle_ms, row)
                elif at_ms < end_ms:
                    inside.setdefault(meter, []).append((at_ms, cycle_ms, row))
                else:
                    seen.add(meter)  # after the bucket: no interval of it ends inside
        for meter, found in inside.items():
            found.sort(key=lambda f: f[0])  # stable: equal times keep the read order
            series = [_point(cycle_ms, row) for _, cycle_ms, row in found]
            base = bases.get(meter)
            if base is not None:
                series.insert(0, _point(base[1], base[2]))
            self.series[meter] = series
        # A meter with no reading before the bucket searches further back, as it did
        # (one read only after the bucket included: its base alone may fall inside).
        return {m for m in seen | inside.keys() if m not in bases}

    def _find_bases(self, missing: set[str], older: Iterator[tuple[int, list[Row]]]) -> None:
        """Newest first, the first older cycle that read each missing meter gives its base
        (its latest usable reading in that cycle), within BASE_SEARCH_CYCLES cycles."""
        for n, (cycle_ms, rows) in enumerate(older):
            if n >= BASE_SEARCH_CYCLES:
                return
            found: dict[str, tuple[int, Row]] = {}
            for row in rows:
                meter = row[0]
                if meter in missing and _usable(row):
                    at_ms = cycle_ms + int(row[1])
                    known = found.get(meter)
                    if known is None or at_ms >= known[0]:  # a stable sort's last
                        found[meter] = (at_ms, row)
            for meter, (_, row) in found.items():
                self.series.setdefault(meter, []).insert(0, _point(cycle_ms, row))
                missing.discard(meter)
            if not missing:
                return


def _chain(
    first: tuple[int, list[Row]], rest: Iterator[tuple[int, list[Row]]]
) -> Iterator[tuple[int, list[Row]]]:
    yield first
    yield from rest
