"""The functions' settings (wiring/settings.py): read from the environment by the standard
library alone (no pydantic on a cold start), with the rules pydantic checked before."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from chalicelib.wiring.settings import Settings, SettingsError


def test_the_environment_is_read_into_typed_values_and_the_rest_keeps_its_default() -> None:
    # GIVEN the variables a stage sets (one empty, AWS_REGION unset)
    settings = Settings.from_env(
        {
            "POWERLET_STAGE": "prod-2",
            "POWERLET_TABLE": "powerlet-prod",
            "AWS_DEFAULT_REGION": "eu-west-2",
            "POWERLET_CATALOGUE_CACHE_S": "60",
            "POWERLET_SETTLEMENT_PERIOD_H": "0.25",
            "POWERLET_USER_POOL_ID": "",
            "UNRELATED": "x",
        }
    )
    # THEN each is its field's type, the region falls back to AWS_DEFAULT_REGION,
    # and an empty variable counts as unset
    assert (settings.stage, settings.table_name, settings.region) == (
        "prod-2",
        "powerlet-prod",
        "eu-west-2",
    )
    assert settings.catalogue_cache_s == 60 and settings.settlement_period_h == 0.25
    assert settings.user_pool_id is None and settings.sender_email == "no-reply@powerlet.example"
    # and a whole number of hours is still a float, as the settler computes with it
    assert Settings(settlement_period_h=6).settlement_period_h == 6.0
    # and AWS_REGION wins over AWS_DEFAULT_REGION
    both = {"AWS_REGION": "ap-east-1", "AWS_DEFAULT_REGION": "eu-west-2"}
    assert Settings.from_env(both).region == "ap-east-1"
    assert "AWS_DEFAULT_REGION" in Settings.env_names()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"POWERLET_STAGE": "Prod"}, "POWERLET_STAGE"),
        ({"POWERLET_TABLE": "ab"}, "POWERLET_TABLE"),
        ({"POWERLET_CATALOGUE_CACHE_S": "3601"}, "POWERLET_CATALOGUE_CACHE_S"),
        ({"POWERLET_CATALOGUE_CACHE_S": "1.5"}, "POWERLET_CATALOGUE_CACHE_S"),
        ({"POWERLET_SETTLEMENT_PERIOD_H": "0"}, "POWERLET_SETTLEMENT_PERIOD_H"),
        ({"POWERLET_SETTLEMENT_PERIOD_H": "nan"}, "POWERLET_SETTLEMENT_PERIOD_H"),
        ({"POWERLET_SETTLEMENT_PERIOD_H": "six"}, "POWERLET_SETTLEMENT_PERIOD_H"),
    ],
)
def test_a_bad_variable_is_refused_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_settings_given_by_name_keep_the_same_rules_and_stay_frozen() -> None:
    with pytest.raises(SettingsError, match="catalogue_cache_s"):
        Settings(catalogue_cache_s=True)
    with pytest.raises(SettingsError, match="table_name"):
        Settings(table_name=None)  # type: ignore[arg-type]
    settings = Settings(table_name="powerlet-unit")
    with pytest.raises(FrozenInstanceError):
        settings.stage = "other"  # type: ignore[misc]
