"""Tariff documents for the demo, the tests and the benchmarks, built in one place.

They are data the domain validates (`chalicelib.domain.parse_tariff`); these
builders only spare each caller from spelling the same JSON shape again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]


def flat(tariff_id: str, price_per_kwh: str, currency: str = "TWD") -> dict[str, Any]:
    return {
        "kind": "flat",
        "tariff_id": tariff_id,
        "currency": currency,
        "price_per_kwh": price_per_kwh,
    }


def tiered_all_year(
    tariff_id: str,
    tiers: Sequence[tuple[str | None, str]],
    tax_rate: str = "0.05",
    currency: str = "TWD",
) -> dict[str, Any]:
    """One season all year; ``tiers`` are (upto_kwh or None for the last, price)."""
    return {
        "kind": "tiered",
        "tariff_id": tariff_id,
        "currency": currency,
        "tax_rate": tax_rate,
        "seasons": [
            {
                "name": "all",
                "start": "01-01",
                "end": "12-31",
                "tiers": [{"upto_kwh": upto, "price_per_kwh": price} for upto, price in tiers],
            }
        ],
    }


def tou_every_day(
    tariff_id: str,
    windows: Sequence[tuple[str, str, str]],
    peak: str = "6.20",
    off: str = "2.10",
    currency: str = "TWD",
) -> dict[str, Any]:
    """Bands ``peak`` and ``off``; ``windows`` are (start, end, band), the same every day."""
    return {
        "kind": "tou",
        "tariff_id": tariff_id,
        "currency": currency,
        "bands": [{"name": "peak", "price_per_kwh": peak}, {"name": "off", "price_per_kwh": off}],
        "windows": [
            {"days": list(ALL_DAYS), "start": start, "end": end, "band": band}
            for start, end, band in windows
        ],
    }
