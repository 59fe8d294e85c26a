"""The settings editors: a property's friendly hours, holidays, emergency credit and
low-credit thresholds; a unit's tariff and its own thresholds; the company's thresholds.

Every change is validated by the domain's models (errors name the field),
written on condition that nobody changed the item since the editor read it
(``settings_version``; a lost race answers 409), audited in the same
transaction (``data/settings_store.py``), then made effective on the meters
(``pipeline/settings_rollout.py``):

- tariff: a prepaid, occupied unit is first settled up to its newest stored
  reading at the old tariff, then the new tariff prices everything after that
  reading. The month's energy so far keeps counting towards the new tariff's
  blocks when both price the month the same way (tiered -> tiered); a change of
  kind (flat/tiered <-> time-of-use) starts the new tariff's position at zero.
  A postpaid unit has no running settlement: its next bill prices the whole
  unbilled period with the tariff stored when the bill is made.
- friendly hours, holidays, emergency credit: every meter of the property the
  control step already drives gets a fresh decision and desired document.
- thresholds: read by the settlement of the next reading (cloud only); a change of the
  company's marks every bus's stored ingest context stale, so each bus's next message
  rebuilds it (docs/pipeline.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..auth.errors import ForbiddenError
from ..auth.principal import Principal, Role
from ..data.catalogue import Catalogue
from ..data.models import Property, Unit
from ..data.settings_store import SettingsStore, expect_version
from ..domain import FriendlyHours
from ..domain.calendar import MAX_HOLIDAYS, MAX_WEEKLY_WINDOWS, WeeklyWindow
from ..domain.errors import DomainError
from ..domain.prepaid import MAX_THRESHOLDS
from ..domain.tariff_versions import parse_timeline
from ..domain.tariffs import FlatTariff, Tariff, TieredTariff, TouTariff
from ..observability import logger
from ..pipeline.errors import ControlContentionError
from ..pipeline.settings_rollout import Rollout, SettingsRollout
from .scope import UnitScope
from .settings_errors import InvalidSettingsError

MAX_EMERGENCY_CREDIT_MINOR = 10**9
MAX_THRESHOLD_MINOR = 10**9
# One look at the company's thresholds lists the properties and units that override them
# from at most this many of each (a Query each; docs/data-model.md, pattern S4).
MAX_PROPERTIES_READ = 200
MAX_UNITS_READ = 2_000
HHMM = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

StrictInt = Annotated[int, Field(strict=True)]
ThresholdMinor = Annotated[int, Field(strict=True, ge=0, le=MAX_THRESHOLD_MINOR)]
Thresholds = Annotated[list[ThresholdMinor], Field(max_length=MAX_THRESHOLDS)]
AnyTariff = FlatTariff | TieredTariff | TouTariff


# --- request bodies (strict: unknown fields such as company_id are refused) ---


class WeeklyWindowModel(BaseModel):
    """[start, end) local time on one weekday (0 = Monday); overnight = two windows."""

    model_config = ConfigDict(extra="forbid")

    weekday: Annotated[int, Field(strict=True, ge=0, le=6)]
    start: str = Field(pattern=HHMM, max_length=5)
    end: str = Field(pattern=HHMM, max_length=5)

    @model_validator(mode="after")
    def _domain_window(self) -> WeeklyWindowModel:
        try:
            WeeklyWindow(self.weekday, self.start, self.end)
        except DomainError as exc:
            raise ValueError(str(exc)) from exc
        return self


class FriendlyHoursModel(BaseModel):
    """The schedule; its time zone is always the property's."""

    model_config = ConfigDict(extra="forbid")

    weekly: list[WeeklyWindowModel] = Field(max_length=MAX_WEEKLY_WINDOWS)
    holidays: list[str] = Field(max_length=MAX_HOLIDAYS)

    @field_validator("holidays")
    @classmethod
    def _iso_dates(cls, values: list[str]) -> list[str]:
        for index, text in enumerate(values):
            try:
                if not ISO_DATE.match(text):
                    raise ValueError
                date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"holiday {index + 1} {text[:20]!r} is not YYYY-MM-DD") from None
        return sorted(set(values))


