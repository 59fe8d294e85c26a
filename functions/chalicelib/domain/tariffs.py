"""Tariffs as validated data: flat, block-tiered with seasons, time-of-use; fixed charges; tax."""

from __future__ import annotations

import functools
import itertools
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from chalicelib.domain.calendar import parse_hhmm
from chalicelib.domain.errors import InvalidCalendarError, InvalidTariffError
from chalicelib.domain.money import CURRENCY_EXPONENTS, Rounding, currency_exponent

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


def _empty() -> list[Any]:
    """An optional list's default. A Python function, not the builtin ``list``: pydantic
    reads a default factory's signature, and a builtin's is parsed from its text with the
    tokenizer, whose regexes cost a cold container ~13 ms of CPU (issue 19)."""
    return []


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_AMOUNTS = ("amount_minor", "price")


class FixedCharge(_Model):
    """A charge independent of energy: per occupied day, or per billing period.

    Given either as ``amount_minor`` (whole minor units) or as ``price`` in major units with
    up to six decimals, for charges quoted finer than the currency (60.99p a day is
    ``"0.6099"`` GBP). A price is held exactly; only the bill's line is rounded.
    """

    code: Code
    amount_minor: AmountMinor | None = None
    price: Price | None = None
    per: Literal["day", "period"]

    @model_serializer(mode="wrap")
    def _without_the_other_amount(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Exactly one amount is given; the stored document names only that one.
        data = handler(self)
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k not in _AMOUNTS}
        return data

    @model_validator(mode="after")
    def _one_amount(self) -> FixedCharge:
        if (self.amount_minor is None) == (self.price is None):
            raise ValueError("give exactly one of amount_minor and price")
        return self

    def exact_minor(self, currency: str) -> Fraction:
        """The charge in minor units, exactly (a fraction when priced finer than the unit)."""
        if self.amount_minor is not None:
            return Fraction(self.amount_minor)
        assert self.price is not None
        scale: int = 10 ** currency_exponent(currency)
        return Fraction(self.price) * scale


LineRounding = Literal["minor", "whole", "exact"]
TotalRounding = Literal["minor", "whole"]
RoundingMode = Literal["half_up", "half_even"]


class RoundingRules(_Model):
    """How a bill's figures become whole minor units.

    ``lines``: each energy and fixed line to the minor unit (``minor``), to whole major units
    (``whole``), or kept exact until the total (``exact``: the line shows its amount to the
    minor unit, the difference goes to the rounding line). ``total``: the bill's total to the
    minor unit or to whole major units (Taiwanese bills are whole dollars). ``mode``: ties
    away from zero (``half_up``) or to even (``half_even``). The defaults are what every
    tariff meant before these rules existed.
    """

    lines: LineRounding = "minor"
    total: TotalRounding = "minor"
    mode: RoundingMode = "half_up"

    @property
    def rounding(self) -> Rounding:
        return Rounding.HALF_UP if self.mode == "half_up" else Rounding.HALF_EVEN


# How a tier's ``upto_kwh`` grows with the span it bounds: kWh per month of the span (the
# month-fraction rule, so a two-month cycle doubles it), kWh per day, or kWh per cycle
# (a share of it for a part of a cycle).
TierScaling = Literal["per_month", "per_day", "fixed"]


class Tier(_Model):
    """Energy up to `upto_kwh` per month (cumulative bound) at `price_per_kwh`; None = no bound."""

    upto_kwh: TierKwh | None
    price_per_kwh: Price


class _SeasonSpan(_Model):
    """Inclusive month-day range (may wrap over new year)."""

    name: Code
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not MONTH_DAY_PATTERN.match(value):
            raise ValueError(f"{value!r} is not MM-DD")
        month, day = (int(part) for part in value.split("-"))
        try:
            date(_LEAP_YEAR, month, day)
        except ValueError:  # 02-30, 04-31...
            raise ValueError(f"{value!r} is not a day of the year") from None
        return value

    def covers(self, day: date) -> bool:
        key = (day.month, day.day)
        start, end = _month_day(self.start), _month_day(self.end)
        if start <= end:
            return start <= key <= end
        return key >= start or key <= end


@functools.lru_cache(maxsize=256)
def _month_day(text: str) -> tuple[int, int]:
    """'MM-DD' as (month, day); cached: every priced day asks which season holds it."""
    month, day = text.split("-")
    return int(month), int(day)


