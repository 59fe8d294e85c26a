"""The consumption panel of the unit and tenant pages: period tabs, previous /
next links, the SVG chart with its axes, and the comparison lines.

Everything here is presentation: the numbers come from ``portal/consumption.py``;
labels are formatted with Babel in the reader's language and the property's
time zone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from babel.dates import format_date, format_datetime, format_interval
from babel.numbers import format_percent
from chalice import Response

from ..application.chart import Bar, period_chart_svg
from ..application.consumption import Consumption, parse_request, today_at
from ..application.views import UnitDetail
from ..domain.usage_periods import InvalidChartPeriodError, PeriodKind
from ..routing.dependencies import deps
from .pages import PageContext

QUERY_KEYS = ("period", "at")


@dataclass(frozen=True)
class Tab:
    kind: str
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class Panel:
    c: Consumption
    svg: str
    heading: str
    tabs: list[Tab]
    previous_href: str | None
    next_href: str | None
    total: str
    previous_total: str
    change: str
    average: str
    since: str | None


def chart_query(ctx: PageContext) -> tuple[str | None, str | None]:
    """The raw ``period`` and ``at`` of the page's query string (validated later)."""
    q = ctx.query
    return q.get("period"), q.get("at")


def panel(ctx: PageContext, c: Consumption, base_path: str, chart_id: str) -> Panel:
    tr = ctx.tr
    lang = tr.language
    period = c.current.period
    heading = tr.t("chart_title", range=_range(period.kind, period.start, period.end, lang))

    def href(kind: str, at: date) -> str:
        return f"{base_path}?{urlencode({'period': kind, 'at': at.isoformat()})}"

    bars = [
        Bar(label, b.energy_kwh, tr.kwh(b.energy_kwh))
        for label, b in zip(_labels(c, lang), c.bars, strict=True)
    ]
    change = (
        tr.t(
            "chart_change",
            pct=format_percent(c.change_percent / 100, "+#,##0.0%;-#,##0.0%", locale=lang),
        )
        if c.change_percent is not None
        else tr.t("chart_change_none")
    )
    description = tr.t(
        "chart_desc",
        range=_range(period.kind, period.start, period.end, lang),
        total=tr.kwh(c.current.total_kwh),
        average=tr.kwh(c.current.average_per_day_kwh),
        previous=tr.kwh(c.previous.total_kwh),
    )
    svg = period_chart_svg(bars, heading, description, chart_id, tr.kwh, tr.kwh_unit)
    return Panel(
        c=c,
        svg=svg,
        heading=heading,
        tabs=[
            Tab(k.value, tr.t(f"chart_period_{k.value}"), href(k.value, c.at), k is c.kind)
            for k in PeriodKind
            # a calendar-month unit's cycle is the month tab; others get their own
            if k is not PeriodKind.CYCLE or not c.calendar_cycle or c.kind is k
        ],
        previous_href=href(c.kind.value, c.previous_at) if c.previous_at else None,
        next_href=href(c.kind.value, c.next_at) if c.next_at else None,
        total=tr.t("chart_total", kwh=tr.kwh(c.current.total_kwh)),
        previous_total=tr.t(
            "chart_previous",
            range=_range(c.kind, c.previous.period.start, c.previous.period.end, lang),
            kwh=tr.kwh(c.previous.total_kwh),
        ),
        change=change,
        average=tr.t("chart_average", kwh=tr.kwh(c.current.average_per_day_kwh)),
        since=tr.t("chart_since", day=format_date(c.since, "medium", locale=lang))
        if c.since
        else None,
    )


def _labels(c: Consumption, lang: str) -> list[str]:
    if c.kind is PeriodKind.DAY:
        walls = [s.local_start.strftime("%H:%M") for s in (b.slot for b in c.bars)]
        twice = {w for w, n in Counter(walls).items() if n > 1}
        # The hour that happens twice when summer time ends is told apart by its offset.
        return [
            w
            + (" " + format_datetime(b.slot.local_start, "xxx", locale=lang) if w in twice else "")
            for w, b in zip(walls, c.bars, strict=True)
        ]
    if c.kind is PeriodKind.WEEK:
        return [
            format_date(b.slot.first_day, "EEE", locale=lang)
            + "\n"
            + format_date(b.slot.first_day, "d", locale=lang)
            for b in c.bars
        ]
    if c.kind is PeriodKind.MONTH:
        return [format_date(b.slot.first_day, "d", locale=lang) for b in c.bars]
    if c.kind is PeriodKind.CYCLE:  # it may span two months: the month is named too
        pattern = "d/M" if lang == "en" else "M/d"
        return [format_date(b.slot.first_day, pattern, locale=lang) for b in c.bars]
    return [format_date(b.slot.first_day, "MMM", locale=lang) for b in c.bars]


def _range(kind: PeriodKind, start: date, end: date, lang: str) -> str:
    last = end - timedelta(days=1)
    if kind is PeriodKind.DAY:
        return format_date(start, "full", locale=lang)
    if kind in (PeriodKind.WEEK, PeriodKind.CYCLE):
        return format_interval(start, last, "yMMMd", locale=lang)
    if kind is PeriodKind.MONTH:
        return format_date(start, "LLLL y", locale=lang)
    return format_date(start, "y", locale=lang)


def unit_panel(ctx: PageContext, d: UnitDetail, base_path: str, chart_id: str = "chart") -> Panel:
    """The panel of one unit for the page's ``period``/``at`` (InvalidChartPeriodError if bad)."""
    assert ctx.principal is not None
    kind_text, at_text = chart_query(ctx)
    kind, at = parse_request(kind_text, at_text, today_at(d.premises.time_zone, ctx.now))
    c = deps().consumption.of(
        ctx.principal, d.unit, d.premises, d.meter, d.tenancy, kind, at, ctx.now
    )
    return panel(ctx, c, base_path, chart_id)


def bad_chart_request(ctx: PageContext, exc: InvalidChartPeriodError) -> Response:
    return ctx.render(
        "error.html",
        status=400,
        title=ctx.tr.t("bad_request"),
        text=f"{ctx.tr.t('chart_bad_period')} ({exc})",
    )
