"""Time-of-use: which band a local instant falls in, and band energy from intervals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.domain.allocation import allocate_units
from chalicelib.domain.calendar import parse_hhmm, zone
from chalicelib.domain.consumption import Interval
from chalicelib.domain.energy import ZERO_KWH, from_milli, to_milli
from chalicelib.domain.errors import InvalidReadingError
from chalicelib.domain.tariffs import DAY_KINDS, TouTariff, TouWindow

MAX_PIECES_PER_INTERVAL = 10_000
_ONE_MINUTE = timedelta(minutes=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_ONE_SECOND = timedelta(seconds=1)


def day_kind(tariff: TouTariff, local: datetime) -> str:
    """'holiday' for the tariff's holidays, else the weekday ('mon'..'sun')."""
    if local.date() in tariff.holidays:
        return "holiday"
    return DAY_KINDS[local.weekday()]


def window_at(tariff: TouTariff, local: datetime) -> TouWindow:
    """The window covering a local wall-clock instant (validation guarantees exactly one)."""
    kind = day_kind(tariff, local)
    minute = local.hour * 60 + local.minute
    for window in tariff.windows:
        if kind in window.days and parse_hhmm(window.start) <= minute < parse_hhmm(window.end):
            return window
    raise InvalidReadingError(f"no window covers {local}")  # unreachable once validated


def band_at(tariff: TouTariff, at: datetime, tz: str) -> str:
    if at.utcoffset() is None:
        raise InvalidReadingError("band_at needs a timezone-aware datetime")
    return window_at(tariff, at.astimezone(zone(tz))).band


def _before_offset_change(start: datetime, end: datetime, tzinfo: ZoneInfo) -> datetime:
    """`end`, or the first instant after `start` where the zone's UTC offset changes.

    Wall-clock windows repeat or skip when clocks change; re-evaluating the band at the change
    prices the repeated hour by its wall-clock time again.
    """
    offset = start.astimezone(tzinfo).utcoffset()
    if (end - _ONE_MICROSECOND).astimezone(tzinfo).utcoffset() == offset:
        return end
    low, high = start, end  # offset(low) == offset(start) != offset(high - 1us)
    while high - low > _ONE_SECOND:
        middle = low + (high - low) / 2
        if middle.astimezone(tzinfo).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return high


def band_pieces(
    tariff: TouTariff, start: datetime, end: datetime, tz: str
) -> list[tuple[str, timedelta]]:
    """Cut [start, end) at window boundaries (local time) into (band, duration) pieces."""
    tzinfo = zone(tz)
    pieces: list[tuple[str, timedelta]] = []
    cursor = start.astimezone(UTC)
    stop = end.astimezone(UTC)
    while cursor < stop:
        if len(pieces) >= MAX_PIECES_PER_INTERVAL:
            raise InvalidReadingError("interval spans too many time-of-use windows")
        local = cursor.astimezone(tzinfo)
        window = window_at(tariff, local)
        end_minute = parse_hhmm(window.end)
        day = local.date() + timedelta(days=end_minute // (24 * 60))
        minute = end_minute % (24 * 60)
        boundary = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tzinfo)
        boundary_utc = boundary.astimezone(UTC)
        if boundary_utc <= cursor:
            # A wall-clock boundary inside a DST fold can map before the cursor; step past it.
            boundary_utc = cursor + _ONE_MINUTE
        piece_end = _before_offset_change(cursor, min(boundary_utc, stop), tzinfo)
        pieces.append((window.band, piece_end - cursor))
        cursor = piece_end
    return pieces


def tou_band_energy(
    tariff: TouTariff, intervals: Sequence[Interval], tz: str
) -> dict[str, Decimal]:
    """Energy per band: each chargeable interval's energy split by time spent in each band.

    The split is exact to the Wh (largest remainder), so the bands sum to the intervals' total.
    """
    totals = {band.name: ZERO_KWH for band in tariff.bands}
    for interval in intervals:
        if not interval.charges or interval.energy_kwh == 0:
            continue
        pieces = band_pieces(tariff, interval.start.at, interval.end.at, tz)
        weights = [duration // _ONE_MICROSECOND for _, duration in pieces]
        shares = allocate_units(to_milli(interval.energy_kwh), weights)
        for (band, _), share in zip(pieces, shares, strict=True):
            totals[band] = from_milli(to_milli(totals[band]) + share)
    return totals
