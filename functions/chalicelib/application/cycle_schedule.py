"""Changing a unit's billing cycle: the change waits for the next cycle boundary.

A cycle asked for mid-cycle is never applied mid-cycle: it is stored on the unit's cycle
as its pending change, effective at the end of the cycle in force today (in the
property's time zone), and every reader (bills, prepaid settlements, statements, charts)
gets the old rule before that day and the new one from it (domain/cycles.py). Asking again
before the boundary replaces the pending change; withdrawing it keeps the cycle as it is.
The write is conditional on the unit's ``settings_version`` and audited in the same
transaction, as every settings change is (``data/settings_store.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..auth.principal import Principal
from ..data.catalogue import Catalogue
from ..data.models import Property, Unit
from ..data.settings_store import SettingsStore, expect_version
from ..domain.calendar import zone
from ..domain.cycles import BillingCycle, CycleChange
from ..domain.errors import InvalidCycleError
from ..domain.periods import BillingPeriod
from ..pipeline.context import cycle_of_unit
from .scope import UnitScope
from .settings_errors import InvalidSettingsError


class CycleRule(BaseModel):
    """A billing cycle: every ``months`` months from ``anchor_day`` of ``anchor_month``."""

    model_config = ConfigDict(extra="forbid")

    months: Annotated[int, Field(strict=True, ge=1, le=12)] = 1
    anchor_day: Annotated[int, Field(strict=True, ge=1, le=28)] = 1
    anchor_month: Annotated[int, Field(strict=True, ge=1, le=12)] = 1

    def as_cycle(self) -> BillingCycle:
        return BillingCycle(
            months=self.months, anchor_day=self.anchor_day, anchor_month=self.anchor_month
        )


class CycleChangeRequest(BaseModel):
    """The cycle wanted from the next boundary; ``version`` is the unit's settings version."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(strict=True, ge=0)]
    cycle: CycleRule


@dataclass(frozen=True)
class CycleSchedule:
    unit: Unit
    premises: Property
    cycle: BillingCycle  # the unit's, else the property's, with any change scheduled
    today: date  # in the property's time zone
    version: int

    @property
    def in_force(self) -> BillingCycle:
        return self.cycle.in_force(self.today)

    @property
    def pending(self) -> CycleChange | None:
        """The change not yet in force, if any."""
        last = self.cycle.pending
        return last if last is not None and last.effective_from > self.today else None

    @property
    def current_period(self) -> BillingPeriod:
        return self.cycle.cycle_of(self.today)

    @property
    def first_period(self) -> BillingPeriod | None:
        """The first cycle under the pending change (a short bridge when the new rule's
        cycles do not start on the boundary)."""
        pending = self.pending
        return None if pending is None else self.cycle.cycle_of(pending.effective_from)

    def as_json(self) -> dict[str, Any]:
        period = self.current_period
        pending, first = self.pending, self.first_period
        return {
            "unit_id": self.unit.unit_id,
            "property_id": self.premises.property_id,
            "time_zone": self.premises.time_zone,
            "today": self.today.isoformat(),
            "version": self.version,
            "inherited": not self.unit.billing_cycle,
            "cycle": rule_json(self.in_force),
            "current_period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
            "change": None
            if pending is None
            else {
                "effective_from": pending.effective_from.isoformat(),
                "cycle": rule_json(pending.cycle),
                "first_period": None
                if first is None
                else {"start": first.start.isoformat(), "end": first.end.isoformat()},
            },
        }


def rule_json(cycle: BillingCycle) -> dict[str, Any]:
    rule = cycle.rule
    return {
        "months": rule.months,
        "anchor_day": rule.anchor_day,
        "anchor_month": rule.anchor_month,
        "kind": rule.kind,
    }


@dataclass(frozen=True)
class CycleScheduler:
    _catalogue: Catalogue
    _store: SettingsStore
    _scope: UnitScope

    def schedule_of(self, p: Principal, unit_id: str, now: datetime) -> CycleSchedule:
        unit = self._scope.visible_unit(p, unit_id)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        return CycleSchedule(
            unit,
            prop,
            cycle_of_unit(unit, prop),
            now.astimezone(zone(str(prop.time_zone))).date(),
            int(unit.settings_version or 0),
        )

    def schedule(
        self, p: Principal, unit_id: str, request: CycleChangeRequest, now: datetime
    ) -> CycleSchedule:
        """Store ``request.cycle`` as the change from the next boundary (400 naming the
        field when it is already the cycle and nothing waits to change)."""
        current = self.schedule_of(p, unit_id, now)
        wanted = request.cycle.as_cycle()
        if wanted == current.in_force and current.pending is None:
            raise InvalidSettingsError("cycle", "this is already the unit's billing cycle")
        cycle = current.cycle.scheduled(wanted, current.today)
        detail = {"scheduled": rule_json(wanted), "by": p.email}
        self._write(p, current, request.version, cycle, detail, now)
        return self.schedule_of(p, unit_id, now)

    def withdraw(
        self, p: Principal, unit_id: str, expected: int | None, now: datetime
    ) -> CycleSchedule:
        """Withdraw the change not yet in force; ``expected``: the settings version read
        (None: the one read now, for the API's DELETE, which has no body)."""
        current = self.schedule_of(p, unit_id, now)
        try:
            cycle = current.cycle.withdrawn(current.today)
        except InvalidCycleError as exc:
            raise InvalidSettingsError("cycle.change", "no change waiting to take effect") from exc
        detail = {"withdrawn": str(current.cycle.pending), "by": p.email}
        version = current.version if expected is None else expected
        self._write(p, current, version, cycle, detail, now)
        return self.schedule_of(p, unit_id, now)

    def _write(
        self,
        p: Principal,
        current: CycleSchedule,
        expected: int,
        cycle: BillingCycle,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        expect_version(expected, current.version, f"unit {current.unit.unit_id}")
        self._store.update_unit_cycle(
            p.company_id,
            current.unit.unit_id,
            expected,
            billing_cycle=cycle.document(),
            actor=f"user:{p.user_sub}",
            detail=detail,
            at=now,
        )
