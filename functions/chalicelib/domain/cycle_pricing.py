"""One cycle's bill as a function of the energy in each priced component (pure).

The postpaid bill and prepaid settlement both price a cycle through here, so they cannot
disagree:

1. ``plan_cycle`` cuts the billed days of a cycle at every tariff-version change and every
   season change (local days of the property). Each run of days is a *span*; a span of a
   flat or tiered version is one *component* (its tiers scaled to the span by the version's
   ``tier_scaling``), a span of a time-of-use version is one component per band.
2. ``metered_energy`` puts each consumption interval's energy into the components it
   overlaps, in proportion to time (a band's share by the time spent in it), exact to the
   Wh with the largest remainder. ``energy_by_days`` is the fallback when only an opening and
   a closing reading are known: the total shared by days, as utilities do.
3. ``price_cycle`` prices components and fixed charges with the version's rounding and tax
   rules, then rounds the total by the rules of the version in force at the end of the
   billed days. The total is what the bill charges; prepaid settlement charges the
   difference between two such totals (``prepaid_cycle.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from chalicelib.domain.allocation import allocate_units
from chalicelib.domain.bill_lines import ROUNDING_CODE, BillLine
from chalicelib.domain.calendar import local_midnight
from chalicelib.domain.consumption import Interval
from chalicelib.domain.energy import ZERO_KWH, from_milli, kwh, to_milli
from chalicelib.domain.money import Money, currency_exponent, round_to_minor
from chalicelib.domain.periods import BillingPeriod, month_fraction
from chalicelib.domain.pricing import FLAT_SEASON, PricedTier, prorate_kwh
from chalicelib.domain.tariff_versions import (
    ALWAYS,
    AnyTariff,
    TariffTimeline,
    TariffVersion,
    as_timeline,
)
from chalicelib.domain.tariffs import FlatTariff, RoundingRules, TieredTariff, TouTariff
from chalicelib.domain.tou import band_pieces

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Span:
    """Consecutive billed days priced by one version and one season."""

    version: TariffVersion
    start: date
    end: date
    season: str
    scale: Fraction  # what the version's tier bounds are multiplied by for these days

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def key(self) -> str:
        return f"{self.version.effective_from.isoformat()}/{self.start.isoformat()}/{self.season}"


@dataclass(frozen=True)
class Component:
    """What accumulates usage: a span's tier walk, or one band of a time-of-use span."""

    span: Span
    tiers: tuple[PricedTier, ...]
    band: str | None = None

    @property
    def key(self) -> str:
        return self.span.key if self.band is None else f"{self.span.key}/{self.band}"


@dataclass(frozen=True)
class CyclePlan:
    cycle: BillingPeriod
    billed: BillingPeriod
    tz: str
    spans: tuple[Span, ...]
    components: tuple[Component, ...]

    @property
    def currency(self) -> str:
        return self.spans[0].version.tariff.currency

    @property
    def final(self) -> TariffVersion:
        """The version in force at the end of the billed days: its rules round the total."""
        return self.spans[-1].version

    @property
    def versions(self) -> tuple[TariffVersion, ...]:
        seen: list[TariffVersion] = []
        for span in self.spans:
            if span.version not in seen:
                seen.append(span.version)
        return tuple(seen)


@dataclass(frozen=True)
class PricedCycle:
    lines: tuple[BillLine, ...]
    total_minor: int


def tier_scale(tariff: AnyTariff, start: date, end: date, cycle: BillingPeriod) -> Fraction:
    """What a monthly, daily or per-cycle tier bound is multiplied by for days [start, end)."""
    if tariff.tier_scaling == "per_day":
        return Fraction((end - start).days)
    if tariff.tier_scaling == "fixed":
        return Fraction((end - start).days, cycle.days)
    return month_fraction(start, end)


def _season_name(tariff: AnyTariff, day: date) -> str:
    if isinstance(tariff, TieredTariff):
        return tariff.season_for(day).name
    if isinstance(tariff, TouTariff):
        season = tariff.season_for(day)
        return FLAT_SEASON if season is None else season.name
    return FLAT_SEASON


