"""Each meter's true cumulative register: a deterministic load (seeded per meter), in Wh.

Integer watt-hours keep the register exact at 3 decimals of kWh. A meter swapped or reset
(``field_faults.py``) shows another register from that instant on, counting the same load.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

MILLI = Decimal("0.001")


@dataclass(frozen=True)
class LoadModel:
    meter_id: str
    seed: int
    opening_wh: int
    base_w: int
    evening_w: int

    def watts(self, hour_local: int, day: int) -> int:
        rng = random.Random(f"{self.seed}:{self.meter_id}:{day}:{hour_local}")
        evening = self.evening_w if 18 <= hour_local < 23 else 0
        return self.base_w + evening + rng.randrange(0, max(1, self.base_w // 2))


def registers(
    model: LoadModel, start: datetime, step: timedelta, count: int, utc_offset_h: int
) -> list[int]:
    """Register in Wh at start + k*step for k in 0..count-1 (the reading the meter shows)."""
    values: list[int] = []
    register = model.opening_wh
    hours_per_step = Decimal(step.total_seconds()) / 3600
    for k in range(count):
        at = start + k * step
        if k:
            local_hour = (at.hour + utc_offset_h) % 24
            day = (at - start).days
            register += int(Decimal(model.watts(local_hour, day)) * hours_per_step)
        values.append(register)
    return values


def as_kwh(wh: int) -> Decimal:
    return (Decimal(wh) / 1000).quantize(MILLI)
