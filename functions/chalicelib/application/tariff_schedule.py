"""Scheduling a unit's next tariff version ahead, and withdrawing one not yet in force.

A unit's tariff is a timeline of effective-dated versions (domain/tariff_versions.py). Staff
add the next version with the day it takes effect, a local day of the property; a day that
has begun, or that an issued bill priced, is refused, so what priced a day never changes
(past versions are immutable). The domain validates the tariff (overlapping or gappy
seasons, prices beyond the limits) and the schedule; every refusal names the field and
nothing is stored. The write is conditional on the unit's ``settings_version`` and audited
in the same transaction (``data/settings_store.py``), as every settings change is.

Nothing is rolled out to the meters: a version takes effect on its day, when the pipeline
reads the timeline (the bus context is rebuilt at least daily), and prepaid settlement and
bills split at its day in the property's time zone (docs/tariffs.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..auth.principal import Principal
from ..data.bills import BillStore
from ..data.catalogue import Catalogue
from ..data.models import Property, Unit
from ..data.settings_store import SettingsStore, expect_version
from ..domain.calendar import zone
from ..domain.errors import VersionScheduleError
from ..domain.tariff_versions import (
    MAX_SOURCE_CHARS,
    TariffTimeline,
    TariffVersion,
    parse_timeline,
    status_of,
    with_scheduled,
    without_scheduled,
)
from ..domain.tariffs import Tariff
from .scope import UnitScope
from .settings_errors import InvalidSettingsError


class ScheduledVersionRequest(BaseModel):
    """The next version of a unit's tariff; ``version`` is the unit's settings version read."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(strict=True, ge=0)]
    effective_from: date  # a local day of the property, after today
    tariff: Tariff
    source: Annotated[str, Field(max_length=MAX_SOURCE_CHARS)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


@dataclass(frozen=True)
class TariffSchedule:
    unit: Unit
    premises: Property
    timeline: TariffTimeline
    today: date  # in the property's time zone
    billed_through: date | None  # the end of the last bill issued to the unit's account
    version: int

    def as_json(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit.unit_id,
            "property_id": self.premises.property_id,
            "time_zone": self.premises.time_zone,
            "currency": self.timeline.currency,
            "today": self.today.isoformat(),
            "billed_through": None if self.billed_through is None else str(self.billed_through),
            "version": self.version,
            "versions": [
                {
                    "effective_from": v.effective_from.isoformat(),
                    "status": status_of(self.timeline, v, self.today),
                    "source": v.source,
                    "note": v.note,
                    "tariff": v.tariff.model_dump(mode="json"),
                }
                for v in self.timeline.versions
            ],
        }


@dataclass(frozen=True)
class TariffScheduler:
    _catalogue: Catalogue
    _store: SettingsStore
    _scope: UnitScope
    _bills: BillStore

    def schedule_of(self, p: Principal, unit_id: str, now: datetime) -> TariffSchedule:
        unit = self._scope.visible_unit(p, unit_id)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        latest = self._bills.latest(p.company_id, str(unit.account_id)) if unit.account_id else None
        return TariffSchedule(
            unit,
            prop,
            parse_timeline(unit.tariff),
            now.astimezone(zone(str(prop.time_zone))).date(),
            None if latest is None else date.fromisoformat(str(latest.period_end)),
            int(unit.settings_version or 0),
        )

    def schedule(
        self, p: Principal, unit_id: str, request: ScheduledVersionRequest, now: datetime
    ) -> TariffSchedule:
        current = self.schedule_of(p, unit_id, now)
        if request.tariff.currency != current.premises.currency:
            raise InvalidSettingsError(
                "tariff.currency", f"must be {current.premises.currency}, the account's currency"
            )
        version = TariffVersion(
            effective_from=request.effective_from,
            tariff=request.tariff,
            source=request.source,
            note=request.note,
        )
        try:
            timeline = with_scheduled(
                current.timeline, version, current.today, current.billed_through
            )
        except VersionScheduleError as exc:
            raise InvalidSettingsError(exc.field, exc.message) from exc
        detail = {"scheduled": version.model_dump(mode="json"), "by": p.email}
        self._write(p, current, request.version, timeline, detail, now)
        return self.schedule_of(p, unit_id, now)

    def withdraw(
        self, p: Principal, unit_id: str, day_text: str, expected: int | None, now: datetime
    ) -> TariffSchedule:
        """Withdraw the scheduled version of ``day_text``; ``expected``: the settings version
        read (None: the one read now, for the API's DELETE, which has no body)."""
        current = self.schedule_of(p, unit_id, now)
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise InvalidSettingsError(
                "effective_from", f"{day_text[:20]!r} is not YYYY-MM-DD"
            ) from None
        try:
            timeline = without_scheduled(current.timeline, day, current.today)
        except VersionScheduleError as exc:
            raise InvalidSettingsError(exc.field, exc.message) from exc
        detail = {"withdrawn": day.isoformat(), "by": p.email}
        version = current.version if expected is None else expected
        self._write(p, current, version, timeline, detail, now)
        return self.schedule_of(p, unit_id, now)

    def _write(
        self,
        p: Principal,
        current: TariffSchedule,
        expected: int,
        timeline: TariffTimeline,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        expect_version(expected, current.version, f"unit {current.unit.unit_id}")
        thresholds: Any = current.unit.low_credit_thresholds_minor  # kept as stored
        self._store.update_unit(
            p.company_id,
            current.unit.unit_id,
            expected,
            tariff=timeline.model_dump(mode="json"),
            low_credit_thresholds_minor=None
            if thresholds is None
            else [int(x) for x in thresholds],
            actor=f"user:{p.user_sub}",
            detail=detail,
            at=now,
        )
