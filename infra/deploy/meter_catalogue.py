"""The cloud's catalogue of meter models, built from the gateway's shipped profiles.

The Lambdas cannot import the gateway component (another deployable, other
dependencies), yet the portal and the reseller API must offer its models by name and
refuse others. So the profiles are summarised here into the JSON the app ships
(``functions/chalicelib/domain/meter_models.json``, inside ``chalicelib/`` so it is in
the Lambda zip), and ``tests/unit/test_meter_catalogue.py`` fails when the file and a
fresh build differ:

    python -m deploy.meter_catalogue > functions/chalicelib/domain/meter_models.json

The same goes for the JSON Schema of a profile document, generated from the gateway's
pydantic model, with which the cloud checks a company's own profiles before it stores
and deploys them (``application/meter_profiles.py``):

    python -m deploy.meter_catalogue --schema > functions/chalicelib/domain/meter_profile.schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.domain.meter_models import summarise
from meter_gateway.profile_model import MeterProfile
from meter_gateway.profiles import available_profiles, fingerprint, load_profile

CATALOGUE = (
    Path(__file__).resolve().parents[2]
    / "functions"
    / "chalicelib"
    / "domain"
    / "meter_models.json"
)
SOURCE_CHARS = 200  # the first sentence or so of the profile's source: where to look


def summary(profile: MeterProfile) -> dict[str, Any]:
    """The cloud's summary (``domain.meter_models.summarise``, the same one configured
    profiles get) with the gateway's fingerprint and where the map comes from."""
    document = profile.model_dump(mode="json")
    return {
        **summarise(document, fingerprint(profile)),
        "source": " ".join(profile.source.split())[:SOURCE_CHARS],
    }


def build() -> dict[str, Any]:
    return {
        "generated_by": "python -m deploy.meter_catalogue",
        "models": [summary(load_profile(name)) for name in available_profiles()],
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


PROFILE_SCHEMA = CATALOGUE.with_name("meter_profile.schema.json")


def profile_schema() -> dict[str, Any]:
    """The profile document's structure (types, ranges, names, unknown keys refused);
    what the model checks across fields (spans, expressions, relay names) the gateway
    checks at load."""
    schema = MeterProfile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def render_schema() -> str:
    return json.dumps(profile_schema(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_schema() if sys.argv[1:] == ["--schema"] else render())
