"""The readings a postpaid bill is made from, read at most once per gateway and run.

Only usable rows count (``MeterRow.usable``: read, no error, not quarantined by
validation): a quarantined reading is absent for closings, estimates and the
time-of-use shape alike. The searches of one period end are shared by every meter of
the gateway: a scan goes back (or forward) from the end once, remembering each meter's
first usable reading, and stops as soon as the meter asked for is found.

Time-of-use needs the shape of the month, not only its ends. A bill prices it from
every stored reading (the cycles), exactly as prepaid settlement does, while the
month's cycles are still kept (``EXACT_TOU_WITHIN``); after that from the 15-minute
buckets, which place each bucket's energy at the bucket's end. The buckets never
decide energy silently: when they hold more energy than the register rose (a reset or
a replaced meter in the period), the unit is held (``RegisterResetError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from ..data.models import GatewayUsage
from ..data.rows import GatewayCycleRow as GatewayCycle  # a stored cycle, as read
from ..data.telemetry_store import CYCLE_RETENTION, TelemetryStore
from ..domain import Reading, kwh
from .errors import RegisterResetError
from .telemetry import MeterRow, rows_of

# A reading this close before the period end is its closing ("actual").
CLOSING_WINDOW = timedelta(hours=2)
# A reading this soon after the end is interpolated from; none yet: the end is estimated.
AFTER_WINDOW = timedelta(days=2)
# An estimate extrapolates the unit's own use over this much history before its base.
HISTORY = timedelta(days=30)
# A month of one-minute cycles is 44,640; a gateway polling faster is billed from buckets.
MAX_BILL_CYCLES = 50_000
# Cycles of the whole month must still be there when the bill reads them.
EXACT_TOU_WITHIN = CYCLE_RETENTION - timedelta(days=1)
# A period and the estimated ones before it, in 15-minute buckets.
MAX_BUCKETS = 96 * 31 * 4
HISTORY_PAGE = 50  # the first usable reading of the history is nearly always in the first cycle


def usable_readings(cycles: Iterable[GatewayCycle]) -> dict[str, list[Reading]]:
    """Usable import readings per meter, in time order."""
    found: dict[str, list[Reading]] = {}
    for cycle in cycles:
        for row in rows_of(cycle):
            if row.usable:
                found.setdefault(row.meter_id, []).append(_reading(row))
    for readings in found.values():
        readings.sort(key=lambda r: r.at)
    return found


def _reading(row: MeterRow) -> Reading:
    assert row.import_kwh is not None  # usable
    return Reading(row.read_at, row.import_kwh)


class _Scan:
    """One gateway's cycles in one direction, read lazily; each meter's first usable
    reading that ``keep`` accepts is remembered."""

    def __init__(self, cycles: Iterator[GatewayCycle], keep: Callable[[MeterRow], bool]) -> None:
        self._cycles = cycles
        self._keep = keep
        self._found: dict[str, Reading] = {}
        self._done = False

    def find(self, meter_id: str) -> Reading | None:
        while meter_id not in self._found and not self._done:
            cycle = next(self._cycles, None)
            if cycle is None:
                self._done = True
                break
            for row in rows_of(cycle):
                if row.usable and row.meter_id not in self._found and self._keep(row):
                    self._found[row.meter_id] = _reading(row)
        return self._found.get(meter_id)


class BillReadings:
    """Reads of one billing run for one company: cached per gateway and period."""

    def __init__(self, telemetry: TelemetryStore, company_id: str, now: datetime) -> None:
        self._telemetry = telemetry
        self._company_id = company_id
        self._now = now
        self._back: dict[tuple[str, datetime, datetime], _Scan] = {}
        self._ahead: dict[tuple[str, datetime], _Scan] = {}
        self._months: dict[tuple[str, datetime, datetime], dict[str, list[Reading]] | None] = {}
        self._buckets: dict[tuple[str, datetime, datetime], list[GatewayUsage]] = {}

    def last_before(
        self, gateway_id: str, meter_id: str, start: datetime, end: datetime
    ) -> Reading | None:
        """The meter's last usable reading in [start, end) (one scan back per gateway)."""
        key = (gateway_id, start, end)  # units clipped at different move-ins start apart
        if key not in self._back:
            cycles = self._telemetry.cycles_back(
                self._company_id, gateway_id, start, end, MAX_BILL_CYCLES
            )
            self._back[key] = _Scan(iter(cycles), lambda row: start <= row.read_at < end)
        return self._back[key].find(meter_id)

    def first_after(self, gateway_id: str, meter_id: str, end: datetime) -> Reading | None:
        """The meter's first usable reading at or after ``end``, within ``AFTER_WINDOW``
        and what has arrived by now."""
        key = (gateway_id, end)
        if key not in self._ahead:
            until = min(end + AFTER_WINDOW, self._now)
            cycles = self._telemetry.cycles_between(
                self._company_id, gateway_id, end - timedelta(minutes=1), until, MAX_BILL_CYCLES
            )
            self._ahead[key] = _Scan(iter(cycles), lambda row: end <= row.read_at < until)
        return self._ahead[key].find(meter_id)

    def first_since(
        self, gateway_id: str, meter_id: str, start: datetime, before: datetime
    ) -> Reading | None:
        """The meter's first usable reading in [start, before): the start of its history."""
        cycles = self._telemetry.cycles_between(
            self._company_id, gateway_id, start, before, MAX_BILL_CYCLES, page_size=HISTORY_PAGE
        )
        for cycle in cycles:
            for row in rows_of(cycle):
                if row.meter_id == meter_id and row.usable and start <= row.read_at < before:
                    return _reading(row)
        return None

    def exact(
        self, gateway_id: str, meter_id: str, start: datetime, end: datetime
    ) -> list[Reading] | None:
        """Every usable reading of the meter in [start, end), or None if the cycles of that
        time are no longer (or not all) there."""
        # Keyed by both ends: units of one gateway on different cycles, or clipped at
        # different move-ins, read different windows from the same start.
        key = (gateway_id, start, end)
        if key not in self._months:
            by_meter: dict[str, list[Reading]] | None = None
            if self._now - start < EXACT_TOU_WITHIN:
                cycles = list(
                    self._telemetry.cycles_between(
                        self._company_id, gateway_id, start, end, MAX_BILL_CYCLES
                    )
                )
                by_meter = usable_readings(cycles) if len(cycles) < MAX_BILL_CYCLES else None
            self._months[key] = by_meter or None
        by_meter = self._months[key]
        if by_meter is None:
            return None
        return [r for r in by_meter.get(meter_id, []) if start <= r.at < end]

    def from_buckets(
        self,
        gateway_id: str,
        meter_id: str,
        anchor: Reading,
        closing: Reading,
        window: tuple[datetime, datetime],
    ) -> list[Reading]:
        """Cumulative readings at the ends of the 15-minute buckets after ``anchor`` (a real
        reading) up to ``closing``. ``window``: the period's buckets, read once per gateway.
        Raises RegisterResetError when the buckets hold more energy than the register rose:
        a reset or replaced meter, whose energy the closing cannot account for."""
        if window[0] <= anchor.at and closing.at <= window[1]:
            key = (gateway_id, *window)
            if key not in self._buckets:
                self._buckets[key] = self._usage(gateway_id, *window)
            buckets = self._buckets[key]
        else:
            buckets = self._usage(gateway_id, anchor.at, closing.at)
        cumulative = anchor.cumulative_kwh
        readings = []
        for usage in buckets:
            end = usage.bucket_start + timedelta(minutes=15)
            energy = usage.energy.get(meter_id)
            if energy is None or usage.bucket_start < anchor.at or end > closing.at:
                continue
            cumulative = kwh(cumulative + kwh(energy))
            readings.append(Reading(end, cumulative))
        if cumulative > closing.cumulative_kwh:
            raise RegisterResetError(
                f"{meter_id}: {cumulative - anchor.cumulative_kwh} kWh in the buckets since "
                f"{anchor.at.isoformat()}, the register rose "
                f"{closing.cumulative_kwh - anchor.cumulative_kwh} kWh"
            )
        return [r for r in readings if r.at < closing.at]

    def _usage(self, gateway_id: str, start: datetime, end: datetime) -> list[GatewayUsage]:
        return list(
            self._telemetry.usage_between(self._company_id, gateway_id, start, end, MAX_BUCKETS)
        )
