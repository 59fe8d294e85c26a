"""A unit's power mode as people read it: automatic (the credit decides), off by hand, or
on by hand until a time or the next top-up, with who set it, why and since when.

Read from the meter's control state (data/control_state.py), where the pipeline keeps
the override with its end: the same record the gateway's desired state is made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..data.control_state import MeterControlState

MODES = ("auto", "off", "on")


@dataclass(frozen=True)
class PowerMode:
    mode: str  # auto | off | on
    by: str | None = None  # user sub of who set it
    note: str | None = None  # their reason, shown to the tenant
    at: datetime | None = None
    until: datetime | None = None  # "on": automatic again from then
    until_topup: bool = False  # "on": ... or at the next top-up, whichever comes first


def power_mode(state: MeterControlState, now: datetime) -> PowerMode:
    """An 'on' whose end has passed is automatic already (the next cycle writes it)."""
    if state.manual is None or state.manual_expired(now):
        return PowerMode("auto")
    by = state.manual_by.removeprefix("user:") if state.manual_by else None
    return PowerMode(
        state.manual,
        by,
        state.manual_note,
        state.manual_at,
        state.manual_until if state.manual == "on" else None,
        state.manual_until_topup,
    )