class PropertySettingsUpdate(BaseModel):
    """The whole settings of a property (PUT replaces them); ``version`` is the one read."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(strict=True, ge=0)]
    friendly_hours: FriendlyHoursModel
    emergency_credit_minor: Annotated[int, Field(strict=True, ge=0, le=MAX_EMERGENCY_CREDIT_MINOR)]
    # null: the company's thresholds apply
    low_credit_thresholds_minor: Thresholds | None

    @field_validator("low_credit_thresholds_minor")
    @classmethod
    def _distinct(cls, values: list[int] | None) -> list[int] | None:
        return None if values is None else sorted(set(values), reverse=True)


class CompanyThresholdsUpdate(BaseModel):
    """The company's low-credit thresholds: what a property or unit without its own uses
    (the company comes from the caller, never from the body)."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(strict=True, ge=0)]
    low_credit_thresholds_minor: Thresholds

    @field_validator("low_credit_thresholds_minor")
    @classmethod
    def _distinct(cls, values: list[int]) -> list[int]:
        return sorted(set(values), reverse=True)


class UnitTariffUpdate(BaseModel):
    """A unit's tariff (validated by the domain's tariff models) and its own thresholds."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(strict=True, ge=0)]
    tariff: Tariff
    # null: the property's (else the company's) thresholds apply
    low_credit_thresholds_minor: Thresholds | None

    @field_validator("low_credit_thresholds_minor")
    @classmethod
    def _distinct(cls, values: list[int] | None) -> list[int] | None:
        return None if values is None else sorted(set(values), reverse=True)


# --- read models ---


@dataclass(frozen=True)
class PropertySettings:
    premises: Property
    friendly: FriendlyHours
    emergency_credit_minor: int
    thresholds_minor: list[int] | None  # the property's own; None = the company's
    company_thresholds_minor: list[int]
    version: int

    def as_json(self) -> dict[str, Any]:
        shadow = self.friendly.to_shadow()
        return {
            "property_id": self.premises.property_id,
            "version": self.version,
            "time_zone": self.premises.time_zone,
            "currency": self.premises.currency,
            "friendly_hours": {
                "weekly": [
                    {"weekday": d, "start": s, "end": e}
                    for d, s, e in shadow["weekly"]  # type: ignore[attr-defined]
                ],
                "holidays": shadow["holidays"],
            },
            "emergency_credit_minor": self.emergency_credit_minor,
            "low_credit_thresholds_minor": self.thresholds_minor,
            "company_low_credit_thresholds_minor": self.company_thresholds_minor,
        }


@dataclass(frozen=True)
class UnitTariff:
    unit: Unit
    premises: Property
    tariff: AnyTariff
    thresholds_minor: list[int] | None  # the unit's own; None = inherited
    inherited_thresholds_minor: list[int]
    version: int

    @property
    def occupied(self) -> bool:
        return bool(self.unit.tenancy_id)

    @property
    def effective_rule(self) -> str:
        """When a new tariff starts to count (docs/portal.md, Settings editors)."""
        if not self.occupied:
            return "immediately"
        if self.unit.billing_mode == "prepaid":
            return "after_settling_at_old_tariff"
        return "whole_unbilled_period"

    def as_json(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit.unit_id,
            "property_id": self.premises.property_id,
            "version": self.version,
            "billing_mode": self.unit.billing_mode,
            "occupied": self.occupied,
            "tariff": self.tariff.model_dump(mode="json"),
            "low_credit_thresholds_minor": self.thresholds_minor,
            "inherited_low_credit_thresholds_minor": self.inherited_thresholds_minor,
            "tariff_change_applies": self.effective_rule,
        }


@dataclass(frozen=True)
class CompanyThresholds:
    """The company's thresholds and who does not use them: the properties and units that
    set their own (``complete``: False when the company had more of them than one look
    reads, ``MAX_PROPERTIES_READ`` properties and ``MAX_UNITS_READ`` units)."""

    company_id: str
    thresholds_minor: list[int]
    version: int
    properties: list[Property]  # those with their own thresholds
    units: list[Unit]  # those with their own thresholds
    premises: dict[str, Property]  # every property read, by id (a unit's name and currency)
    complete: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "company_id": self.company_id,
            "version": self.version,
            "low_credit_thresholds_minor": self.thresholds_minor,
            "overridden_by": {
                "properties": [
                    {
                        "property_id": prop.property_id,
                        "name": prop.name,
                        "currency": prop.currency,
                        "low_credit_thresholds_minor": _ints(prop.low_credit_thresholds_minor),
                    }
                    for prop in self.properties
                ],
                "units": [
                    {
                        "unit_id": unit.unit_id,
                        "property_id": unit.property_id,
                        "name": unit.name,
                        "low_credit_thresholds_minor": _ints(unit.low_credit_thresholds_minor),
                    }
                    for unit in self.units
                ],
                "complete": self.complete,
            },
        }


@dataclass(frozen=True)
class Saved:
    version: int
    rollout: Rollout
    settled: bool = False  # a tariff change settled the account at the old tariff first


@dataclass(frozen=True)
class CompanySaved:
    version: int
    gateways_marked: int  # buses whose ingest context was marked stale


def _require_company_admin(p: Principal) -> None:
    if p.role is not Role.COMPANY_ADMIN:
        raise ForbiddenError("only a company admin sees or changes the company's thresholds")


def _roll_out(apply: Callable[[], Rollout]) -> Rollout:
    """The change is stored by now: a busy gateway must not turn success into an error."""
    try:
        return apply()
    except ControlContentionError:
        logger.warning("settings stored; rollout deferred to the next telemetry cycle")
        return Rollout(0, 0, 0, deferred=True)


def _ints(values: Any) -> list[int] | None:
    return None if values is None else [int(v) for v in values]


def _friendly_of(prop: Property) -> FriendlyHours:
    if prop.friendly_hours:
        return FriendlyHours.from_shadow(prop.friendly_hours)
    return FriendlyHours(str(prop.time_zone))


@dataclass(frozen=True)
class SettingsEditor:
    _catalogue: Catalogue
    _store: SettingsStore
    _rollout: SettingsRollout
    _scope: UnitScope

    def property_settings(self, p: Principal, property_id: str) -> PropertySettings:
        prop = self._scope.visible_property(p, property_id)
        company = self._catalogue.get_company(p.company_id)
        return PropertySettings(
            premises=prop,
            friendly=_friendly_of(prop),
            emergency_credit_minor=int(prop.emergency_credit_minor or 0),
            thresholds_minor=_ints(prop.low_credit_thresholds_minor),
            company_thresholds_minor=_ints(company.low_credit_thresholds_minor) or [],
            version=int(prop.settings_version or 0),
        )

    def save_property_settings(
        self, p: Principal, property_id: str, update: PropertySettingsUpdate, now: datetime
    ) -> Saved:
        current = self.property_settings(p, property_id)
        try:
            friendly = FriendlyHours.build(
                str(current.premises.time_zone),
                [(w.weekday, w.start, w.end) for w in update.friendly_hours.weekly],
                [date.fromisoformat(d) for d in update.friendly_hours.holidays],
            )
        except DomainError as exc:
            raise InvalidSettingsError("friendly_hours", str(exc)) from exc
        before = {
            "friendly_hours": current.friendly.to_shadow(),
            "emergency_credit_minor": current.emergency_credit_minor,
            "low_credit_thresholds_minor": current.thresholds_minor,
        }
        after = {
            "friendly_hours": friendly.to_shadow(),
            "emergency_credit_minor": update.emergency_credit_minor,
            "low_credit_thresholds_minor": update.low_credit_thresholds_minor,
        }
        version = self._store.update_property(
            p.company_id,
            property_id,
            update.version,
            friendly_hours=after["friendly_hours"],  # type: ignore[arg-type]
            emergency_credit_minor=update.emergency_credit_minor,
            low_credit_thresholds_minor=update.low_credit_thresholds_minor,
            actor=f"user:{p.user_sub}",
            detail={"before": before, "after": after, "by": p.email},
            at=now,
        )
        rollout = _roll_out(
            lambda: self._rollout.reapply_property(
                p.company_id, property_id, now, f"user:{p.user_sub}"
            )
        )
        return Saved(version, rollout)

    def company_thresholds(self, p: Principal) -> CompanyThresholds:
        """What properties and units without their own use. Company admins only: the list
        reaches every property, beyond a manager's or a landlord's."""
        _require_company_admin(p)
        company = self._catalogue.get_company(p.company_id)
        properties = list(self._catalogue.list_properties(p.company_id, MAX_PROPERTIES_READ))
        units, every_unit = self._catalogue.units_with_own_thresholds(p.company_id, MAX_UNITS_READ)
        return CompanyThresholds(
            company_id=p.company_id,
            thresholds_minor=_ints(company.low_credit_thresholds_minor) or [],
            version=int(company.settings_version or 0),
            properties=[x for x in properties if x.low_credit_thresholds_minor is not None],
            units=units,
            premises={x.property_id: x for x in properties},
            complete=every_unit and len(properties) < MAX_PROPERTIES_READ,
        )

    def save_company_thresholds(
        self, p: Principal, update: CompanyThresholdsUpdate, now: datetime
    ) -> CompanySaved:
        """The company's low-credit thresholds (company admins only); every bus of the
        company is marked changed, so ingest acts on them from each bus's next message."""
        _require_company_admin(p)
        company = self._catalogue.get_company(p.company_id)
        expect_version(update.version, int(company.settings_version or 0), "the company")
        version = self._store.update_company_thresholds(
            p.company_id,
            update.version,
            update.low_credit_thresholds_minor,
            actor=f"user:{p.user_sub}",
            detail={
                "before": _ints(company.low_credit_thresholds_minor) or [],
                "after": update.low_credit_thresholds_minor,
                "by": p.email,
            },
            at=now,
        )
        return CompanySaved(version, self._rollout.company_changed(p.company_id))

    def unit_tariff(self, p: Principal, unit_id: str) -> UnitTariff:
        unit = self._scope.visible_unit(p, unit_id)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        inherited = _ints(prop.low_credit_thresholds_minor)
        if inherited is None:
            inherited = _ints(self._catalogue.get_company(p.company_id).low_credit_thresholds_minor)
        return UnitTariff(
            unit=unit,
            premises=prop,
            # A timeline shows its newest version (the form edits one tariff; docs/tariffs.md)
            tariff=parse_timeline(unit.tariff).latest.tariff,
            thresholds_minor=_ints(unit.low_credit_thresholds_minor),
            inherited_thresholds_minor=inherited or [],
            version=int(unit.settings_version or 0),
        )

    def save_unit_tariff(
        self, p: Principal, unit_id: str, update: UnitTariffUpdate, now: datetime
    ) -> Saved:
        current = self.unit_tariff(p, unit_id)
        new = update.tariff
        if len(parse_timeline(current.unit.tariff).versions) > 1:
            # Replacing would store one plain tariff and drop the dated versions, the past
            # ones included (they are immutable): a change is the next version instead.
            raise InvalidSettingsError(
                "tariff",
                "this unit's tariff has dated versions; schedule the change as the next "
                "version (effective_from, POST /v1/units/{unit_id}/tariff/versions)",
            )
        if new.currency != current.premises.currency:
            raise InvalidSettingsError(
                "tariff.currency", f"must be {current.premises.currency}, the property's currency"
            )
        changed = new != current.tariff
        if changed and new.tariff_id == current.tariff.tariff_id:
            # Ledger entries name the tariff that priced them; one id must mean one price list.
            raise InvalidSettingsError(
                "tariff.tariff_id", "give the changed tariff a new id (charges name the tariff id)"
            )
        # Refuse before settling: a stale editor must not cause a settlement either.
        expect_version(update.version, current.version, f"unit {unit_id}")
        settled = False
        if changed and current.occupied and current.unit.billing_mode == "prepaid":
            settled = self._rollout.settle_unit(p.company_id, unit_id, now)
        version = self._store.update_unit(
            p.company_id,
            unit_id,
            update.version,
            tariff=new.model_dump(mode="json"),
            low_credit_thresholds_minor=update.low_credit_thresholds_minor,
            actor=f"user:{p.user_sub}",
            detail={
                "before": {
                    "tariff": current.tariff.model_dump(mode="json"),
                    "low_credit_thresholds_minor": current.thresholds_minor,
                },
                "after": {
                    "tariff": new.model_dump(mode="json"),
                    "low_credit_thresholds_minor": update.low_credit_thresholds_minor,
                },
                "applies": current.effective_rule,
                "settled_first": settled,
                "by": p.email,
            },
            at=now,
        )
        rollout = Rollout(0, 0, 0)
        if changed:
            rollout = _roll_out(
                lambda: self._rollout.reapply_unit(p.company_id, unit_id, now, f"user:{p.user_sub}")
            )
        return Saved(version, rollout, settled)
