"""Tariff rules added by issue 14: tier scaling, rounding, tax on the total, exact prices,
effective-dated versions (domain/tariffs.py, tariff_versions.py, cycle_pricing.py)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import (
    BillingPeriod,
    InvalidTariffError,
    Reading,
    parse_tariff,
    postpaid_bill,
)
from chalicelib.domain.cycle_pricing import plan_cycle
from chalicelib.domain.errors import InvalidTimelineError
from chalicelib.domain.tariff_versions import parse_timeline
from tests.unit.domain.samples import TAIPEI, taipower_like_tiered

D = Decimal
LONDON = "Europe/London"


def local(day: date, tz: str = TAIPEI) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))


def tiered(**extra) -> dict:
    document = taipower_like_tiered().model_dump(mode="json")
    document.update(extra)
    return document


def test_a_document_without_the_new_fields_means_what_it_meant():
    tariff = parse_tariff(taipower_like_tiered().model_dump(mode="json", exclude={"rounding"}))
    assert tariff.tier_scaling == "per_month" and tariff.tax_on == "lines"
    assert (tariff.rounding.lines, tariff.rounding.total, tariff.rounding.mode) == (
        "minor",
        "minor",
        "half_up",
    )


def test_per_month_scaling_doubles_the_bounds_over_a_two_month_cycle():
    # GIVEN a non-summer two-month cycle: Taipower doubles every monthly tier bound
    cycle = BillingPeriod(date(2026, 1, 1), date(2026, 3, 1))
    (span,) = plan_cycle(taipower_like_tiered(), cycle, cycle, TAIPEI).spans
    assert span.scale == 2
    tiers = plan_cycle(taipower_like_tiered(), cycle, cycle, TAIPEI).components[0].tiers
    assert [t.upto_kwh for t in tiers] == [D("240.000"), D("660.000"), None]


def test_per_day_and_fixed_scaling():
    cycle = BillingPeriod(date(2026, 1, 15), date(2026, 3, 15))  # 59 days
    per_day = parse_tariff(tiered(tier_scaling="per_day"))
    (component,) = plan_cycle(per_day, cycle, cycle, TAIPEI).components
    assert component.tiers[0].upto_kwh == D("7080.000")  # 120 a day x 59 days
    fixed = parse_tariff(tiered(tier_scaling="fixed"))
    moved_in = cycle.clip(date(2026, 2, 13), None)  # 30 of 59 days
    (component,) = plan_cycle(fixed, cycle, moved_in, TAIPEI).components
    assert component.tiers[0].upto_kwh == D("61.017")  # 120 x 30/59 = 61.0169..


def test_whole_dollar_total_adds_a_rounding_line():
    # GIVEN Taipower's way: lines priced exactly, the bill in whole dollars
    tariff = parse_tariff(tiered(rounding={"lines": "exact", "total": "whole"}))
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    readings = [Reading(local(period.start), D("0")), Reading(local(period.end), D("404"))]
    bill = postpaid_bill(tariff, period, readings, tz=TAIPEI, max_gap=timedelta(days=40))
    # 120 x 1.68 + 210 x 2.45 + 74 x 3.70 = 201.6 + 514.5 + 273.8 = 989.9 -> 990
    assert [ln.amount_minor for ln in bill.energy_lines()] == [20160, 51450, 27380]
    assert bill.total_minor == 99000
    (rounding,) = [ln for ln in bill.lines if ln.code == "rounding"]
    assert rounding.amount_minor == 10 and rounding.refs["rule"] == "total:whole:half_up"


def test_half_even_rounds_ties_to_even():
    flat = {
        "kind": "flat",
        "tariff_id": "f",
        "currency": "TWD",
        "price_per_kwh": "1.25",
        "rounding": {"lines": "minor", "total": "whole", "mode": "half_even"},
    }
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    readings = [Reading(local(period.start), D("0")), Reading(local(period.end), D("2"))]
    bill = postpaid_bill(parse_tariff(flat), period, readings, tz=TAIPEI)
    assert bill.total_minor == 200  # 2.50 -> 2 (even), half-up would give 3
    flat["rounding"]["mode"] = "half_up"
    assert postpaid_bill(parse_tariff(flat), period, readings, tz=TAIPEI).total_minor == 300


def test_vat_on_the_total_and_a_standing_charge_finer_than_a_penny():
    # GIVEN a UK supplier's bill: unit rate and 60.99p/day ex VAT, 5% VAT on the bill total
    tariff = parse_tariff(
        {
            "kind": "flat",
            "tariff_id": "uk",
            "currency": "GBP",
            "price_per_kwh": "0.2333",
            "tax_rate": "0.05",
            "tax_on": "total",
            "rounding": {"lines": "exact"},
            "fixed_charges": [{"code": "standing", "price": "0.6099", "per": "day"}],
        }
    )
    period = BillingPeriod(date(2026, 4, 1), date(2026, 5, 1))
    readings = [
        Reading(local(period.start, LONDON), D("1000")),
        Reading(local(period.end, LONDON), D("1250")),
    ]
    bill = postpaid_bill(tariff, period, readings, tz=LONDON)
    # 250 x 23.33p = 5832.5p; 30 x 60.99p = 1829.7p; net 7662.2p; VAT 383.11 -> 383p
    assert [(ln.code, ln.amount_minor) for ln in bill.lines] == [
        ("energy", 5833),
        ("fixed", 1830),
        ("tax", 383),
        ("rounding", -1),
    ]
    assert bill.total_minor == 8045  # 7662.2 + 383 = 8045.2 -> 8045
    assert bill.subtotal_minor + bill.tax_minor == bill.total_minor


def test_a_fixed_charge_needs_exactly_one_amount():
    for charge in (
        {"code": "s", "per": "day"},
        {"code": "s", "per": "day", "price": "1", "amount_minor": 1},
    ):
        with pytest.raises(InvalidTariffError, match=r"fixed_charges\.0"):
            parse_tariff(tiered(fixed_charges=[charge]))


def timeline_document():
    old = taipower_like_tiered().model_dump(mode="json")
    new = taipower_like_tiered().model_dump(mode="json")
    new["tariff_id"] = "tiered-2"
    new["seasons"][0]["tiers"][0]["price_per_kwh"] = "2.00"
    return {
        "versions": [
            {"effective_from": "2026-01-01", "tariff": old, "source": "https://example.test/a"},
            {"effective_from": "2026-07-16", "tariff": new},
        ]
    }


def test_a_period_spanning_a_version_change_is_split_and_each_part_priced_by_its_own():
    timeline = parse_timeline(timeline_document())
    period = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
    readings = [Reading(local(period.start), D("0")), Reading(local(period.end), D("310"))]
    bill = postpaid_bill(timeline, period, readings, tz=TAIPEI)
    assert bill.versions == ("tiered-1@2026-01-01", "tiered-2@2026-07-16")
    lines = [
        (ln.refs["version"], ln.refs["tier_upto_kwh"], ln.quantity, ln.unit_price)
        for ln in bill.energy_lines()
    ]
    # 15 and 16 of 31 days: 150 and 160 kWh; bounds 120 x 15/31 = 58.065, x 16/31 = 61.935
    assert lines == [
        ("tiered-1@2026-01-01", "58.065", D("58.065"), D("1.68")),
        ("tiered-1@2026-01-01", "159.677", D("91.935"), D("2.45")),
        ("tiered-2@2026-07-16", "61.935", D("61.935"), D("2.00")),
        ("tiered-2@2026-07-16", "170.323", D("98.065"), D("2.45")),
    ]


def test_bad_timelines_are_refused_naming_the_field():
    document = timeline_document()
    document["versions"][1]["effective_from"] = "2025-12-31"
    with pytest.raises(InvalidTimelineError, match="strictly ascending"):
        parse_timeline(document)
    document = timeline_document()
    document["versions"][1]["tariff"]["currency"] = "JPY"
    with pytest.raises(InvalidTimelineError, match="one currency"):
        parse_timeline(document)
    document = timeline_document()
    document["versions"][1]["tariff"]["seasons"][0]["tiers"][0]["price_per_kwh"] = "-1"
    with pytest.raises(InvalidTimelineError, match=r"versions\.1\.tariff\.tiered\.seasons\.0"):
        parse_timeline(document)
    with pytest.raises(InvalidTimelineError, match="no tariff version is in force"):
        parse_timeline(timeline_document()).version_on(date(2025, 6, 1))


def test_a_plain_tariff_document_is_a_timeline_of_one_version():
    timeline = parse_timeline(taipower_like_tiered().model_dump(mode="json"))
    assert len(timeline.versions) == 1
    assert timeline.version_on(date(2001, 1, 1)).tariff == taipower_like_tiered()
