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
- ``frozen``: the register has not moved although the meter's own power readings say it
  passed several steps of the register meanwhile (a stuck counter under-charges).
- ``serial_changed``: the gateway read another serial number than the one known for the
  meter: a swapped meter, whose register must never be charged as the old one's.

A reading that fails is *held* (quarantined): stored with its reason and evidence, it
never moves a settlement cursor, never charges and never disconnects; the chain goes on
from the last good reading. Pure: no I/O, no AWS; ``docs/metering-data.md`` has the
limits and why.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from chalicelib.domain.consumption import Reading
from chalicelib.domain.energy import kwh
from chalicelib.domain.meter_models import MeterModel

# Real meters are rated well below what the check allows: 1.25 x the maximum current
# absorbs a meter's own tolerance and a few seconds of clock jitter between readings.
SPIKE_MARGIN = Decimal("1.25")
# The registers' own resolution (0.01 kWh on the DDS238): two steps are never a spike.
REGISTER_SLACK_KWH = Decimal("0.020")
# A gateway's clock may run ahead of AWS's by this much before its readings are held.
FUTURE_TOLERANCE = timedelta(minutes=10)
# Readings held in a row before a person is told (a reset or a swapped meter, not a blip).
HELD_RUN_ALERT = 3

# --- the frozen register ---------------------------------------------------------------
# Power at or below this is not "drawn" for the frozen check. A meter need not count below
# its starting current (IEC 62053-21 class 1: 0.4 % of Ib, 20 mA on a 5 A meter, 40 mA on
# a 10 A one: 5-10 W at 230 V), and near zero its power reading is mostly noise; 50 W is
# well clear of both, so an idle flat whose register stands still is never held.
FROZEN_IDLE_W = Decimal(50)
# How many steps of its register the meter must have had the energy for. One full step
# always moves a register that shows whole steps, wherever it started; three absorb that
# the power is two snapshots, not the mean between them (a load that switched off just
# after one read and on just before the next), the power reading's own tolerance, and
# read-time jitter. A false hold costs no money: the register did not move, so nothing
# was owed, and the next reading that moves charges from the last good one.
FROZEN_STEPS = 3
# Two power samples further apart than this say nothing about the time between them
# (a meter silent for an hour): the evidence starts again.
FROZEN_MAX_GAP = timedelta(minutes=15)
# A float register whose datasheet gives no resolution: 0.01 kWh, the display's and the
# coarsest of the product's registers (DDS238). Too coarse a step only makes the check
# slower to hold, never quicker.
DEFAULT_REGISTER_STEP_KWH = Decimal("0.01")
FLOAT32_MANTISSA_BITS = 23
WH = Decimal("0.001")  # kWh are kept to the Wh


class HoldReason(StrEnum):
    BACKWARDS = "backwards"
    SPIKE = "spike"
    CLOCK = "clock"
    FROZEN = "frozen"
    SERIAL_CHANGED = "serial_changed"


@dataclass(frozen=True)
class Rating:
    """What a meter model can physically pass (its datasheet's Imax and Un)."""

    max_current_a: Decimal
    nominal_voltage_v: Decimal
    phases: int = 1
    # The smallest step of the energy register billed on: an integer register's scale
    # (0.01 kWh on the DDS238), else the datasheet's or DEFAULT_REGISTER_STEP_KWH.
    register_step_kwh: Decimal = DEFAULT_REGISTER_STEP_KWH
    # A float32 register also cannot step finer than its own spacing at its value.
    float_register: bool = False

    def max_energy_kwh(self, elapsed: timedelta) -> Decimal:
        """The most energy the meter can register in ``elapsed``, with the margin."""
        return _max_energy_kwh(self, int(elapsed.total_seconds() * 1000))

    def register_step_at(self, value_kwh: Decimal) -> Decimal:
        """The register's step at ``value_kwh``: a float32 register near 100,000 kWh
        cannot show less than 2^-7 kWh (0.0078), near 1,000,000 kWh 0.0625."""
        if not self.float_register:
            return self.register_step_kwh
        return max(self.register_step_kwh, float32_spacing(value_kwh))

    def frozen_limit_kwh(self, value_kwh: Decimal) -> Decimal:
        """The energy after which a register at ``value_kwh`` must have moved."""
        # rounded up to the Wh: never less than the steps themselves
        return (FROZEN_STEPS * self.register_step_at(value_kwh)).quantize(WH, ROUND_CEILING)


# Remembered: a bus's readings are one cycle apart, so the meters of one model ask for the
# same limit ~32 times a message (issue 19, CPU); a few models and cycle lengths at once.
@functools.lru_cache(maxsize=1024)
def _max_energy_kwh(rating: Rating, elapsed_ms: int) -> Decimal:
    hours = Decimal(elapsed_ms) / Decimal(3_600_000)
    watts = rating.max_current_a * rating.nominal_voltage_v * rating.phases
    return kwh(watts * hours / 1000 * SPIKE_MARGIN + REGISTER_SLACK_KWH)


def float32_spacing(value_kwh: Decimal) -> Decimal:
    """The gap between ``value_kwh`` and the next float32 (exact, no float involved)."""
    whole = int(value_kwh)
    if whole < 1:
        return Decimal(0)  # under 1 kWh the spacing is below a micro-kWh
    exponent = whole.bit_length() - 1  # 2^exponent <= value < 2^(exponent + 1)
    return Decimal(2) ** (exponent - FLOAT32_MANTISSA_BITS)


