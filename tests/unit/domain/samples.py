"""Sample tariffs and helpers shared by the domain tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain import FlatTariff, TieredTariff, TouTariff, parse_tariff

TAIPEI = "Asia/Taipei"


def flat_tariff(price: str = "5.5", tax_rate: str = "0", currency: str = "TWD") -> FlatTariff:
    tariff = parse_tariff(
        {
            "kind": "flat",
            "tariff_id": "flat-1",
            "currency": currency,
            "price_per_kwh": price,
            "tax_rate": tax_rate,
        }
    )
    assert isinstance(tariff, FlatTariff)
    return tariff


def taipower_like_tiered(
    tax_rate: str = "0", fixed: list[dict[str, object]] | None = None
) -> TieredTariff:
    """Summer 06-01..09-30 is dearer; tiers are monthly sizes (pro-rated by days)."""
    tariff = parse_tariff(
        {
            "kind": "tiered",
            "tariff_id": "tiered-1",
            "currency": "TWD",
            "tax_rate": tax_rate,
            "fixed_charges": fixed or [],
            "seasons": [
                {
                    "name": "summer",
                    "start": "06-01",
                    "end": "09-30",
                    "tiers": [
                        {"upto_kwh": "120", "price_per_kwh": "1.68"},
                        {"upto_kwh": "330", "price_per_kwh": "2.45"},
                        {"upto_kwh": None, "price_per_kwh": "3.70"},
                    ],
                },
                {
                    "name": "non_summer",
                    "start": "10-01",
                    "end": "05-31",
                    "tiers": [
                        {"upto_kwh": "120", "price_per_kwh": "1.68"},
                        {"upto_kwh": "330", "price_per_kwh": "2.16"},
                        {"upto_kwh": None, "price_per_kwh": "3.03"},
                    ],
                },
            ],
        }
    )
    assert isinstance(tariff, TieredTariff)
    return tariff


def tou_tariff(tax_rate: str = "0") -> TouTariff:
    """Weekday peak 09:00-17:00, off-peak otherwise; weekends and holidays all off-peak."""
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    tariff = parse_tariff(
        {
            "kind": "tou",
            "tariff_id": "tou-1",
            "currency": "TWD",
            "tax_rate": tax_rate,
            "bands": [
                {"name": "peak", "price_per_kwh": "6.2"},
                {"name": "off_peak", "price_per_kwh": "2.1"},
            ],
            "windows": [
                {"days": weekdays, "start": "00:00", "end": "09:00", "band": "off_peak"},
                {"days": weekdays, "start": "09:00", "end": "17:00", "band": "peak"},
                {"days": weekdays, "start": "17:00", "end": "24:00", "band": "off_peak"},
                {
                    "days": ["sat", "sun", "holiday"],
                    "start": "00:00",
                    "end": "24:00",
                    "band": "off_peak",
                },
            ],
            "holidays": ["2026-01-01"],
        }
    )
    assert isinstance(tariff, TouTariff)
    return tariff


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def d(value: str) -> Decimal:
    return Decimal(value)
