"""The cloud's catalogue of meter models, built from the gateway's shipped profiles.

The Lambdas cannot import the gateway component (another deployable, other
dependencies), yet the portal and the reseller API must offer its models by name and
refuse others. So the profiles are summarised here into the JSON the app ships
(``functions/chalicelib/domain/meter_models.json``, inside ``chalicelib/`` so it is in
the Lambda zip), and ``tests/unit/test_meter_catalogue.py`` fails when the file and a
fresh build differ:

    python -m deploy.meter_catalogue > functions/chalicelib/domain/meter_models.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
    """What the cloud needs of a profile: its name, model and version, what it switches
    with, and its rating (None for a relay module, which measures nothing)."""
    relay = profile.relay
    if profile.rating is None:
        kind, relay_kind = "relay_module", "coils" if relay else "none"
    else:
        kind = "meter"
        if relay is None:
            relay_kind = "relay_module_needed"
        elif relay.read_before_write:
            relay_kind = "own_keyed"  # computed from registers read just before the write
        else:
            relay_kind = "own"
    rating = profile.rating
    return {
        "name": profile.name,
        "model": profile.model,
        "version": profile.version,
        "fingerprint": fingerprint(profile),
        "kind": kind,
        "phases": rating.phases if rating else None,
        "max_current_a": str(rating.max_current_a) if rating else None,
        "nominal_voltage_v": str(rating.nominal_voltage_v) if rating else None,
        "relay": relay_kind,
        "relay_channels": relay.channels if relay else 0,
        "source": " ".join(profile.source.split())[:SOURCE_CHARS],
    }


def build() -> dict[str, Any]:
    return {
        "generated_by": "python -m deploy.meter_catalogue",
        "models": [summary(load_profile(name)) for name in available_profiles()],
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
