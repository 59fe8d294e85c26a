"""Tariffs as validated data: flat, block-tiered with seasons, time-of-use; fixed charges; tax."""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from chalicelib.domain.calendar import parse_hhmm
from chalicelib.domain.errors import InvalidCalendarError, InvalidTariffError
from chalicelib.domain.money import CURRENCY_EXPONENTS

MAX_TIERS = 16
MAX_SEASONS = 12
MAX_BANDS = 8
MAX_TOU_WINDOWS = 96
MAX_TOU_HOLIDAYS = 400
MAX_FIXED_CHARGES = 16
MAX_PRICE = Decimal("1000000")
MAX_TIER_KWH = Decimal("1000000")
PRICE_DECIMALS = 6
TIER_KWH_DECIMALS = 3
TAX_RATE_DECIMALS = 6
DAY_KINDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
MONTH_DAY_PATTERN = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
# A leap year, so 02-29 must be covered by exactly one season too.
_LEAP_YEAR = 2024


def _refuse_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('floats are refused; write the number as a string, e.g. "0.125"')
    if isinstance(value, bool):
        raise ValueError("booleans are not numbers here")
    return value


Price = Annotated[
    Decimal,
    BeforeValidator(_refuse_float),
    Field(ge=0, le=MAX_PRICE, decimal_places=PRICE_DECIMALS, allow_inf_nan=False),
]
TierKwh = Annotated[
    Decimal,
    BeforeValidator(_refuse_float),
    Field(gt=0, le=MAX_TIER_KWH, decimal_places=TIER_KWH_DECIMALS, allow_inf_nan=False),
]
TaxRate = Annotated[
    Decimal,
    BeforeValidator(_refuse_float),
    Field(ge=0, le=1, decimal_places=TAX_RATE_DECIMALS, allow_inf_nan=False),
]
AmountMinor = Annotated[int, Field(strict=True, ge=0, le=10**12)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Identifier = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:#-]*$")
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FixedCharge(_Model):
    """A charge independent of energy: per occupied day, or per billing period."""

    code: Code
    amount_minor: AmountMinor
    per: Literal["day", "period"]


class Tier(_Model):
    """Energy up to `upto_kwh` per month (cumulative bound) at `price_per_kwh`; None = no bound."""

    upto_kwh: TierKwh | None
    price_per_kwh: Price


class Season(_Model):
    """Inclusive month-day range (may wrap over new year) and its tiers."""

    name: Code
    start: str
    end: str
    tiers: list[Tier] = Field(min_length=1, max_length=MAX_TIERS)

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not MONTH_DAY_PATTERN.match(value):
            raise ValueError(f"{value!r} is not MM-DD")
        month, day = (int(part) for part in value.split("-"))
        date(_LEAP_YEAR, month, day)  # raises ValueError for 02-30, 04-31...
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers_ascending(cls, tiers: list[Tier]) -> list[Tier]:
        bounds = [t.upto_kwh for t in tiers]
        if bounds[-1] is not None:
            raise ValueError("the last tier must have upto_kwh null (unbounded)")
        finite = [b for b in bounds[:-1] if b is not None]
        if len(finite) != len(bounds) - 1:
            raise ValueError("only the last tier may have upto_kwh null")
        if any(a >= b for a, b in itertools.pairwise(finite)):
            raise ValueError("tier upto_kwh bounds must be strictly ascending")
        return tiers

    def covers(self, day: date) -> bool:
        key = (day.month, day.day)
        start = tuple(int(p) for p in self.start.split("-"))
        end = tuple(int(p) for p in self.end.split("-"))
        if start <= end:
            return start <= key <= end
        return key >= start or key <= end


class _TariffBase(_Model):
    tariff_id: Identifier
    currency: str
    tax_rate: TaxRate = Decimal(0)
    fixed_charges: list[FixedCharge] = Field(default_factory=list, max_length=MAX_FIXED_CHARGES)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            raise ValueError(f"unknown currency {value!r}")
        return value

    @field_validator("fixed_charges")
    @classmethod
    def _unique_codes(cls, charges: list[FixedCharge]) -> list[FixedCharge]:
        codes = [c.code for c in charges]
        if len(set(codes)) != len(codes):
            raise ValueError("fixed charge codes must be unique")
        return charges


class FlatTariff(_TariffBase):
    kind: Literal["flat"]
    price_per_kwh: Price


class TieredTariff(_TariffBase):
    kind: Literal["tiered"]
    seasons: list[Season] = Field(min_length=1, max_length=MAX_SEASONS)

    @field_validator("seasons")
    @classmethod
    def _cover_year_once(cls, seasons: list[Season]) -> list[Season]:
        names = [s.name for s in seasons]
        if len(set(names)) != len(names):
            raise ValueError("season names must be unique")
        day = date(_LEAP_YEAR, 1, 1)
        while day.year == _LEAP_YEAR:
            covering = [s.name for s in seasons if s.covers(day)]
            if len(covering) != 1:
                what = "no season" if not covering else f"seasons {covering}"
                raise ValueError(f"{day:%m-%d} is covered by {what}; need exactly one")
            day = date.fromordinal(day.toordinal() + 1)
        return seasons

    def season_for(self, day: date) -> Season:
        for season in self.seasons:
            if season.covers(day):
                return season
        raise InvalidTariffError(f"no season covers {day}")  # unreachable once validated


class Band(_Model):
    name: Code
    price_per_kwh: Price


class TouWindow(_Model):
    """[start, end) local time on the listed day kinds, priced at `band`."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]] = Field(
        min_length=1, max_length=8
    )
    start: str
    end: str
    band: Code

    @model_validator(mode="after")
    def _ordered(self) -> TouWindow:
        try:
            start, end = parse_hhmm(self.start), parse_hhmm(self.end)
        except InvalidCalendarError as exc:
            raise ValueError(str(exc)) from exc
        if start >= end:
            raise ValueError(f"window start {self.start} must be before end {self.end}")
        return self


class TouTariff(_TariffBase):
    kind: Literal["tou"]
    bands: list[Band] = Field(min_length=1, max_length=MAX_BANDS)
    windows: list[TouWindow] = Field(min_length=1, max_length=MAX_TOU_WINDOWS)
    holidays: list[date] = Field(default_factory=list, max_length=MAX_TOU_HOLIDAYS)

    @model_validator(mode="after")
    def _windows_tile_each_day(self) -> TouTariff:
        names = [b.name for b in self.bands]
        if len(set(names)) != len(names):
            raise ValueError("band names must be unique")
        for window in self.windows:
            if window.band not in names:
                raise ValueError(f"window uses unknown band {window.band!r}")
        for kind in DAY_KINDS:
            spans = sorted(
                (parse_hhmm(w.start), parse_hhmm(w.end)) for w in self.windows if kind in w.days
            )
            cursor = 0
            for start, end in spans:
                if start != cursor:
                    problem = "overlap" if start < cursor else "gap"
                    raise ValueError(f"windows for {kind} have a {problem} at minute {cursor}")
                cursor = end
            if cursor != 24 * 60:
                raise ValueError(f"windows for {kind} do not reach 24:00")
        return self

    def band_price(self, name: str) -> Decimal:
        for band in self.bands:
            if band.name == name:
                return band.price_per_kwh
        raise InvalidTariffError(f"unknown band {name!r}")

    def max_price_per_kwh(self) -> Decimal:
        return max(b.price_per_kwh for b in self.bands)


Tariff = Annotated[FlatTariff | TieredTariff | TouTariff, Field(discriminator="kind")]
_TARIFF_ADAPTER: TypeAdapter[FlatTariff | TieredTariff | TouTariff] = TypeAdapter(Tariff)


def parse_tariff(document: object) -> FlatTariff | TieredTariff | TouTariff:
    """Validate a tariff document (dict or JSON text); errors name the offending field."""
    try:
        if isinstance(document, str | bytes):
            return _TARIFF_ADAPTER.validate_json(document)
        return _TARIFF_ADAPTER.validate_python(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidTariffError(f"invalid tariff: {problems}") from exc
