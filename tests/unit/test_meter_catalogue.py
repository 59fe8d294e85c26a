"""The cloud's meter catalogue (functions/chalicelib/domain/meter_models.json) is the
gateway's shipped profiles, summarised: a stale file fails here, naming the command."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.meter_models import (
    UnknownMeterModelError,
    meter_model,
    meter_models,
    meter_names,
    relay_model,
)
from chalicelib.domain.metering import RATINGS
from deploy.meter_catalogue import CATALOGUE, build
from meter_gateway.profiles import available_profiles, fingerprint, load_profile


def test_the_shipped_catalogue_is_a_fresh_build_of_the_profiles() -> None:
    committed = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    assert committed == build(), (
        "meter_models.json is stale: python -m deploy.meter_catalogue > "
        "functions/chalicelib/domain/meter_models.json"
    )


def test_every_profile_is_offered_by_name_with_its_version_and_rating() -> None:
    models = meter_models()
    assert sorted(models) == available_profiles()
    for name, model in models.items():
        profile = load_profile(name)
        assert (model.model, model.fingerprint) == (profile.model, fingerprint(profile))
        if profile.rating is None:
            assert model.kind == "relay_module" and name not in meter_names()
            continue
        # the validation's ratings (domain/metering.py) and the catalogue agree
        rating = RATINGS[name]
        assert (model.max_current_a, model.nominal_voltage_v, model.phases) == (
            rating.max_current_a,
            rating.nominal_voltage_v,
            rating.phases,
        )
    # the library of issue 17: eleven profiles, ten meters, both keyed relays
    assert len(meter_names()) == 10
    assert {m.name for m in models.values() if m.relay == "own_keyed"} == {
        "fineco_em115",
        "fineco_em737",
    }


def test_a_name_is_checked_for_what_it_is_used_for() -> None:
    assert meter_model("sdm630").phases == 3
    assert relay_model("relay_module").kind == "relay_module"
    assert relay_model("fineco_em115").has_own_relay
    with pytest.raises(UnknownMeterModelError, match="one of: dds238"):
        meter_model("relay_module")
    with pytest.raises(UnknownMeterModelError, match="cannot switch a relay"):
        relay_model("sdm120")
    with pytest.raises(UnknownMeterModelError):
        meter_model("sdm999")


def test_the_profile_schema_is_a_fresh_build_of_the_gateways_model() -> None:
    from deploy.meter_catalogue import PROFILE_SCHEMA, profile_schema

    committed = json.loads(PROFILE_SCHEMA.read_text(encoding="utf-8"))
    assert committed == profile_schema(), (
        "meter_profile.schema.json is stale: python -m deploy.meter_catalogue --schema > "
        "functions/chalicelib/domain/meter_profile.schema.json"
    )


def test_a_profiles_summary_rates_it_as_the_shipped_ratings_do() -> None:
    # GIVEN every shipped meter's summary, as a configured profile's would be made
    from chalicelib.domain.metering import rating_from, rating_of

    for name, model in meter_models().items():
        if name not in RATINGS:
            continue
        # THEN the rating derived from it is the hand-kept one, so a profile that exists
        # only as configuration is rated exactly as it would be if it were shipped
        assert rating_from(model) == RATINGS[name], name
        assert rating_of(f"{name}_copy", None, {f"{name}_copy": model}) == RATINGS[name]
