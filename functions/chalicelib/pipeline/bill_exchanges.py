"""Meter exchanges inside a bill's period (docs/metering-data.md, "Meter exchange").

Staff record an exchange as the old meter's final reading and the new meter's opening at
one instant (``Meter.anchors``, kind ``exchange``). A postpaid period across it is priced
as segments, one per register: the old register up to its final reading, then the new one
from its opening. The readings are joined with the new opening flagged ``new_register``,
so the domain charges nothing across the swap whatever the two registers say
(``domain/consumption.py``) and the energy on each side is charged exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import Reading, kwh

EXCHANGE = "exchange"


@dataclass(frozen=True)
class Swap:
    old_final: Reading
    new_opening: Reading  # ``new_register``: the base the new register's energy starts from

    @property
    def at(self) -> datetime:
        return self.new_opening.at


def swaps_of(anchors: Iterable[Mapping[str, Any]] | None) -> tuple[Swap, ...]:
    """The meter's recorded exchanges, oldest first."""
    found = []
    for anchor in anchors or ():
        if anchor.get("kind") != EXCHANGE:
            continue
        at = datetime.fromisoformat(str(anchor["at"]))
        found.append(
            Swap(
                Reading(at, kwh(Decimal(str(anchor["old_final_kwh"])))),
                Reading(at, kwh(Decimal(str(anchor["kwh"]))), new_register=True),
            )
        )
    return tuple(sorted(found, key=lambda swap: swap.at))


def swaps_in(swaps: Iterable[Swap], after: datetime, until: datetime) -> tuple[Swap, ...]:
    """The exchanges after the last real reading a bill opens on, up to the period end
    (one at or before it was in an earlier bill's readings already)."""
    return tuple(swap for swap in swaps if after < swap.at <= until)
