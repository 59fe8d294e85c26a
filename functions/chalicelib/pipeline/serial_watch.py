"""A changed serial number: the meter on the bus is not the one the register chain belongs
to (docs/metering-data.md, "Serial numbers").

The gateway reads each meter's serial at its start, after the meter failed to answer and
hourly, and sends it (`sn`) only in those cycles. Ingest records the first serial seen;
a different one holds the reading (``serial_changed``: the new register is never charged
as the old one's) and puts an exchange *proposal* on the meter, which holds every later
reading until staff record the exchange (``pipeline/reading_corrections.py``). A message
costs nothing here unless it gives a reason to doubt the cached meter (a serial that is
not the cached one, a pending proposal, or the meter's previous row held for its serial);
then the meter is read once, fresh, so no container decides on a stale copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..data.meter_serials import MeterSerials
from ..domain import Reading, format_kwh
from ..domain.metering import HoldReason
from .alerts import Alert
from .context import BusContext, MeterContext
from .telemetry import MeterRow

if TYPE_CHECKING:
    from ..data import rows
    from ..data.models import Meter as MeterModel

    Meter = MeterModel | rows.MeterRow  # the context's row, or the item read fresh


@dataclass(frozen=True)
class SerialCheck:
    hold: bool
    known: str | None = None  # the serial known for the meter
    seen: str | None = None  # the serial read, or the pending proposal's
    propose: bool = False  # this reading is the first of a new serial


@dataclass(frozen=True)
class Proposal:
    """An exchange proposal to put on the meter once the cycle is stored."""

    meter_ctx: MeterContext
    known: str
    document: dict[str, Any]


NOTHING = SerialCheck(False)


class SerialWatch:
    def __init__(self, serials: MeterSerials | None = None) -> None:
        self._serials = serials or MeterSerials()

    def check(
        self, bus: BusContext, meter_ctx: MeterContext, row: MeterRow, prior: MeterRow | None
    ) -> SerialCheck:
        meter = meter_ctx.meter
        if not in_doubt(meter.attribute_values, row, prior):
            return NOTHING
        fresh = self._serials.fresh(bus.company_id, meter.meter_id)
        _follow(meter, fresh)  # this container's copy, so the next message reads nothing
        proposal = fresh.serial_proposal
        if proposal and row.read_at >= datetime.fromisoformat(proposal["first_new"]["at"]):
            return SerialCheck(True, fresh.serial, str(proposal["new_serial"]))
        if row.serial is None or row.serial == fresh.serial:
            return NOTHING
        if fresh.serial is None:
            self._serials.first_seen(bus.company_id, meter.meter_id, row.serial)
            meter.serial = row.serial
            return NOTHING
        return SerialCheck(True, str(fresh.serial), row.serial, propose=True)

    def propose(self, bus: BusContext, proposal: Proposal) -> Alert | None:
        """Put the proposal on the meter (once) and tell staff; None if one was there."""
        meter = proposal.meter_ctx.meter
        if not self._serials.propose(
            bus.company_id, meter.meter_id, proposal.known, proposal.document
        ):
            return None
        meter.serial_proposal = proposal.document
        unit = proposal.meter_ctx.unit
        doc = proposal.document
        last_good = doc.get("last_good") or {}
        return Alert(
            bus.company_id,
            "readings_held",
            f"unit:{unit.unit_id}" if unit else f"meter:{meter.meter_id}",
            datetime.fromisoformat(doc["first_new"]["at"]),
            "staff",
            None,
            {
                "meter": meter.meter_id,
                "reason": str(HoldReason.SERIAL_CHANGED),
                "old_serial": doc["old_serial"],
                "new_serial": doc["new_serial"],
                "last_good_kwh": last_good.get("kwh", ""),
                "last_good_at": last_good.get("at", ""),
                "latest_kwh": doc["first_new"]["kwh"],
            },
        )


def in_doubt(meter: dict[str, Any], row: MeterRow, prior: MeterRow | None) -> bool:
    """Whether the cached meter (its item's values) may be stale for this reading: a
    serial read that is not the cached one, a pending proposal, or the meter's previous
    row held for its serial. Only then is the meter read fresh."""
    return (
        (row.serial is not None and row.serial != meter.get("serial"))
        or meter.get("serial_proposal") is not None
        or (prior is not None and prior.quarantine == HoldReason.SERIAL_CHANGED)
    )


def proposal_of(
    meter_ctx: MeterContext,
    check: SerialCheck,
    row: MeterRow,
    anchor: Reading | None,
    now: datetime,
) -> Proposal:
    assert check.known is not None and check.seen is not None and row.import_kwh is not None
    return Proposal(
        meter_ctx,
        check.known,
        {
            "old_serial": check.known,
            "new_serial": check.seen,
            "last_good": None
            if anchor is None
            else {"at": anchor.at.isoformat(), "kwh": format_kwh(anchor.cumulative_kwh)},
            "first_new": {"at": row.read_at.isoformat(), "kwh": format_kwh(row.import_kwh)},
            "proposed_at": now.isoformat(),
        },
    )


def _follow(cached: Meter, fresh: Meter) -> None:
    cached.serial = fresh.serial
    cached.serial_proposal = fresh.serial_proposal
    cached.anchors = fresh.anchors
