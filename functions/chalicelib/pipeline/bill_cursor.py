"""A postpaid account's cursor: where its next bill opens, and what an estimate left open.

The account's cursor (``settled_kwh``/``settled_at``) is the last bill's closing reading.
Its ``usage`` holds the marker the billing run reads back:

    {"bill": "<period start>", "closing": "actual" | "interpolated" | "estimated"}

and, after an estimate, what the next bill needs to extend or true it up:

    "estimates": [<period starts of the estimated bills not trued up yet, oldest first>],
    "base_kwh", "base_at": the real reading the estimate extends, "daily_kwh": its rate.

A bill written before the marker had a ``closing`` reads as an actual closing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..data.settlement_store import Cursor
from ..domain import Closing, ClosingKind, Reading, format_kwh, kwh


@dataclass(frozen=True)
class Opening:
    """Where a period's bill opens. ``estimates``, ``base`` and ``daily_kwh`` are set when
    the reading is an estimate."""

    reading: Reading
    kind: ClosingKind = ClosingKind.ACTUAL
    estimates: tuple[str, ...] = ()
    base: Reading | None = None
    daily_kwh: Decimal | None = None

    @property
    def estimated(self) -> bool:
        return self.kind is ClosingKind.ESTIMATED

    @property
    def anchor(self) -> Reading:
        """The latest real reading known at the opening: the opening itself, or the
        reading an estimated opening extends."""
        return self.base if self.estimated and self.base is not None else self.reading


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def opening_of(
    settled_kwh: str | None,
    settled_at: datetime | None,
    usage: dict[str, Any] | None,
    tenancy_opening: Reading,
) -> Opening:
    """The account's cursor as an opening; the tenancy's opening reading if never billed."""
    if settled_at is None or settled_kwh is None:
        return Opening(tenancy_opening)
    reading = Reading(settled_at, kwh(settled_kwh))
    marker = usage or {}
    kind = ClosingKind(marker.get("closing", ClosingKind.ACTUAL.value))
    if kind is not ClosingKind.ESTIMATED:
        return Opening(reading, kind)
    return Opening(
        reading,
        kind,
        tuple(str(s) for s in marker.get("estimates", ())),
        Reading(_at(marker["base_at"]), kwh(marker["base_kwh"])),
        kwh(marker["daily_kwh"]),
    )


def cursor_after(period_start: str, closing: Closing, opening: Opening) -> Cursor:
    """The cursor a bill moves the account to: its closing reading and the marker."""
    marker: dict[str, Any] = {"bill": period_start, "closing": closing.kind.value}
    if closing.estimated:
        assert closing.base is not None and closing.daily_kwh is not None
        earlier = opening.estimates if opening.estimated else ()
        marker.update(
            estimates=[*earlier, period_start],
            base_kwh=format_kwh(closing.base.cumulative_kwh),
            base_at=closing.base.at.isoformat(),
            daily_kwh=format_kwh(closing.daily_kwh),
        )
    reading = closing.reading
    return Cursor(format_kwh(reading.cumulative_kwh), reading.at, marker)


def next_opening(cursor: Cursor) -> Opening:
    """The opening of the following period, from the cursor this bill wrote."""
    return opening_of(cursor.kwh, cursor.at, cursor.usage, Reading(cursor.at, kwh(cursor.kwh)))