# The meter models of the product's profiles (greengrass_component/meter_gateway/profiles),
# from their datasheets; a test keeps these and the profiles' ratings (and their energy
# registers' steps) the same.
_STEP = DEFAULT_REGISTER_STEP_KWH
RATINGS: dict[str, Rating] = {
    # Eastron SDM120: Ib 5 A, Imax 45 A, Un 230 V; float32 registers.
    "sdm120": Rating(Decimal(45), Decimal(230), 1, _STEP, True),
    # Hiking DDS238-2 ZN/SR: 5(65) A, 230 V; u32 x 0.01 kWh.
    "dds238": Rating(Decimal(65), Decimal(230), 1, Decimal("0.01")),
    # Eastron SDM230: 10(100) A, 230 V; SDM630: 10(100) A, 3x230/400 V.
    "sdm230": Rating(Decimal(100), Decimal(230), 1, _STEP, True),
    "sdm630": Rating(Decimal(100), Decimal(230), 3, _STEP, True),
    # Chint DDSU666: 5(80) A, 230 V; DTSU666: 5(80) A, 3x230/400 V.
    "ddsu666": Rating(Decimal(80), Decimal(230), 1, _STEP, True),
    "dtsu666": Rating(Decimal(80), Decimal(230), 3, _STEP, True),
    # Imax not in the public material found (the profile says so): 100 A placeholders,
    # wide enough that validation never holds a real reading. Edit with the profile.
    "ddsy1352": Rating(Decimal(100), Decimal(220), 1, Decimal("0.01")),
    "dts238_7": Rating(Decimal(100), Decimal(230), 3, Decimal("0.01")),
    "fineco_em115": Rating(Decimal(100), Decimal(230), 1, _STEP, True),
    "fineco_em737": Rating(Decimal(100), Decimal(230), 3, _STEP, True),
}
# A model the table does not know gets the largest single-phase DIN-rail rating in use
# and, for the frozen check, a float register's step (the slowest to hold).
DEFAULT_RATING = Rating(Decimal(100), Decimal(240), 1, _STEP, True)


def rating_from(model: MeterModel) -> Rating:
    """The rating a profile's summary states (a company's configured profile, which
    ``RATINGS`` cannot know); DEFAULT_RATING for what is not a meter."""
    if model.max_current_a is None or model.nominal_voltage_v is None:
        return DEFAULT_RATING
    return Rating(
        model.max_current_a,
        model.nominal_voltage_v,
        model.phases or 1,
        model.register_step_kwh or DEFAULT_REGISTER_STEP_KWH,
        model.float_register,
    )


def rating_of(
    profile: str | None,
    max_current_a: Decimal | None = None,
    configured: Mapping[str, MeterModel] | None = None,
) -> Rating:
    """The model's rating: shipped (``RATINGS``), else from the profile the gateway was
    configured with (``configured``: the summaries its deployment carried), else the
    default; a unit's own ``max_current_a`` (a wider service) overrides it."""
    name = profile or ""
    if name in RATINGS:
        base = RATINGS[name]
    elif configured and name in configured:
        base = rating_from(configured[name])
    else:
        base = DEFAULT_RATING
    if max_current_a is None:
        return base
    return replace(base, max_current_a=max_current_a)


@dataclass(frozen=True)
class PowerSample:
    """A reading with the power the meter reported with it (None: not reported)."""

    at: datetime
    cumulative_kwh: Decimal
    watts: Decimal | None


def still_energy_kwh(
    prior: PowerSample | None, prior_still_kwh: Decimal, now: PowerSample
) -> Decimal:
    """The energy the meter's own power readings say it passed while its register stood
    still, up to ``now``: the previous reading's figure plus the lower of the two powers
    over the time between them (a load that just switched on shows at one end only).
    Zero, so the evidence starts again, when the register moved, a power is missing or
    idle, or the readings are too far apart to say anything about the time between."""
    if prior is None or prior.watts is None or now.watts is None:
        return Decimal(0)
    if now.cumulative_kwh != prior.cumulative_kwh:
        return Decimal(0)
    gap = now.at - prior.at
    if gap <= timedelta(0) or gap > FROZEN_MAX_GAP:
        return Decimal(0)
    watts = min(prior.watts, now.watts)
    if watts <= FROZEN_IDLE_W:
        return Decimal(0)
    hours = Decimal(int(gap.total_seconds() * 1000)) / Decimal(3_600_000)
    # rounded down to the Wh: the evidence never claims more than the power says
    return kwh(prior_still_kwh) + (watts * hours / 1000).quantize(WH, ROUND_FLOOR)


@dataclass(frozen=True)
class Verdict:
    """``reason`` None: a good reading. Otherwise the evidence a reviewer needs."""

    reason: HoldReason | None
    anchor: Reading | None = None
    energy_kwh: Decimal | None = None  # since the anchor
    # spike: the most the meter could pass meanwhile; frozen: the energy after which its
    # register must have moved
    limit_kwh: Decimal | None = None
    drawn_kwh: Decimal | None = None  # frozen: what the power readings say was passed

    @property
    def good(self) -> bool:
        return self.reason is None


def validate(
    reading: Reading,
    anchor: Reading | None,
    rating: Rating,
    received_at: datetime,
    still_kwh: Decimal = Decimal(0),
) -> Verdict:
    """Check ``reading`` against the last good reading before it. Without an anchor (a
    new meter, or none in reach) only the clock can be checked. ``still_kwh``: the energy
    the power readings say passed while the register stood still (``still_energy_kwh``)."""
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
    if energy == 0 and still_kwh > 0:
        frozen_at = rating.frozen_limit_kwh(reading.cumulative_kwh)
        if still_kwh >= frozen_at:
            return Verdict(HoldReason.FROZEN, anchor, energy, frozen_at, still_kwh)
    return Verdict(None, anchor, energy, limit)
