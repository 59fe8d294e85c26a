"""Effective-dated tariff versions: a unit's tariff as a timeline.

A timeline document is ``{"versions": [{"effective_from": "YYYY-MM-DD", "source": ...,
"tariff": {...}}, ...]}``, oldest first. A version is in force from its date (a local
day of the property) until the next version's date. Any plain tariff document is a
timeline of one version in force since forever, so every stored tariff keeps meaning
what it meant.

All versions share the currency (an account holds one currency); kinds may differ
(a landlord may move from tiered to time-of-use on a date).
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from chalicelib.domain.errors import InvalidTimelineError, VersionScheduleError
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.tariffs import FlatTariff, Tariff, TieredTariff, TouTariff, parse_tariff

MAX_VERSIONS = 64
MAX_CACHED_PLANS = 32
MAX_SOURCE_CHARS = 500
ALWAYS = date(2000, 1, 1)  # nothing older was ever metered by this system (chart periods too)

AnyTariff = FlatTariff | TieredTariff | TouTariff


class TariffVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    effective_from: date
    tariff: Tariff
    source: Annotated[str, Field(max_length=MAX_SOURCE_CHARS)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None

    @property
    def label(self) -> str:
        """How a bill names the version that priced it."""
        return f"{self.tariff.tariff_id}@{self.effective_from.isoformat()}"


class TariffTimeline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    versions: list[TariffVersion] = Field(min_length=1, max_length=MAX_VERSIONS)
    # Plans of cycles already priced (cycle_pricing.plan_cycle): pure, so a warm container
    # that settles a meter every minute plans its cycle once. Bounded.
    _plans: dict[tuple[object, ...], object] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # The versions are the timeline; the plan cache is not part of what it means.
        return isinstance(other, TariffTimeline) and self.versions == other.versions

    __hash__ = None  # type: ignore[assignment]

    def cached(self, key: tuple[object, ...]) -> object | None:
        return self._plans.get(key)

    def remember(self, key: tuple[object, ...], plan: object) -> None:
        if len(self._plans) >= MAX_CACHED_PLANS:
            self._plans.clear()
        self._plans[key] = plan

    @model_validator(mode="after")
    def _ordered_one_currency(self) -> TariffTimeline:
        for older, newer in itertools.pairwise(self.versions):
            if newer.effective_from <= older.effective_from:
                raise ValueError(
                    f"effective_from must be strictly ascending: {newer.effective_from} "
                    f"follows {older.effective_from}"
                )
        currencies = {v.tariff.currency for v in self.versions}
        if len(currencies) != 1:
            raise ValueError(f"every version must use one currency, got {sorted(currencies)}")
        return self

    @property
    def currency(self) -> str:
        return self.versions[0].tariff.currency

    @property
    def latest(self) -> TariffVersion:
        return self.versions[-1]

    def version_on(self, day: date) -> TariffVersion:
        found = None
        for version in self.versions:
            if version.effective_from <= day:
                found = version
        if found is None:
            first = self.versions[0].effective_from
            raise InvalidTimelineError(f"no tariff version is in force on {day} (first: {first})")
        return found

    def parts(self, period: BillingPeriod) -> tuple[tuple[BillingPeriod, TariffVersion], ...]:
        """``period`` split at every version change inside it, each part with its version."""
        cuts = [v.effective_from for v in self.versions if period.start < v.effective_from]
        cuts = [c for c in cuts if c < period.end]
        bounds = [period.start, *cuts, period.end]
        return tuple(
            (BillingPeriod(a, b), self.version_on(a)) for a, b in itertools.pairwise(bounds)
        )

    def changes_in(self, period: BillingPeriod) -> tuple[date, ...]:
        return tuple(
            v.effective_from
            for v in self.versions
            if period.contains(v.effective_from) and v.effective_from != period.start
        )


_TIMELINE_ADAPTER: TypeAdapter[TariffTimeline] = TypeAdapter(TariffTimeline)


def single(tariff: AnyTariff) -> TariffTimeline:
    """A timeline holding one tariff, in force since forever."""
    return TariffTimeline(versions=[TariffVersion(effective_from=ALWAYS, tariff=tariff)])


def as_timeline(tariff: AnyTariff | TariffTimeline) -> TariffTimeline:
    return tariff if isinstance(tariff, TariffTimeline) else single(tariff)


def parse_timeline(document: object) -> TariffTimeline:
    """A timeline document, or a plain tariff document as a timeline of one version.

    Errors name the field (``versions.1.tariff.seasons.0.tiers``)."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise InvalidTimelineError(f"invalid tariff: not JSON ({exc})") from exc
    if not (isinstance(document, dict) and "versions" in document):
        return single(parse_tariff(document))
    try:
        return _TIMELINE_ADAPTER.validate_python(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'timeline'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidTimelineError(f"invalid tariff timeline: {problems}") from exc


def tariff_in_force(document: object, day: date) -> AnyTariff:
    """The tariff a stored document prices ``day`` with (its first version before it began)."""
    timeline = parse_timeline(document)
    if day < timeline.versions[0].effective_from:
        return timeline.versions[0].tariff
    return timeline.version_on(day).tariff


def is_timeline_document(document: Any) -> bool:
    return isinstance(document, dict) and "versions" in document


# --- scheduling: staff add the next version ahead; what priced a day never changes ---

VersionStatus = Literal["past", "in_force", "scheduled"]


def status_of(timeline: TariffTimeline, version: TariffVersion, today: date) -> VersionStatus:
    """``today``: the local day of the property. A version that priced a day before today
    and is no longer in force is past; the one pricing today is in force."""
    if version.effective_from > today:
        return "scheduled"
    in_force = timeline.version_on(today) if timeline.versions[0].effective_from <= today else None
    return "in_force" if version == in_force else "past"


def with_scheduled(
    timeline: TariffTimeline, version: TariffVersion, today: date, billed_through: date | None
) -> TariffTimeline:
    """The timeline with ``version`` added ahead of today.

    Refused (``VersionScheduleError`` naming the field): a day already begun (today, or a
    day a bill already priced: ``billed_through`` is the end of the last issued bill), a
    day not after the last version (withdraw a scheduled one to move it), a currency other
    than the timeline's (the account's), more than ``MAX_VERSIONS``."""
    day = version.effective_from
    if billed_through is not None and day < billed_through:
        raise VersionScheduleError(
            "effective_from",
            f"{day} is inside a bill already issued (billed up to {billed_through}); "
            "past versions are immutable",
        )
    if day <= today:
        raise VersionScheduleError(
            "effective_from",
            f"{day} has begun or is past (today is {today} in the property's time zone); "
            "a version takes effect from a later day",
        )
    last = timeline.latest.effective_from
    if day <= last:
        raise VersionScheduleError(
            "effective_from",
            f"{day} must follow the last version ({last}); withdraw that one to move it",
        )
    if version.tariff.currency != timeline.currency:
        raise VersionScheduleError(
            "tariff.currency", f"must be {timeline.currency}, the account's currency"
        )
    if len(timeline.versions) >= MAX_VERSIONS:
        raise VersionScheduleError("effective_from", f"at most {MAX_VERSIONS} versions")
    return TariffTimeline(versions=[*timeline.versions, version])


def without_scheduled(timeline: TariffTimeline, day: date, today: date) -> TariffTimeline:
    """The timeline without the scheduled version of ``day`` (past and current are kept)."""
    found = [v for v in timeline.versions if v.effective_from == day]
    if not found:
        raise VersionScheduleError("effective_from", f"no version takes effect on {day}")
    if day <= today:
        raise VersionScheduleError(
            "effective_from", f"the version of {day} has taken effect; past versions are immutable"
        )
    return TariffTimeline(versions=[v for v in timeline.versions if v.effective_from != day])


__all__ = [
    "ALWAYS",
    "TariffTimeline",
    "TariffVersion",
    "VersionStatus",
    "as_timeline",
    "is_timeline_document",
    "parse_timeline",
    "single",
    "status_of",
    "tariff_in_force",
    "with_scheduled",
    "without_scheduled",
]
