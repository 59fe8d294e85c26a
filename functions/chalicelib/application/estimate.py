"""How many days the remaining credit lasts at the recent rate of spending (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

SPENDING_KINDS = frozenset({"consumption_charge", "fixed_charge"})
WINDOW = timedelta(days=14)
MIN_SPAN = timedelta(days=1)
# Beyond three months a fortnight's rate says little (seasons, holidays): the page says
# "more than 90 days" rather than a number nobody should plan by.
HORIZON_DAYS = 90
MAX_DAYS = HORIZON_DAYS + 1  # what days_left answers for "more than HORIZON_DAYS"


def days_left(
    balance_minor: int, entries: Iterable[tuple[str, int, datetime]], now: datetime
) -> int | None:
    """``entries`` are (kind, amount_minor, occurred_at). None when there is no
    recent spending to extrapolate from; 0 when the credit is already gone;
    ``MAX_DAYS`` when it lasts beyond ``HORIZON_DAYS``.

    The rate is the spending in the last 14 days divided by the span from the
    oldest such charge to now (at least a day), so a new tenancy is not judged
    on a full fortnight it has not lived yet.
    """
    if balance_minor <= 0:
        return 0
    since = now - WINDOW
    spent = 0
    oldest: datetime | None = None
    for kind, amount_minor, at in entries:
        if kind in SPENDING_KINDS and amount_minor < 0 and since <= at <= now:
            spent += -amount_minor
            oldest = at if oldest is None or at < oldest else oldest
    if spent == 0 or oldest is None:
        return None
    span_s = max((now - oldest).total_seconds(), MIN_SPAN.total_seconds())
    # integer arithmetic: days = balance / (spent / span_days)
    days = (balance_minor * int(span_s)) // (spent * 86_400)
    return min(int(days), MAX_DAYS)
