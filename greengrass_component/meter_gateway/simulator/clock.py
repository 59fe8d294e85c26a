"""Simulated time: wall time sped up by a factor, or a clock a test moves by hand."""

from __future__ import annotations

import time
from typing import Protocol


class SimClock(Protocol):
    def now_s(self) -> float:
        """Simulated unix time in seconds."""
        ...


class ScaledClock:
    """Simulated time runs ``time_scale`` times faster than wall time from ``start_s``."""

    def __init__(self, time_scale: float = 1.0, start_s: float | None = None) -> None:
        if not 0 <= time_scale <= 100_000:
            raise ValueError("time_scale must be within 0..100000")
        self._time_scale = time_scale
        self._start_s = time.time() if start_s is None else start_s
        self._start_mono = time.monotonic()

    def now_s(self) -> float:
        return self._start_s + (time.monotonic() - self._start_mono) * self._time_scale


class ManualClock:
    """Time that only moves when a test says so (readings become exactly predictable)."""

    def __init__(self, start_s: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00Z
        self._now_s = start_s

    def now_s(self) -> float:
        return self._now_s

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now_s += seconds
