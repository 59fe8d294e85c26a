"""The bus health sparkline and the balance chart (application/chart.py)."""

from __future__ import annotations

import re
from decimal import Decimal

from chalicelib.application.chart import PairBar, pair_chart_svg, sparkline_svg


def test_an_hour_without_data_is_a_gap_and_one_without_failures_a_sliver() -> None:
    svg = sparkline_svg([None, 0, 4, 2], "Failed requests per hour", "s")
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)"', svg)]
    # three bars (the None hour draws nothing): a sliver, the full height, half-ish
    assert heights == [2.0, 36.0, 19.0]
    assert svg.count('class="spark-bar bad"') == 2 and svg.count('class="spark-bar"') == 1
    assert '<title id="s-t">Failed requests per hour</title>' in svg


def test_the_balance_chart_draws_the_main_meter_behind_the_units() -> None:
    bars = [
        PairBar("12/1", Decimal("40"), Decimal("30"), True, "main 40, units 30"),
        PairBar("12/2", None, Decimal("20"), False, "main -, units 20"),
    ]
    svg = pair_chart_svg(bars, "t", "d", "b", lambda k: f"{k:.3f}")
    assert svg.count('class="bar-main"') == 1  # no main reading, no main bar
    assert svg.count('class="bar-units flagged"') == 1 and svg.count('class="bar-units"') == 1
    assert ">40.000</text>" in svg  # the value axis names the peak
