"""The field's reading faults, at the rates a portfolio sees them (docs/reliability.md).

- **Misreads**: about one per meter-week. A gateway reports one wrong register in one
  cycle and the next cycles are normal again; the kinds come in turn: a zero (a read
  that failed to 0.000), a high glitch (+50 kWh) and a register far above (a high bit
  flipped). Validation must hold every one: none may charge, move a cursor or disconnect.
- **Register changes**: about one swap and one reset per 100 meters per month (a run
  with an operations round to record it gets at least one swap). A swap puts in a used
  meter (its register well above the old one) or a new one (0.000), in turn; a reset
  brings the same meter to 0.000. The new register counts the same load from that
  instant. Its readings are held until the landlord records the exchange
  (``landlord.py``) with the true final and opening readings.

Register changes go to prepaid meters only: the bill job does not take an exchange
inside a period into account yet (docs/reliability.md, "Left"), so a postpaid swap
would make the month's bill wrong by design, not by a fault the soak should find.
Everything here is deterministic for a seed; the verifier knows every fault from it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .load_model import as_kwh
from .portfolio import SimGateway, SimMeter

WEEK = timedelta(days=7)
MONTH = timedelta(days=30)
MISREADS_PER_METER_WEEK = 1
SWAPS_PER_100_METER_MONTHS = 1
RESETS_PER_100_METER_MONTHS = 1
GLITCH_WH = 50_000  # +50 kWh in an hour: more than either meter model can pass (65 A x 230 V)
FLIP_BITS = (24, 25, 26, 27)  # of the register in Wh: 16,777 to 134,218 kWh above
USED_METER_ABOVE_WH = (5_000_000, 40_000_000)  # a used meter's register, above the old one
# The old register must stay above a new one at 0 until the exchange is recorded (days),
# or the new register's readings would pass as good against the old one.
MIN_REGISTER_AT_CHANGE_WH = 200_000
# Misreads stay this many cycles apart (the next cycles are normal) and away from the
# other faults that widen the gap to the last good reading (a held glitch of +50 kWh
# must stay above what the meter can pass since its anchor).
QUIET_CYCLES = 3
# A change needs this many cycles before the operations round that records it: three
# readings held in a row raise the alert the landlord acts on, one more for a late cycle.
ALERT_CYCLES = 4


class MisreadKind(StrEnum):
    ZERO = "zero"
    GLITCH = "glitch"
    BIT_FLIP = "bit_flip"


class ChangeKind(StrEnum):
    USED_METER = "swap_used_meter"
    NEW_METER = "swap_new_meter"
    RESET = "reset"


@dataclass(frozen=True)
class Misread:
    meter_id: str
    cycle: int
    kind: MisreadKind
    true_wh: int
    reported_wh: int

    @property
    def hold_reason(self) -> str:
        """What validation must call it: a zero goes backwards, the rest exceed the rating."""
        return "backwards" if self.kind is MisreadKind.ZERO else "spike"


@dataclass(frozen=True)
class RegisterChange:
    meter: SimMeter
    gateway: SimGateway
    kind: ChangeKind
    cycle: int
    at: datetime  # the instant the new register starts (the cycle's real time)
    old_final_wh: int  # what the old register shows at that instant
    opening_wh: int  # what the new one shows

    @property
    def swap(self) -> bool:
        return self.kind is not ChangeKind.RESET

    @property
    def hold_reason(self) -> str:
        return "spike" if self.kind is ChangeKind.USED_METER else "backwards"


@dataclass
class FieldFaults:
    misreads: dict[str, dict[int, Misread]] = field(default_factory=dict)  # meter -> cycle
    changes: dict[str, RegisterChange] = field(default_factory=dict)  # meter -> change

    def misread(self, meter_id: str, cycle: int) -> Misread | None:
        return self.misreads.get(meter_id, {}).get(cycle)

    @property
    def misread_count(self) -> int:
        return sum(len(m) for m in self.misreads.values())

    def report(self) -> dict[str, Any]:
        """Misreads by kind and every register change, for the run's report."""
        kinds = Counter(m.kind.value for ms in self.misreads.values() for m in ms.values())
        return {
            "misreads": dict(sorted(kinds.items())),
            "changes": [
                {
                    "meter": c.meter.meter_id,
                    "kind": c.kind.value,
                    "tariff": c.meter.tariff_kind,
                    "at": c.at.isoformat(),
                    "old_final_kwh": str(as_kwh(c.old_final_wh)),
                    "opening_kwh": str(as_kwh(c.opening_wh)),
                }
                for c in self.changes.values()
            ],
        }


