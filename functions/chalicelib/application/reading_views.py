"""What the review of a unit's readings shows: each held reading with its evidence and
the good readings around it, the meter's exchanges, and how many readings wait.

Typed records built from the stored items (``HeldReading``, ``Meter.anchors``) so the
pages and the JSON API format one thing, never the items' raw attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..data.held_readings import HELD
from ..data.models import HeldReading, Meter, Property, Unit
from ..domain import format_kwh, kwh
from .latest_reading import StoredReading
from .reading_requests import reading_ms


@dataclass(frozen=True)
class NearbyReading:
    """A good reading of the same meter next to a held one (from the bus's cycles)."""

    at: datetime
    kwh: str  # 3 decimals


@dataclass(frozen=True)
class HeldEntry:
    read_at: datetime
    reading_kwh: str
    reason: str  # backwards | spike | clock
    status: str  # held | accepted | rejected | replaced
    run: int  # readings held in a row, this one included
    anchor_kwh: str | None  # the last good reading it was checked against
    anchor_at: datetime | None
    energy_kwh: str | None  # since the anchor (negative for a backwards reading)
    limit_kwh: str | None  # the most the meter could pass meanwhile (spikes)
    watts: str | None  # the power the meter reported with it
    decided_by: str | None = None
    drawn_kwh: str | None = None  # frozen: what the power says passed meanwhile
    serial: str | None = None  # serial_changed: the serial read with it
    known_serial: str | None = None  # ... and the one known before
    decided_at: datetime | None = None
    decision_note: str | None = None
    replacement_kwh: str | None = None
    # The good readings just before and after it; looked_around is False when the review
    # did not look (only the newest waiting readings are looked around, to bound the reads).
    before: NearbyReading | None = None
    after: NearbyReading | None = None
    looked_around: bool = False

    @property
    def reading_ms(self) -> int:
        return reading_ms(self.read_at)

    @property
    def waiting(self) -> bool:
        return self.status == HELD

    @property
    def elapsed(self) -> timedelta | None:
        """Time since the last good reading (what a spike's energy was passed in)."""
        return None if self.anchor_at is None else self.read_at - self.anchor_at


@dataclass(frozen=True)
class Exchange:
    """A meter exchange kept on the Meter item (``Meter.anchors``, kind ``exchange``)."""

    at: datetime
    old_final_kwh: str
    new_opening_kwh: str
    by: str
    note: str
    recorded_at: datetime | None


@dataclass(frozen=True)
class ExchangeProposal:
    """A meter exchange the gateway's report of a changed serial proposes (``Meter.
    serial_proposal``): what the exchange form is pre-filled with."""

    old_serial: str
    new_serial: str
    last_good_at: datetime | None  # the old meter's last good reading
    last_good_kwh: str | None
    first_new_at: datetime  # the first reading with the new serial
    first_new_kwh: str

    @property
    def at_iso(self) -> str:
        """The exchange's time as the form sends it: the new meter's first reading, to the
        millisecond (after the old meter's last good reading, not after the new one's)."""
        return self.first_new_at.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class PendingCount:
    count: int  # waiting readings among the newest looked at
    more: bool  # the oldest looked at waits too: there may be more than ``count``


@dataclass(frozen=True)
class ReadingsReview:
    unit: Unit
    premises: Property
    meter: Meter | None
    tenancy_start: datetime | None  # an exchange cannot be recorded before it
    latest: StoredReading | None
    held: list[HeldEntry]  # newest first, every status
    pending: PendingCount
    exchanges: list[Exchange]  # newest first
    proposal: ExchangeProposal | None = None


def held_entry(
    item: HeldReading,
    before: NearbyReading | None = None,
    after: NearbyReading | None = None,
    looked_around: bool = False,
) -> HeldEntry:
    return HeldEntry(
        read_at=item.read_at,
        reading_kwh=_kwh(item.reading_kwh) or "0.000",
        reason=str(item.reason),
        status=str(item.status),
        run=int(item.run or 1),
        anchor_kwh=_kwh(item.anchor_kwh),
        anchor_at=item.anchor_at,
        energy_kwh=_kwh(item.energy_kwh),
        limit_kwh=_kwh(item.limit_kwh),
        watts=str(item.watts) if item.watts is not None else None,
        decided_by=item.decided_by,
        decided_at=item.decided_at,
        decision_note=item.decision_note,
        replacement_kwh=_kwh(item.replacement_kwh),
        drawn_kwh=_kwh(item.drawn_kwh),
        serial=item.serial,
        known_serial=item.known_serial,
        before=before,
        after=after,
        looked_around=looked_around,
    )


def pending_of(items: list[HeldReading], looked_at: int) -> PendingCount:
    count = sum(1 for h in items if h.status == HELD)
    full = len(items) >= looked_at
    return PendingCount(count, full and bool(items) and items[-1].status == HELD)


def exchanges_of(meter: Meter | None) -> list[Exchange]:
    anchors = (meter.anchors or []) if meter is not None else []
    found = [exchange_of(a) for a in anchors if a.get("kind") == "exchange"]
    return sorted(found, key=lambda e: e.at, reverse=True)


def proposal_of(meter: Meter | None) -> ExchangeProposal | None:
    doc = meter.serial_proposal if meter is not None else None
    if not doc:
        return None
    last_good = doc.get("last_good") or {}
    return ExchangeProposal(
        old_serial=str(doc["old_serial"]),
        new_serial=str(doc["new_serial"]),
        last_good_at=datetime.fromisoformat(last_good["at"]) if last_good.get("at") else None,
        last_good_kwh=_kwh(last_good.get("kwh")),
        first_new_at=datetime.fromisoformat(str(doc["first_new"]["at"])),
        first_new_kwh=_kwh(doc["first_new"]["kwh"]) or "0.000",
    )


def exchange_of(anchor: dict[str, Any]) -> Exchange:
    recorded = anchor.get("recorded_at")
    return Exchange(
        at=datetime.fromisoformat(str(anchor["at"])),
        old_final_kwh=_kwh(anchor.get("old_final_kwh")) or "",
        new_opening_kwh=_kwh(anchor.get("kwh")) or "",
        by=str(anchor.get("by") or ""),
        note=str(anchor.get("note") or ""),
        recorded_at=datetime.fromisoformat(str(recorded)) if recorded else None,
    )


def _kwh(value: Any) -> str | None:
    return None if value is None else format_kwh(kwh(str(value)))