def _spans(timeline: TariffTimeline, cycle: BillingPeriod, billed: BillingPeriod) -> list[Span]:
    spans: list[Span] = []
    for part, version in timeline.parts(billed):
        runs: list[tuple[date, date, str]] = []
        for day in part.each_day():
            name = _season_name(version.tariff, day)
            following = day + timedelta(days=1)
            if runs and runs[-1][2] == name:
                runs[-1] = (runs[-1][0], following, name)
            else:
                runs.append((day, following, name))
        for start, end, name in runs:
            scale = tier_scale(version.tariff, start, end, cycle)
            spans.append(Span(version, start, end, name, scale))
    return spans


def _components(span: Span) -> list[Component]:
    tariff = span.version.tariff
    if isinstance(tariff, TouTariff):
        return [
            Component(span, (PricedTier(0, None, tariff.price_on(b.name, span.start)),), b.name)
            for b in tariff.bands
        ]
    if isinstance(tariff, FlatTariff):
        return [Component(span, (PricedTier(0, None, tariff.price_per_kwh),))]
    season = next(s for s in tariff.seasons if s.name == span.season)
    tiers = tuple(
        PricedTier(
            i, None if t.upto_kwh is None else prorate_kwh(t.upto_kwh, span.scale), t.price_per_kwh
        )
        for i, t in enumerate(season.tiers)
    )
    return [Component(span, tiers)]


def plan_cycle(
    tariff: AnyTariff | TariffTimeline, cycle: BillingPeriod, billed: BillingPeriod, tz: str
) -> CyclePlan:
    """The spans and components of the ``billed`` days of ``cycle`` (billed within cycle)."""
    timeline = as_timeline(tariff)
    key = (cycle, billed, tz)
    found = timeline.cached(key)
    if isinstance(found, CyclePlan):
        return found
    spans = _spans(timeline, cycle, billed)
    components = tuple(c for span in spans for c in _components(span))
    plan = CyclePlan(cycle, billed, tz, tuple(spans), components)
    timeline.remember(key, plan)
    return plan


def interval_pieces(
    plan: CyclePlan,
    start: datetime,
    end: datetime,
    *,
    open_start: bool = True,
    open_end: bool = True,
) -> list[tuple[str, timedelta]]:
    """(component key, time) for the part of [start, end) in each component.

    Time before the first span or after the last one belongs to that span when that end is
    open: readings taken a little outside the billed days are still billed, never dropped.
    A closed end stops at the billed days (another cycle takes the rest)."""
    pieces: list[tuple[str, timedelta]] = []
    last = len(plan.spans) - 1
    for index, span in enumerate(plan.spans):
        first_open = index == 0 and open_start
        last_open = index == last and open_end
        lo = start if first_open else max(start, local_midnight(span.start, plan.tz))
        hi = end if last_open else min(end, local_midnight(span.end, plan.tz))
        if lo >= hi:
            continue
        tariff = span.version.tariff
        if isinstance(tariff, TouTariff):
            for band, duration in band_pieces(tariff, lo, hi, plan.tz):
                pieces.append((f"{span.key}/{band}", duration))
        else:
            pieces.append((span.key, hi - lo))
    return pieces


