import copy

import pytest

from chalicelib.domain import FlatTariff, InvalidTariffError, TieredTariff, TouTariff, parse_tariff
from tests.unit.domain.samples import flat_tariff, taipower_like_tiered, tou_tariff

TIERED = taipower_like_tiered().model_dump(mode="json")
TOU = tou_tariff().model_dump(mode="json")


def test_the_three_kinds_parse_from_data_and_json():
    assert isinstance(flat_tariff(), FlatTariff)
    assert isinstance(parse_tariff(TIERED), TieredTariff)
    assert isinstance(parse_tariff(TOU), TouTariff)
    assert parse_tariff(tou_tariff().model_dump_json()) == tou_tariff()


def mutated(document, path, value):
    doc = copy.deepcopy(document)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (mutated(TIERED, ["seasons", 0, "tiers", 0, "price_per_kwh"], 1.68), "floats are refused"),
        (mutated(TIERED, ["seasons", 0, "tiers", 0, "price_per_kwh"], "-1"), "price_per_kwh"),
        (
            mutated(TIERED, ["seasons", 0, "tiers", 0, "price_per_kwh"], "1.1234567"),
            "decimal places",
        ),
        (mutated(TIERED, ["seasons", 0, "tiers", 1, "upto_kwh"], "100"), "strictly ascending"),
        (mutated(TIERED, ["seasons", 0, "tiers", 2, "upto_kwh"], "900"), "unbounded"),
        (mutated(TIERED, ["seasons", 0, "tiers", 0, "upto_kwh"], None), "only the last tier"),
        (mutated(TIERED, ["seasons", 0, "end"], "09-29"), "09-30 is covered by no season"),
        (mutated(TIERED, ["seasons", 0, "end"], "10-01"), "covered by seasons"),
        (mutated(TIERED, ["seasons", 0, "start"], "02-30"), "seasons.0.start"),
        (mutated(TIERED, ["currency"], "XYZ"), "unknown currency"),
        (mutated(TIERED, ["tax_rate"], "1.5"), "tax_rate"),
        (mutated(TIERED, ["kind"], "magic"), "kind"),
        (
            mutated(
                TIERED, ["fixed_charges"], [{"code": "meter", "amount_minor": 1.5, "per": "day"}]
            ),
            "amount_minor",
        ),
        (mutated(TIERED, ["surprise"], 1), "surprise"),
        (mutated(TOU, ["windows", 1, "end"], "16:00"), "windows for mon have a gap"),
        (mutated(TOU, ["windows", 1, "end"], "18:00"), "overlap"),
        (mutated(TOU, ["windows", 1, "band"], "super_peak"), "unknown band"),
        (mutated(TOU, ["windows", 3, "days"], ["sat", "sun"]), "windows for holiday"),
        (mutated(TOU, ["windows", 0, "start"], "09:00"), "must be before end"),
    ],
)
def test_invalid_tariffs_are_refused_with_a_message_naming_the_problem(document, fragment):
    with pytest.raises(InvalidTariffError) as caught:
        parse_tariff(document)
    assert fragment in str(caught.value)


def test_season_lookup_wraps_over_new_year():
    tariff = taipower_like_tiered()
    from datetime import date

    assert tariff.season_for(date(2026, 1, 15)).name == "non_summer"
    assert tariff.season_for(date(2026, 5, 31)).name == "non_summer"
    assert tariff.season_for(date(2026, 6, 1)).name == "summer"
    assert tariff.season_for(date(2024, 2, 29)).name == "non_summer"
