"""RS-485 bus health of one meter from the gateway's cumulative counters (pure).

The gateway sends, per meter, counters since it started (telemetry ``dg``: time-outs,
CRC errors, exception responses, the last latency, failures in a row, connection
failures, backwards readings; the last two only from newer gateways). The cloud keeps
one *snapshot* of them per 15-minute bucket (pipeline/health.py); what happened in a
bucket is the difference from the snapshot before it. A counter lower than before means
the gateway restarted and began again from zero, so the new value is the whole
difference (what it counted between the restart and the snapshot); what it counted
between the last snapshot and the restart is lost, and the slot says it restarted.

A snapshot that is missing (the message left ``dg`` out to stay under 5 KB, or the
meter was not polled) is not a zero: the next snapshot's difference covers both buckets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

# The cumulative counters of ``dg``, by position (the latency, 3, and failures in a
# row, 4, are levels, not counts).
COUNTERS = {"timeouts": 0, "crc": 1, "exceptions": 2, "connection_failures": 5, "backwards": 6}
LATENCY = 3
MAX_SNAPSHOTS = 400  # a day and a bit of 15-minute buckets is 97


class InvalidDiagnosticsError(ValueError):
    """A stored ``dg`` snapshot that is not 5 to 7 non-negative integers (latency: or null)."""


@dataclass(frozen=True)
class Snapshot:
    """The gateway's counters for one meter at ``at``. ``None``: not sent (an older
    gateway's five-item ``dg`` has no connection failures or backwards readings)."""

    at: datetime
    timeouts: int
    crc: int
    exceptions: int
    latency_ms: int | None
    connection_failures: int | None = None
    backwards: int | None = None

    @classmethod
    def from_dg(cls, at: datetime, dg: Sequence[object]) -> Snapshot:
        if not 5 <= len(dg) <= 7:
            raise InvalidDiagnosticsError(f"dg has {len(dg)} items, not 5 to 7")
        v = list(dg) + [None] * (7 - len(dg))
        _count(4, v[4])  # failures in a row: a level the presence check reads, not kept
        return cls(
            at,
            _count(0, v[0]),
            _count(1, v[1]),
            _count(2, v[2]),
            _level(3, v[3]),
            _level(5, v[5]),
            _level(6, v[6]),
        )

    def counter(self, name: str) -> int | None:
        value: int | None = getattr(self, name)
        return value


def _count(position: int, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidDiagnosticsError(f"dg[{position}] is {value!r}, not a count")
    return value


def _level(position: int, value: object) -> int | None:
    return None if value is None else _count(position, value)


@dataclass(frozen=True)
class Slot:
    """What the gateway counted for the meter between two snapshots (``start`` to
    ``end``); a counter is None when either snapshot lacked it."""

    start: datetime
    end: datetime
    timeouts: int
    crc: int
    exceptions: int
    connection_failures: int | None
    backwards: int | None
    latency_ms: int | None  # the latency at ``end``
    restarted: bool = False

    @property
    def failures(self) -> int:
        """Every request that got no valid answer: time-outs, CRC, exception responses
        and connection failures."""
        return self.timeouts + self.crc + self.exceptions + (self.connection_failures or 0)


def slots(snapshots: Iterable[Snapshot]) -> list[Slot]:
    """The differences between consecutive snapshots, in time order; never negative."""
    ordered = sorted(snapshots, key=lambda s: s.at)[-MAX_SNAPSHOTS:]
    found: list[Slot] = []
    for before, after in pairwise(ordered):
        restarted = any(
            b is not None and a is not None and a < b
            for b, a in ((before.counter(name), after.counter(name)) for name in COUNTERS)
        )
        found.append(
            Slot(
                before.at,
                after.at,
                timeouts=after.timeouts if restarted else after.timeouts - before.timeouts,
                crc=after.crc if restarted else after.crc - before.crc,
                exceptions=after.exceptions if restarted else after.exceptions - before.exceptions,
                connection_failures=_difference(
                    before.connection_failures, after.connection_failures, restarted
                ),
                backwards=_difference(before.backwards, after.backwards, restarted),
                latency_ms=after.latency_ms,
                restarted=restarted,
            )
        )
    return found


def _difference(before: int | None, after: int | None, restarted: bool) -> int | None:
    if before is None or after is None:
        return None
    return after if restarted else after - before


@dataclass(frozen=True)
class Summary:
    """A meter's bus health over a window: totals, latency, and failures per hour."""

    start: datetime
    end: datetime
    timeouts: int
    crc: int
    exceptions: int
    connection_failures: int | None  # None: the gateway does not count them
    backwards: int | None
    latency_median_ms: int | None
    latency_max_ms: int | None
    restarts: int
    failures_per_hour: tuple[int | None, ...]  # None: no snapshot covers the hour
    covered: timedelta  # how much of the window the snapshots cover

    @property
    def failures(self) -> int:
        return self.timeouts + self.crc + self.exceptions + (self.connection_failures or 0)


def summarise(found: Sequence[Slot], end: datetime, hours: int = 24) -> Summary:
    """The slots ending in (end - hours, end]; each slot's counts go to the hour it ends in."""
    start = end - timedelta(hours=hours)
    inside = [s for s in found if start < s.end <= end]
    per_hour: list[int | None] = [None] * hours
    for slot in inside:
        index = (slot.end - start - timedelta(microseconds=1)) // timedelta(hours=1)
        per_hour[index] = (per_hour[index] or 0) + slot.failures
    latencies = sorted(s.latency_ms for s in inside if s.latency_ms is not None)
    covered = sum((min(s.end, end) - max(s.start, start) for s in inside), timedelta())
    return Summary(
        start,
        end,
        sum(s.timeouts for s in inside),
        sum(s.crc for s in inside),
        sum(s.exceptions for s in inside),
        _sum_known(s.connection_failures for s in inside),
        _sum_known(s.backwards for s in inside),
        latencies[(len(latencies) - 1) // 2] if latencies else None,
        latencies[-1] if latencies else None,
        sum(1 for s in inside if s.restarted),
        tuple(per_hour),
        covered,
    )


def _sum_known(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None
