"""Deterministic daily load curves: a household-like shape plus seeded per-minute noise."""

from __future__ import annotations

import math

SECONDS_PER_DAY = 86_400
_GOLDEN = 2_654_435_761  # Knuth's multiplicative hash constant


def _unit_noise(seed: int, address: int, minute: int) -> float:
    """A reproducible number in [0, 1) for this meter and minute (no RNG state to carry)."""
    mixed = (seed * 1_000_003 + address * 7_919 + minute) * _GOLDEN
    mixed ^= mixed >> 15
    return (mixed % 4_294_967_296) / 4_294_967_296


def daily_shape(seconds_of_day: float) -> float:
    """Relative demand over a day: night base, morning peak, evening peak (0.15..~1.2)."""
    hour = seconds_of_day / 3600
    morning = math.exp(-(((hour - 7.5) / 1.2) ** 2))
    evening = math.exp(-(((hour - 19.5) / 2.0) ** 2))
    return 0.15 + 0.6 * morning + 1.0 * evening


class LoadCurve:
    """Active power in W of one meter at a simulated instant."""

    def __init__(self, seed: int, address: int, utc_offset_s: int = 0) -> None:
        self._seed = seed
        self._address = address
        self._utc_offset_s = utc_offset_s
        # Per-meter size of the household: 300 W .. 2300 W at the evening peak.
        self.peak_w = 300.0 + 2000.0 * _unit_noise(seed, address, -1)

    def power_w(self, unix_s: float) -> float:
        local_s = (unix_s + self._utc_offset_s) % SECONDS_PER_DAY
        noise = 0.8 + 0.4 * _unit_noise(self._seed, self._address, int(unix_s // 60))
        return self.peak_w * daily_shape(local_s) * noise
