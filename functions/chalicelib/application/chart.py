"""Consumption as a server-rendered SVG bar chart: no script, readable on a phone.

Bars are energy per day (kWh, Decimal); the tallest bar fills the plot. Labels
are pre-formatted by the caller so the chart knows nothing of locales.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

MAX_BARS = 62
WIDTH = 640
HEIGHT = 220
PAD_LEFT = 8
PAD_BOTTOM = 28
PAD_TOP = 22


@dataclass(frozen=True)
class Bar:
    label: str  # e.g. "11/28"
    energy_kwh: Decimal
    value_label: str  # e.g. "4.210"


def bar_chart_svg(bars: Sequence[Bar], title: str) -> str:
    bars = list(bars)[-MAX_BARS:]
    if not bars:
        return ""
    peak = max((b.energy_kwh for b in bars), default=Decimal(0))
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT * 2) / len(bars)
    bar_w = max(2.0, slot * 0.7)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - PAD_BOTTOM}" '
        'class="axis"/>',
    ]
    label_every = max(1, len(bars) // 10)
    for i, bar in enumerate(bars):
        share = (bar.energy_kwh / peak) if peak > 0 else Decimal(0)
        h = float(share) * plot_h  # drawing coordinates only; the data stay Decimal
        x = PAD_LEFT + i * slot + (slot - bar_w) / 2
        y = HEIGHT - PAD_BOTTOM - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{escape(bar.label)}: {escape(bar.value_label)} kWh</title></rect>"
        )
        if len(bars) <= 14:
            parts.append(
                f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" '
                f'text-anchor="middle">{escape(bar.value_label)}</text>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="label" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


# --- period charts (portal/consumption.py): axes, labels, accessible text ---

PERIOD_WIDTH = 340  # about the card's width on a 390 px phone: 12 px text stays ~12 px
PERIOD_HEIGHT = 240
AXIS_LEFT = 44  # room for the kWh labels of the value axis
AXIS_BOTTOM = 36  # two lines of slot labels (weekday, day)
AXIS_TOP = 26
MAX_X_LABELS = 6  # beyond a week, every n-th slot is labelled
MAX_VALUE_LABELS = 7  # numbers on top of the bars only where they fit


def period_chart_svg(
    bars: Sequence[Bar],
    title: str,
    description: str,
    chart_id: str,
    format_kwh: Callable[[Decimal], str],
    unit: str = "kWh",
) -> str:
    """Bars with a value axis (0, half, peak in kWh), slot labels, a ``<title>``
    and a ``<desc>`` (what a screen reader reads: the caller's summary), and a
    ``<title>`` per bar. Empty input draws an empty axis, not nothing."""
    bars = list(bars)[-MAX_BARS:]
    cid = escape(chart_id)
    peak = max((b.energy_kwh for b in bars), default=Decimal(0))
    plot_h = PERIOD_HEIGHT - AXIS_BOTTOM - AXIS_TOP
    base_y = PERIOD_HEIGHT - AXIS_BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {PERIOD_WIDTH} {PERIOD_HEIGHT}" '
        f'role="img" aria-labelledby="{cid}-t {cid}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-t">{escape(title)}</title>',
        f'<desc id="{cid}-d">{escape(description)}</desc>',
        f'<text class="axis-unit" x="{AXIS_LEFT - 6}" y="{AXIS_TOP - 12}" '
        f'text-anchor="end">{escape(unit)}</text>',
    ]
    parts.append(_value_axis(peak, (Decimal(1), Decimal("0.5")), format_kwh))
    if bars:
        slot = (PERIOD_WIDTH - AXIS_LEFT) / len(bars)
        bar_w = max(2.0, slot * 0.7)
        label_every = 1 if len(bars) <= MAX_VALUE_LABELS else -(-len(bars) // MAX_X_LABELS)
        for i, bar in enumerate(bars):
            share = (bar.energy_kwh / peak) if peak > 0 else Decimal(0)
            h = float(share) * plot_h  # drawing coordinates only; the data stay Decimal
            x = AXIS_LEFT + i * slot + (slot - bar_w) / 2
            y = base_y - h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}"><title>{escape(bar.label.replace(chr(10), " "))}: '
                f"{escape(bar.value_label)} {escape(unit)}</title></rect>"
            )
            if len(bars) <= MAX_VALUE_LABELS and bar.energy_kwh > 0:
                parts.append(
                    f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" '
                    f'text-anchor="middle">{escape(bar.value_label)}</text>'
                )
            if i % label_every == 0:
                parts.append(_slot_label(bar.label, x + bar_w / 2, base_y + 16))
    parts.append("</svg>")
    return "".join(parts)


def _value_axis(
    peak: Decimal, shares: Sequence[Decimal], format_kwh: Callable[[Decimal], str]
) -> str:
    """The period charts' value axis: a dashed grid line and its kWh at each share of the
    peak (none when nothing was used), the zero and the baseline."""
    plot_h = PERIOD_HEIGHT - AXIS_BOTTOM - AXIS_TOP
    base_y = PERIOD_HEIGHT - AXIS_BOTTOM
    parts = []
    for share in shares if peak > 0 else ():
        y = base_y - float(share) * plot_h
        parts.append(
            f'<line class="grid" x1="{AXIS_LEFT}" y1="{y:.1f}" x2="{PERIOD_WIDTH}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{AXIS_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(format_kwh(peak * share))}</text>"
        )
    parts.append(
        f'<text class="tick" x="{AXIS_LEFT - 4}" y="{base_y + 4}" text-anchor="end">0</text>'
        f'<line class="axis" x1="{AXIS_LEFT}" y1="{base_y}" x2="{PERIOD_WIDTH}" y2="{base_y}"/>'
    )
    return "".join(parts)


def _slot_label(label: str, x: float, y: float) -> str:
    """A label; a newline in it starts a second line (e.g. weekday over day)."""
    lines = label.split("\n")[:2]
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text class="label" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{spans}</text>'


# --- sparklines (the unit page's bus health) ---

SPARK_WIDTH = 240
SPARK_HEIGHT = 36
SPARK_FLOOR = 2  # a zero hour still shows a sliver, so "no failures" differs from "no data"


def sparkline_svg(values: Sequence[int | None], title: str, chart_id: str) -> str:
    """One thin bar per value, the largest filling the height; ``None`` (no data for the
    slot) leaves a gap. Counts are integers, so nothing here rounds data."""
    cid = escape(chart_id)
    peak = max((v for v in values if v is not None), default=0)
    parts = [
        f'<svg class="spark" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-t">{escape(title)}</title>',
    ]
    if values:
        slot = SPARK_WIDTH / len(values)
        for i, value in enumerate(values):
            if value is None:
                continue
            share = value / peak if peak else 0
            h = SPARK_FLOOR + share * (SPARK_HEIGHT - SPARK_FLOOR)
            css = "spark-bar bad" if value else "spark-bar"
            parts.append(
                f'<rect class="{css}" x="{i * slot + 1:.1f}" y="{SPARK_HEIGHT - h:.1f}" '
                f'width="{max(1.0, slot - 2):.1f}" height="{h:.1f}"><title>{value}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


# --- the building's energy balance (property page): main meter against the units ---


@dataclass(frozen=True)
class PairBar:
    label: str  # the day, e.g. "11/28"
    main_kwh: Decimal | None  # None: no main reading that day
    units_kwh: Decimal
    flagged: bool  # a loss (or excess) beyond the property's allowance
    value_label: str  # e.g. "main 40.000, units 31.200 kWh"


def pair_chart_svg(
    bars: Sequence[PairBar],
    title: str,
    description: str,
    chart_id: str,
    format_kwh: Callable[[Decimal], str],
) -> str:
    """Per day a wide pale bar (the main meter) behind a narrow solid one (the units'
    sum): the gap between their tops is the energy no unit meter registered. A flagged
    day's units bar is drawn in the warning colour."""
    bars = list(bars)[-MAX_BARS:]
    cid = escape(chart_id)
    peak = max(
        (v for b in bars for v in (b.main_kwh, b.units_kwh) if v is not None), default=Decimal(0)
    )
    plot_h = PERIOD_HEIGHT - AXIS_BOTTOM - AXIS_TOP
    base_y = PERIOD_HEIGHT - AXIS_BOTTOM
    parts = [
        f'<svg class="chart balance-chart" viewBox="0 0 {PERIOD_WIDTH} {PERIOD_HEIGHT}" '
        f'role="img" aria-labelledby="{cid}-t {cid}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-t">{escape(title)}</title>',
        f'<desc id="{cid}-d">{escape(description)}</desc>',
        f'<text class="axis-unit" x="{AXIS_LEFT - 6}" y="{AXIS_TOP - 12}" '
        'text-anchor="end">kWh</text>',
    ]
    parts.append(_value_axis(peak, (Decimal(1),), format_kwh))
    if bars:
        slot = (PERIOD_WIDTH - AXIS_LEFT) / len(bars)
        wide, narrow = max(2.0, slot * 0.8), max(1.0, slot * 0.4)
        label_every = -(-len(bars) // MAX_X_LABELS)
        for i, bar in enumerate(bars):
            left = AXIS_LEFT + i * slot
            tip = f"<title>{escape(bar.label)}: {escape(bar.value_label)}</title>"
            if bar.main_kwh is not None and peak > 0:
                h = float(bar.main_kwh / peak) * plot_h  # drawing coordinates only
                parts.append(
                    f'<rect class="bar-main" x="{left + (slot - wide) / 2:.1f}" '
                    f'y="{base_y - h:.1f}" width="{wide:.1f}" height="{h:.1f}">{tip}</rect>'
                )
            h = float(bar.units_kwh / peak) * plot_h if peak > 0 else 0.0
            css = "bar-units flagged" if bar.flagged else "bar-units"
            parts.append(
                f'<rect class="{css}" x="{left + (slot - narrow) / 2:.1f}" y="{base_y - h:.1f}" '
                f'width="{narrow:.1f}" height="{h:.1f}">{tip}</rect>'
            )
            if i % label_every == 0:
                parts.append(_slot_label(bar.label, left + slot / 2, base_y + 16))
    parts.append("</svg>")
    return "".join(parts)
