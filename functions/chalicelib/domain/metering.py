"""Validation of meter readings before they can move money (VEE: validation, estimation,
editing, as utilities' meter data management does it).

A reading is checked against the meter's last good reading (its *anchor*) and physics:

- ``backwards``: the register is below the anchor. A misread zero, a reset, a rollover
  or a replaced meter; never a negative charge, and never a base for the next charge.
- ``spike``: more energy since the anchor than the meter could pass at its rated maximum
  current and nominal voltage in the time elapsed, with a margin. A register glitch or a
  forged message; a real surge cannot exceed the meter's own rating.
- ``clock``: the reading is stamped in the future (beyond a tolerance) or not after its
  anchor while the register moved: its time cannot be placed on the chain.

A reading that fails is *held* (quarantined): stored with its reason and evidence, it
never moves a settlement cursor, never charges and never disconnects; the chain goes on
from the last good reading. Pure: no I/O, no AWS; ``docs/metering-data.md`` has the
limits and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from chalicelib.domain.consumption import Reading
from chalicelib.domain.energy import kwh

# Real meters are rated well below what the check allows: 1.25 x the maximum current
# absorbs a meter's own tolerance and a few seconds of clock jitter between readings.
SPIKE_MARGIN = Decimal("1.25")
# The registers' own resolution (0.01 kWh on the DDS238): two steps are never a spike.
REGISTER_SLACK_KWH = Decimal("0.020")
# A gateway's clock may run ahead of AWS's by this much before its readings are held.
FUTURE_TOLERANCE = timedelta(minutes=10)
# Readings held in a row before a person is told (a reset or a swapped meter, not a blip).
HELD_RUN_ALERT = 3


class HoldReason(StrEnum):
    BACKWARDS = "backwards"
    SPIKE = "spike"
    CLOCK = "clock"


@dataclass(frozen=True)
class Rating:
    """What a meter model can physically pass (its datasheet's Imax and Un)."""

    max_current_a: Decimal
    nominal_voltage_v: Decimal
    phases: int = 1

    def max_energy_kwh(self, elapsed: timedelta) -> Decimal:
        """The most energy the meter can register in ``elapsed``, with the margin."""
        hours = Decimal(int(elapsed.total_seconds() * 1000)) / Decimal(3_600_000)
        watts = self.max_current_a * self.nominal_voltage_v * self.phases
        return kwh(watts * hours / 1000 * SPIKE_MARGIN + REGISTER_SLACK_KWH)


# The meter models of the product's profiles (greengrass_component/meter_gateway/profiles),
# from their datasheets; a test keeps these and the profiles' ratings the same.
RATINGS: dict[str, Rating] = {
    # Eastron SDM120: Ib 5 A, Imax 45 A, Un 230 V.
    "sdm120": Rating(Decimal(45), Decimal(230)),
    # Hiking DDS238-2 ZN/SR: 5(65) A, 230 V.
    "dds238": Rating(Decimal(65), Decimal(230)),
    # Eastron SDM230: 10(100) A, 230 V; SDM630: 10(100) A, 3x230/400 V.
    "sdm230": Rating(Decimal(100), Decimal(230)),
    "sdm630": Rating(Decimal(100), Decimal(230), 3),
    # Chint DDSU666: 5(80) A, 230 V; DTSU666: 5(80) A, 3x230/400 V.
    "ddsu666": Rating(Decimal(80), Decimal(230)),
    "dtsu666": Rating(Decimal(80), Decimal(230), 3),
    # Imax not in the public material found (the profile says so): 100 A placeholders,
    # wide enough that validation never holds a real reading. Edit with the profile.
    "ddsy1352": Rating(Decimal(100), Decimal(220)),
    "dts238_7": Rating(Decimal(100), Decimal(230), 3),
    "fineco_em115": Rating(Decimal(100), Decimal(230)),
    "fineco_em737": Rating(Decimal(100), Decimal(230), 3),
}
# A model the table does not know gets the largest single-phase DIN-rail rating in use.
DEFAULT_RATING = Rating(Decimal(100), Decimal(240))


def rating_of(profile: str | None, max_current_a: Decimal | None = None) -> Rating:
    """The model's rating; a unit's own ``max_current_a`` (a wider service) overrides it."""
    base = RATINGS.get(profile or "", DEFAULT_RATING)
    if max_current_a is None:
        return base
    return Rating(max_current_a, base.nominal_voltage_v, base.phases)


@dataclass(frozen=True)
class Verdict:
    """``reason`` None: a good reading. Otherwise the evidence a reviewer needs."""

    reason: HoldReason | None
    anchor: Reading | None = None
    energy_kwh: Decimal | None = None  # since the anchor
    limit_kwh: Decimal | None = None  # the most the meter could pass meanwhile

    @property
    def good(self) -> bool:
        return self.reason is None


def validate(
    reading: Reading, anchor: Reading | None, rating: Rating, received_at: datetime
) -> Verdict:
    """Check ``reading`` against the last good reading before it. Without an anchor (a
    new meter, or none in reach) only the clock can be checked."""
    if reading.at > received_at + FUTURE_TOLERANCE:
        return Verdict(HoldReason.CLOCK, anchor)
    if anchor is None:
        return Verdict(None)
    energy = kwh(reading.cumulative_kwh - anchor.cumulative_kwh)
    if energy < 0:
        return Verdict(HoldReason.BACKWARDS, anchor, energy)
    if reading.at <= anchor.at:
        # the same instant (a duplicate read) is fine only if the register agrees
        return Verdict(None if energy == 0 else HoldReason.CLOCK, anchor, energy)
    limit = rating.max_energy_kwh(reading.at - anchor.at)
    if energy > limit:
        return Verdict(HoldReason.SPIKE, anchor, energy, limit)
    return Verdict(None, anchor, energy, limit)