def metered_energy(plan: CyclePlan, intervals: Sequence[Interval]) -> dict[str, Decimal]:
    """Energy per component from the intervals: each split by time, exact to the Wh."""
    totals = {c.key: 0 for c in plan.components}
    for interval in intervals:
        if not interval.charges or interval.energy_kwh == 0:
            continue
        pieces = interval_pieces(plan, interval.start.at, interval.end.at)
        shares = allocate_units(
            to_milli(interval.energy_kwh), [duration // _MICROSECOND for _, duration in pieces]
        )
        for (key, _), share in zip(pieces, shares, strict=True):
            totals[key] += share
    return {key: from_milli(wh) for key, wh in totals.items()}


def energy_by_days(plan: CyclePlan, total_kwh: Decimal) -> dict[str, Decimal]:
    """The total shared over the spans by days (largest remainder to the Wh).

    Only for flat and tiered spans (one component each); time-of-use needs readings."""
    if any(c.band is not None for c in plan.components):
        raise ValueError("time-of-use energy cannot be shared by days")
    shares = allocate_units(to_milli(kwh(total_kwh)), [s.days for s in plan.spans])
    return {c.key: from_milli(share) for c, share in zip(plan.components, shares, strict=True)}


def _scaled(exact_minor: Fraction, rules: RoundingRules, exponent: int) -> Fraction:
    """A line's value by the tariff's line rule (exact stays exact)."""
    if rules.lines == "exact":
        return exact_minor
    if rules.lines == "whole":
        unit = 10**exponent
        return Fraction(round_to_minor(exact_minor / unit, rules.rounding) * unit)
    return Fraction(round_to_minor(exact_minor, rules.rounding))


def _round_total(exact_minor: Fraction, rules: RoundingRules, exponent: int) -> int:
    if rules.total == "whole":
        unit: int = 10**exponent
        return round_to_minor(exact_minor / unit, rules.rounding) * unit
    return round_to_minor(exact_minor, rules.rounding)


def _major(amount_minor: int, currency: str) -> Decimal:
    return Money(amount_minor, currency).to_decimal()


def _fraction_major(value: Fraction, exponent: int) -> Decimal:
    """An exact base in major units, to at most 6 decimals (for a tax line's quantity)."""
    major = value / 10**exponent
    return (Decimal(major.numerator) / Decimal(major.denominator)).quantize(Decimal("0.000001"))


class _Pricer:
    """Accumulates lines and the exact total while a cycle is priced."""

    def __init__(self, plan: CyclePlan, refs: Mapping[str, str]) -> None:
        self.plan = plan
        self.currency = plan.currency
        self.exponent = currency_exponent(self.currency)
        self.refs = dict(refs)
        self.lines: list[BillLine] = []
        self.exact = Fraction(0)
        self.total_bases: dict[Decimal, tuple[Fraction, RoundingRules]] = {}
        self.labelled = any(v.effective_from != ALWAYS for v in plan.versions)

    def base_refs(self, span: Span) -> dict[str, str]:
        refs = {**self.refs, "tariff_id": span.version.tariff.tariff_id}
        if self.labelled:
            refs["version"] = span.version.label
        return refs

    def add(self, line_exact: Fraction, rules: RoundingRules, line: BillLine) -> Fraction:
        value = _scaled(line_exact, rules, self.exponent)
        shown = round_to_minor(value, rules.rounding)
        self.lines.append(
            BillLine(line.code, line.quantity, line.unit, line.unit_price, shown, line.refs)
        )
        self.exact += value
        return value

    def tax(self, net: Fraction, tariff: AnyTariff, refs: Mapping[str, str]) -> None:
        if tariff.tax_rate == 0 or net == 0:
            return
        if tariff.tax_on == "total":
            base, rules = self.total_bases.get(tariff.tax_rate, (Fraction(0), tariff.rounding))
            self.total_bases[tariff.tax_rate] = (base + net, rules)
            return
        amount = round_to_minor(net * Fraction(tariff.tax_rate), tariff.rounding.rounding)
        base_major = _fraction_major(net, self.exponent)
        self.lines.append(BillLine("tax", base_major, "base", tariff.tax_rate, amount, refs))
        self.exact += amount

    def taxes_on_totals(self) -> None:
        for rate, (base, rules) in self.total_bases.items():
            amount = round_to_minor(base * Fraction(rate), rules.rounding)
            refs = {**self.refs, "base": "total"}
            major = _fraction_major(base, self.exponent)
            self.lines.append(BillLine("tax", major, "base", rate, amount, refs))
            self.exact += amount

    def close(self) -> PricedCycle:
        rules = self.plan.final.tariff.rounding
        total = _round_total(self.exact, rules, self.exponent)
        shown = sum(line.amount_minor for line in self.lines)
        if total != shown:
            refs = {**self.refs, "rule": f"total:{rules.total}:{rules.mode}"}
            diff = total - shown
            unit_price = _major(diff, self.currency)
            self.lines.append(BillLine(ROUNDING_CODE, Decimal(1), "bill", unit_price, diff, refs))
        return PricedCycle(tuple(self.lines), total)


def _walk(component: Component, usage: Decimal) -> list[tuple[PricedTier, Decimal]]:
    """The energy of cumulative ``usage`` that falls in each tier."""
    parts: list[tuple[PricedTier, Decimal]] = []
    lower = ZERO_KWH
    for tier in component.tiers:
        upper = usage if tier.upto_kwh is None else min(usage, tier.upto_kwh)
        parts.append((tier, kwh(max(ZERO_KWH, upper - lower))))
        if tier.upto_kwh is not None:
            lower = max(lower, tier.upto_kwh)
    return parts


def accrued_days(span_start: date, span_end: date, through: date | None) -> int:
    end = span_end if through is None else min(span_end, through)
    return max(0, (end - span_start).days)


def price_cycle(
    plan: CyclePlan,
    energy: Mapping[str, Decimal],
    *,
    through: date | None = None,
    refs: Mapping[str, str] | None = None,
    allocation: str | None = None,
) -> PricedCycle:
    """The cycle's lines and total for the energy in each component.

    Fixed charges accrue for billed days before ``through`` (None: every billed day): per
    day, the charge times those days; per period, the charge times those days over the
    cycle's days (so a tenancy of part of a cycle pays its share, prepaid or postpaid).
    """
    pricer = _Pricer(plan, refs or {})
    for span in plan.spans:
        tariff = span.version.tariff
        rules = tariff.rounding
        span_refs = {
            **pricer.base_refs(span),
            "season": span.season,
            "segment": f"[{span.start.isoformat()}, {span.end.isoformat()})",
        }
        if tariff.tier_scaling == "per_month":
            span_refs["month_fraction"] = str(span.scale)
        else:
            span_refs["tier_scale"] = f"{tariff.tier_scaling}:{span.scale}"
        net = Fraction(0)
        for component in (c for c in plan.components if c.span is span):
            usage = kwh(energy.get(component.key, ZERO_KWH))
            component_refs = dict(span_refs)
            if component.band is not None:
                component_refs["band"] = component.band
            else:
                component_refs["segment_kwh"] = str(usage)
                if allocation is not None:
                    component_refs["allocation"] = allocation.format(
                        days=span.days, billed=plan.billed.days
                    )
            for tier, part_kwh in _walk(component, usage):
                if part_kwh == 0:
                    continue
                line_refs = dict(component_refs)
                if component.band is None:
                    bound = tier.upto_kwh
                    line_refs["tier"] = str(tier.index)
                    line_refs["tier_upto_kwh"] = "none" if bound is None else str(bound)
                exact = Fraction(part_kwh) * Fraction(tier.price_per_kwh) * 10**pricer.exponent
                line = BillLine("energy", part_kwh, "kWh", tier.price_per_kwh, 0, line_refs)
                net += pricer.add(exact, rules, line)
            if component.band is not None and tariff.tax_on == "lines":
                # Time-of-use is taxed band by band (each band its own component).
                pricer.tax(net, tariff, {**component_refs, "base": f"energy:{component.band}"})
                net = Fraction(0)
        pricer.tax(net, tariff, {**span_refs, "base": f"energy:{span_refs['segment']}"})
    _fixed(pricer, plan, through)
    pricer.taxes_on_totals()
    return pricer.close()


def _fixed(pricer: _Pricer, plan: CyclePlan, through: date | None) -> None:
    """Fixed charges of each version for its accrued billed days (one line per version)."""
    for part_start, part_end, version in _version_parts(plan):
        tariff = version.tariff
        days = accrued_days(part_start, part_end, through)
        if days == 0:
            continue
        for charge in tariff.fixed_charges:
            refs = {
                **pricer.base_refs(Span(version, part_start, part_end, "", Fraction(0))),
                "fixed": charge.code,
                "per": charge.per,
            }
            each = charge.exact_minor(tariff.currency)
            if charge.per == "day":
                exact = each * days
            else:
                exact = each * Fraction(days, plan.cycle.days)
                refs["prorate"] = f"{days}/{plan.cycle.days}"
            unit_price = _fraction_major(each, pricer.exponent).normalize()
            if charge.amount_minor is not None:
                unit_price = _major(charge.amount_minor, tariff.currency)
            line = BillLine("fixed", Decimal(days), "day", unit_price, 0, refs)
            value = pricer.add(exact, tariff.rounding, line)
            pricer.tax(value, tariff, {**refs, "base": f"fixed:{charge.code}"})


def _version_parts(plan: CyclePlan) -> list[tuple[date, date, TariffVersion]]:
    parts: list[tuple[date, date, TariffVersion]] = []
    for span in plan.spans:
        if parts and parts[-1][2] is span.version:
            parts[-1] = (parts[-1][0], span.end, span.version)
        else:
            parts.append((span.start, span.end, span.version))
    return parts
