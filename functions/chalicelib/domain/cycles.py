"""Billing cycles as data: every N months, anchored on a day of the month.

A cycle is the run of local days ``[start, end)`` that one postpaid bill covers and
within which prepaid tiers accumulate. ``months`` = 1 and ``anchor_day`` = 1 is the
calendar month (the default, and what every unit without a cycle means). Taiwanese
residential bills are ``months`` = 2; a landlord who reads meters on the 15th uses
``anchor_day`` = 15. ``anchor_month`` says which months a multi-month cycle starts in
(Taipower bills half its customers in odd months, half in even ones).

The anchor day stops at 28 so that every month has it: a cycle "on the 31st" would
have to mean something different in February, and no utility we model needs it.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain.errors import InvalidCycleError
from chalicelib.domain.periods import BillingPeriod

CycleKind = Literal["monthly", "every_n_months", "anchored"]


class BillingCycle(BaseModel):
    """Cycles start on ``anchor_day`` of ``anchor_month`` and every ``months`` after."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    months: int = Field(default=1, ge=1, le=12, strict=True)
    anchor_day: int = Field(default=1, ge=1, le=28, strict=True)
    anchor_month: int = Field(default=1, ge=1, le=12, strict=True)

    @property
    def kind(self) -> CycleKind:
        """How the soak summary and the pages name the cycle."""
        if self.anchor_day != 1:
            return "anchored"
        return "monthly" if self.months == 1 else "every_n_months"

    def cycle_of(self, day: date) -> BillingPeriod:
        """The cycle holding ``day``."""
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


MONTHLY = BillingCycle()


def _month_start(index: int, day: int) -> date:
    return date(index // 12, index % 12 + 1, day)


def parse_cycle(document: object) -> BillingCycle:
    """A cycle from its JSON object (None is the calendar month); errors name the field."""
    if document is None:
        return MONTHLY
    try:
        return BillingCycle.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'cycle'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidCycleError(f"invalid billing cycle: {problems}") from exc
