"""Billing cycles as data: every N months, anchored on a day of the month.

A cycle is the run of local days ``[start, end)`` that one postpaid bill covers and
within which prepaid tiers accumulate. ``months`` = 1 and ``anchor_day`` = 1 is the
calendar month (the default, and what every unit without a cycle means). Taiwanese
residential bills are ``months`` = 2; a landlord who reads meters on the 15th uses
``anchor_day`` = 15. ``anchor_month`` says which months a multi-month cycle starts in
(Taipower bills half its customers in odd months, half in even ones).

The anchor day stops at 28 so that every month has it: a cycle "on the 31st" would
have to mean something different in February, and no utility we model needs it.

A cycle change never applies mid-cycle: it is stored on the cycle as ``change`` (the
new rule and the day it takes effect, the end of the cycle in force when it was asked),
so every reader (bills, prepaid settlements, statements, charts) asks one object for the
cycle holding a day and gets the old rule before the boundary and the new one after.
When the new rule's cycles do not start on that boundary (monthly to the 15th), the
days from the boundary to the new rule's first boundary are one short bridging cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

from chalicelib.domain.errors import InvalidCycleError
from chalicelib.domain.periods import BillingPeriod

CycleKind = Literal["monthly", "every_n_months", "anchored"]
# Each whole-number field's bounds: the anchor day stops at 28 (see above).
BOUNDS = {"months": (1, 12), "anchor_day": (1, 28), "anchor_month": (1, 12)}


# Frozen dataclasses checked by hand, not pydantic models: ingest's bus context holds a
# cycle for every meter, so this module is on a cold container's first message, and a
# steady message uses no other pydantic model (pydantic's import is ~50 ms of a cold
# start, issue 19; docs/deploy.md, "Cold start"). ``parse_cycle`` reads the stored JSON.
@dataclass(frozen=True)
class BillingCycle:
    """Cycles start on ``anchor_day`` of ``anchor_month`` and every ``months`` after."""

    months: int = 1
    anchor_day: int = 1
    anchor_month: int = 1
    change: CycleChange | None = None  # a later rule, from one of this rule's boundaries

    def __post_init__(self) -> None:
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            # strict: a string or a bool is refused, as the stored JSON must hold a number
            if type(value) is not int or not low <= value <= high:
                raise InvalidCycleError(
                    f"invalid billing cycle: {name}: a whole number from {low} to {high},"
                    f" not {value!r}"
                )
        if self.change is not None and not isinstance(self.change, CycleChange):
            raise InvalidCycleError("invalid billing cycle: change: not a cycle change")

    def document(self) -> dict[str, Any]:
        """The cycle as stored (JSON; no ``change`` key when none is scheduled)."""
        found: dict[str, Any] = {
            "months": self.months,
            "anchor_day": self.anchor_day,
            "anchor_month": self.anchor_month,
        }
        if self.change is not None:
            found["change"] = {
                "effective_from": self.change.effective_from.isoformat(),
                "cycle": self.change.cycle.document(),
            }
        return found

    @property
    def kind(self) -> CycleKind:
        """How the soak summary and the pages name the cycle."""
        if self.anchor_day != 1:
            return "anchored"
        return "monthly" if self.months == 1 else "every_n_months"

    @property
    def rule(self) -> BillingCycle:
        """This rule without its changes (what the cycle is before the first change)."""
        return replace(self, change=None) if self.change else self

    def in_force(self, day: date) -> BillingCycle:
        """The rule (without changes) that cuts the cycle holding ``day``."""
        if self.change is not None and day >= self.change.effective_from:
            return self.change.cycle.in_force(day)
        return self.rule

    @property
    def pending(self) -> CycleChange | None:
        """The last change scheduled (in force or not: compare its day with today)."""
        last = self.change
        while last is not None and last.cycle.change is not None:
            last = last.cycle.change
        return last

    @property
    def is_calendar_month(self) -> bool:
        return self.change is None and self.kind == "monthly"

    def cycle_of(self, day: date) -> BillingPeriod:
        """The cycle holding ``day`` (under the rule in force on that day)."""
        change = self.change
        if change is not None and day >= change.effective_from:
            later = change.cycle.cycle_of(day)
            if later.start < change.effective_from:  # the bridge to the new rule's boundary
                return BillingPeriod(change.effective_from, later.end)
            return later
        period = self._own_cycle_of(day)
        if change is not None and period.end > change.effective_from:
            return BillingPeriod(period.start, change.effective_from)
        return period

    def scheduled(self, new: BillingCycle, today: date) -> BillingCycle:
        """This cycle with ``new`` taking effect at the end of the cycle holding ``today``.

        A change not yet in force is replaced (it was due on the same boundary); rules
        whose last day is over a year before ``today`` are dropped, since no bill or
        prepaid cycle reaches back that far (MAX_PERIODS_PER_RUN)."""
        if new.change is not None:
            raise InvalidCycleError("cycle.change: a new cycle is a rule, not a schedule")
        boundary = self.cycle_of(today).end
        if new == self.in_force(today):  # back to the rule in force: only drop what waits
            return self._without_from(boundary)
        return (
            self._without_from(boundary)
            ._then(CycleChange(effective_from=boundary, cycle=new))
            ._pruned(today)
        )

    def withdrawn(self, today: date) -> BillingCycle:
        """This cycle without its change not yet in force (InvalidCycleError if none)."""
        last = self.pending
        if last is None or last.effective_from <= today:
            raise InvalidCycleError("cycle.change: no change waiting to take effect")
        return self._without_from(last.effective_from)

    def _own_cycle_of(self, day: date) -> BillingPeriod:
        index = day.year * 12 + day.month - 1
        if day.day < self.anchor_day:
            index -= 1  # before this month's anchor: the cycle began last month
        index -= (index - (self.anchor_month - 1)) % self.months
        start = _month_start(index, self.anchor_day)
        return BillingPeriod(start, _month_start(index + self.months, self.anchor_day))

    def following(self, cycle: BillingPeriod) -> BillingPeriod:
        return self.cycle_of(cycle.end)

    def is_boundary(self, day: date) -> bool:
        """True when a cycle starts on ``day``."""
        return self.cycle_of(day).start == day

    def _without_from(self, day: date) -> BillingCycle:
        """The chain with every change from ``day`` on dropped."""
        if self.change is None:
            return self
        if self.change.effective_from >= day:
            return self.rule
        kept = self.change.cycle._without_from(day)
        return replace(self, change=replace(self.change, cycle=kept))

    def _then(self, last: CycleChange) -> BillingCycle:
        if self.change is None:
            return replace(self, change=last)
        later = self.change.cycle._then(last)
        return replace(self, change=replace(self.change, cycle=later))

    def _pruned(self, today: date) -> BillingCycle:
        horizon = today - timedelta(days=RULES_KEPT_DAYS)
        cycle = self
        while cycle.change is not None and cycle.change.effective_from < horizon:
            cycle = cycle.change.cycle
        return cycle


@dataclass(frozen=True)
class CycleChange:
    """A new rule from ``effective_from`` (a boundary of the rule before it) on."""

    effective_from: date
    cycle: BillingCycle


RULES_KEPT_DAYS = 400  # a bill catches up at most 12 cycles; a prepaid cycle is the current one


MONTHLY = BillingCycle()


def _month_start(index: int, day: int) -> date:
    return date(index // 12, index % 12 + 1, day)


def parse_cycle(document: object, at: str = "") -> BillingCycle:
    """A cycle from its JSON object (None is the calendar month); errors name the field,
    after ``at`` (where the cycle sits in a larger document, e.g. ``"cycle."``)."""
    if document is None:
        return MONTHLY
    if isinstance(document, BillingCycle):
        return document
    if not isinstance(document, Mapping):
        raise InvalidCycleError(f"invalid billing cycle: {at or 'cycle'}: not an object")
    unknown = sorted(str(k) for k in document if k not in (*BOUNDS, "change"))
    if unknown:
        raise InvalidCycleError(f"invalid billing cycle: {at}{unknown[0]}: not a cycle field")
    later = None if document.get("change") is None else _parse_change(document["change"], at)
    try:
        return BillingCycle(
            **{name: document[name] for name in BOUNDS if name in document}, change=later
        )
    except InvalidCycleError as exc:  # one of its own fields: say where it sits
        raise InvalidCycleError(str(exc).replace(": ", f": {at}", 1)) from None


def _parse_change(document: object, outer: str) -> CycleChange:
    at = f"{outer}change."
    if not isinstance(document, Mapping) or set(document) != {"effective_from", "cycle"}:
        raise InvalidCycleError(
            f"invalid billing cycle: {at.rstrip('.')}: needs effective_from and cycle only"
        )
    effective_from = document["effective_from"]
    try:
        day = (
            effective_from
            if isinstance(effective_from, date)
            else date.fromisoformat(effective_from)
        )
    except (TypeError, ValueError):
        raise InvalidCycleError(
            f"invalid billing cycle: {at}effective_from: a date (YYYY-MM-DD),"
            f" not {effective_from!r}"
        ) from None
    cycle = document["cycle"]
    if cycle is None:
        raise InvalidCycleError(f"invalid billing cycle: {at}cycle: a cycle, not null")
    return CycleChange(effective_from=day, cycle=parse_cycle(cycle, f"{at}cycle."))