def plan_field_faults(
    plan: list[SimGateway],
    registers: dict[str, list[int]],
    start: datetime,
    step: timedelta,
    last_round: datetime | None,
    seed: int,
    busy: Callable[[SimGateway, SimMeter, int], bool],
) -> FieldFaults:
    """Choose every misread and register change of the run. ``registers`` are the true
    registers without changes; ``last_round`` the run's last operations round (a change
    must come early enough for it); ``busy(gw, meter, cycle)``: another fault is there."""
    rng = random.Random(f"{seed}:field-faults")
    count = len(next(iter(registers.values())))
    faults = FieldFaults()
    if last_round is not None:
        latest = (last_round - start) // step - ALERT_CYCLES
        _plan_changes(faults, plan, registers, start, step, latest, rng)
    weeks = count * step / WEEK
    kinds = list(MisreadKind)
    placed = 0
    for gw in plan:
        for m in gw.meters:
            change = faults.changes.get(m.meter_id)
            last = count if change is None else change.cycle - QUIET_CYCLES
            eligible = [k for k in range(2, last) if not busy(gw, m, k)]
            wanted = int(weeks * MISREADS_PER_METER_WEEK)
            wanted += rng.random() < weeks * MISREADS_PER_METER_WEEK - wanted
            if placed == 0 and gw is plan[-1] and m is gw.meters[-1]:
                wanted = max(wanted, 1)  # even a short run has one
            cycles: list[int] = []
            for k in rng.sample(eligible, len(eligible)):
                if len(cycles) == wanted:
                    break
                if all(abs(k - c) > QUIET_CYCLES for c in cycles):
                    cycles.append(k)
            for k in sorted(cycles):
                true_wh = registers[m.meter_id][k]
                kind = kinds[placed % len(kinds)]
                reported = _misread_value(kind, true_wh, rng)
                faults.misreads.setdefault(m.meter_id, {})[k] = Misread(
                    m.meter_id, k, kind, true_wh, reported
                )
                placed += 1
    return faults


def _plan_changes(
    faults: FieldFaults,
    plan: list[SimGateway],
    registers: dict[str, list[int]],
    start: datetime,
    step: timedelta,
    latest: int,
    rng: random.Random,
) -> None:
    """One swap and one reset per 100 meter-months, on prepaid meters, tariffs in turn."""
    earliest = 2
    if latest < earliest:
        return
    meters = sum(len(gw.meters) for gw in plan)
    meter_months = meters * (len(next(iter(registers.values()))) * step / MONTH) / 100
    swaps = max(1, int(meter_months * SWAPS_PER_100_METER_MONTHS + 0.5))
    resets = int(meter_months * RESETS_PER_100_METER_MONTHS + 0.5)
    swap_kinds = (ChangeKind.USED_METER, ChangeKind.NEW_METER)
    kinds = [swap_kinds[n % 2] for n in range(swaps)] + [ChangeKind.RESET] * resets
    candidates = [
        (gw, m)
        for gw in plan
        for m in gw.meters
        if m.mode == "prepaid" and not (gw.index == 0 and m is gw.meters[0])  # the silent one
    ]
    rng.shuffle(candidates)
    tariffs = ("tou", "flat", "tiered")
    for n, kind in enumerate(kinds):
        k = rng.randrange(earliest, latest + 1)
        pool = [
            (gw, m)
            for gw, m in candidates
            if m.meter_id not in faults.changes
            and registers[m.meter_id][k] >= MIN_REGISTER_AT_CHANGE_WH
        ]
        preferred = [c for c in pool if c[1].tariff_kind == tariffs[n % len(tariffs)]]
        if not (preferred or pool):
            continue
        gw, m = (preferred or pool)[0]
        old_final = registers[m.meter_id][k]
        if kind is ChangeKind.USED_METER:
            opening = old_final + rng.randrange(*USED_METER_ABOVE_WH)
        else:
            opening = 0
        faults.changes[m.meter_id] = RegisterChange(
            m, gw, kind, k, start + k * step, old_final, opening
        )


def _misread_value(kind: MisreadKind, true_wh: int, rng: random.Random) -> int:
    if kind is MisreadKind.ZERO:
        return 0
    if kind is MisreadKind.GLITCH:
        return true_wh + GLITCH_WH
    bit = rng.choice([b for b in FLIP_BITS if not true_wh & (1 << b)])
    return true_wh | (1 << bit)


def apply_register_changes(registers: dict[str, list[int]], faults: FieldFaults) -> None:
    """From its change on, a meter shows the new register: its opening plus the same load."""
    for meter_id, change in faults.changes.items():
        series = registers[meter_id]
        base = series[change.cycle]
        for k in range(change.cycle, len(series)):
            series[k] = change.opening_wh + series[k] - base
