"""Conditions a sweep raised that the bus's own telemetry clears.

The offline sweep (presence.py) raises two alerts that nothing else resolves: a meter
that stopped answering (``meter_offline``) and a gateway connected but silent
(``gateway_offline``, "no telemetry"). Both clear when telemetry shows the opposite: the
meter answers again, the gateway speaks. Ingest must not look for an open alert on
every message (issue 19: at most 2 DynamoDB requests per message), so the sweep leaves
a *mark* on the bus item when it raises one, and ingest, which reads that item anyway,
resolves the alert only when a mark is there and this message clears it: a steady bus
costs nothing, a cleared condition three requests once (docs/pipeline.md, "Alerts").

A mark is ``topic|subject|since_ms``: ``since`` is when the condition began, so a late
message (a spooled cycle from before the meter fell silent) does not clear it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..data.control_state import from_ms, ms
from .telemetry import MeterRow

GATEWAY_SILENT = "gateway_offline"
METER_SILENT = "meter_offline"
SEP = "|"


@dataclass(frozen=True)
class OpenCondition:
    """One mark on the bus item: an alert raised and not yet cleared by telemetry."""

    topic: str
    subject_ref: str  # gateway:<id> or meter:<id>
    since: datetime

    @property
    def mark(self) -> str:
        return SEP.join((self.topic, self.subject_ref, str(ms(self.since))))


def parse_mark(mark: str) -> OpenCondition | None:
    """The condition of a stored mark; None for a mark of another shape (left alone)."""
    topic, _, rest = mark.partition(SEP)
    subject_ref, _, since_ms = rest.rpartition(SEP)
    if topic not in {GATEWAY_SILENT, METER_SILENT} or not subject_ref or not since_ms.isdigit():
        return None
    return OpenCondition(topic, subject_ref, from_ms(int(since_ms)))


def cleared_conditions(
    marks: Iterable[str], rows: Iterable[MeterRow], received_at: datetime
) -> list[OpenCondition]:
    """The marked conditions a stored message clears (pure): a gateway's silence by any
    message received after it began, a meter's by a reading of that meter taken after
    it fell silent."""
    conditions = [c for c in map(parse_mark, marks) if c is not None]
    if not conditions:
        return []  # the steady path: nothing marked, nothing looked at
    answered: dict[str, datetime] = {}
    for row in rows:
        prior = answered.get(row.meter_id)
        if not row.error and (prior is None or row.read_at > prior):
            answered[row.meter_id] = row.read_at
    cleared = []
    for condition in conditions:
        kind, _, subject_id = condition.subject_ref.partition(":")
        if condition.topic == GATEWAY_SILENT and kind == "gateway":
            if received_at > condition.since:
                cleared.append(condition)
        elif condition.topic == METER_SILENT and kind == "meter":
            read_at = answered.get(subject_id)
            if read_at is not None and read_at > condition.since:
                cleared.append(condition)
    return cleared