def _check_cover_year(seasons: list[Season] | list[TouSeason]) -> None:
    """Every month-day of a leap year (02-29 too) in exactly one season; names unique."""
    names = [s.name for s in seasons]
    if len(set(names)) != len(names):
        raise ValueError("season names must be unique")
    day = date(_LEAP_YEAR, 1, 1)
    while day.year == _LEAP_YEAR:
        # numbered from 1 and named, so an editor can point at the seasons concerned
        covering = [f"{i} ({s.name})" for i, s in enumerate(seasons, start=1) if s.covers(day)]
        if len(covering) != 1:
            what = "no season" if not covering else f"seasons {' and '.join(covering)}"
            raise ValueError(f"{day:%m-%d} is covered by {what}; need exactly one")
        day = date.fromordinal(day.toordinal() + 1)


class Season(_SeasonSpan):
    """Inclusive month-day range (may wrap over new year) and its tiers."""

    tiers: list[Tier] = Field(min_length=1, max_length=MAX_TIERS)

    @field_validator("tiers")
    @classmethod
    def _tiers_ascending(cls, tiers: list[Tier]) -> list[Tier]:
        bounds = [t.upto_kwh for t in tiers]
        if bounds[-1] is not None:
            raise ValueError("the last tier must have upto_kwh null (unbounded)")
        finite = [b for b in bounds[:-1] if b is not None]
        if len(finite) != len(bounds) - 1:
            raise ValueError("only the last tier may have upto_kwh null")
        for number, (lower, upper) in enumerate(itertools.pairwise(finite), start=2):
            if upper <= lower:
                # numbered from 1, so an editor can point at the tier concerned
                raise ValueError(
                    f"tier {number}: upto_kwh must be above {lower} kWh (tier {number - 1}'s); "
                    "bounds must be strictly ascending"
                )
        return tiers


class _TariffBase(_Model):
    tariff_id: Identifier
    currency: str
    tax_rate: TaxRate = Decimal(0)
    tax_on: Literal["lines", "total"] = "lines"
    rounding: RoundingRules = RoundingRules()
    tier_scaling: TierScaling = "per_month"
    fixed_charges: list[FixedCharge] = Field(default_factory=_empty, max_length=MAX_FIXED_CHARGES)

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
        _check_cover_year(seasons)
        return seasons

    def season_for(self, day: date) -> Season:
        for season in self.seasons:
            if season.covers(day):
                return season
        raise InvalidTariffError(f"no season covers {day}")  # unreachable once validated


class Band(_Model):
    name: Code
    price_per_kwh: Price


class TouSeason(_SeasonSpan):
    """The band prices in force on the days of one season."""

    prices: list[Band] = Field(min_length=1, max_length=MAX_BANDS)


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
    """Bands priced by local time windows; ``seasons`` optionally reprice every band by date
    (Taipower's summer and non-summer time-of-use prices); without them the band's own
    price holds all year."""

    kind: Literal["tou"]
    bands: list[Band] = Field(min_length=1, max_length=MAX_BANDS)
    windows: list[TouWindow] = Field(min_length=1, max_length=MAX_TOU_WINDOWS)
    holidays: list[date] = Field(default_factory=_empty, max_length=MAX_TOU_HOLIDAYS)
    seasons: list[TouSeason] = Field(default_factory=_empty, max_length=MAX_SEASONS)

    @field_validator("seasons")
    @classmethod
    def _seasons_cover_year_once(cls, seasons: list[TouSeason]) -> list[TouSeason]:
        if seasons:
            _check_cover_year(seasons)
        return seasons

    @model_validator(mode="after")
    def _windows_tile_each_day(self) -> TouTariff:
        names = [b.name for b in self.bands]
        if len(set(names)) != len(names):
            raise ValueError("band names must be unique")
        for season in self.seasons:
            priced = sorted(b.name for b in season.prices)
            if priced != sorted(names):
                raise ValueError(f"season {season.name!r} must price exactly the bands {names}")
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

    def season_for(self, day: date) -> TouSeason | None:
        for season in self.seasons:
            if season.covers(day):
                return season
        return None

    def price_on(self, name: str, day: date) -> Decimal:
        """The band's price on a local day: its season's, else its own."""
        season = self.season_for(day)
        if season is None:
            return self.band_price(name)
        return next(b.price_per_kwh for b in season.prices if b.name == name)

    def max_price_per_kwh(self) -> Decimal:
        prices = [b.price_per_kwh for b in self.bands]
        prices += [b.price_per_kwh for season in self.seasons for b in season.prices]
        return max(prices)


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
