"""Consumption as a server-rendered SVG bar chart: no script, readable on a phone.

Bars are energy per day (kWh, Decimal); the tallest bar fills the plot. Labels
are pre-formatted by the caller so the chart knows nothing of locales.
"""

from __future__ import annotations

from collections.abc import Sequence
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
