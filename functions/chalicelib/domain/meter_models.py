"""The meter models the product supports: the gateway's shipped profiles, by name.

The catalogue is data built from the profiles (``meter_models.json`` beside this file,
written by ``python -m deploy.meter_catalogue`` and checked against the profiles by a
test), read once per container. The reseller API registers meters only of these models
and pairs relays only with a meter's own relay or a relay module; the portal names them.
A profile sent only in a gateway's configuration is not here: register such meters under
a shipped name, or ship the profile (docs/meters.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import DomainError

CATALOGUE = Path(__file__).resolve().parent / "meter_models.json"
METER = "meter"
RELAY_MODULE = "relay_module"
# How a model switches power: its own relay (plain or keyed) or a paired relay module.
OWN_RELAY = frozenset({"own", "own_keyed"})


class UnknownMeterModelError(DomainError):
    """A profile name that is not in the catalogue, or a model used for what it is not."""


@dataclass(frozen=True)
class MeterModel:
    name: str
    model: str
    version: int
    fingerprint: str  # "<version>.<hash>", as the gateway reports a shipped profile (pv)
    kind: str  # meter | relay_module
    phases: int | None
    max_current_a: Decimal | None
    nominal_voltage_v: Decimal | None
    relay: str  # own | own_keyed | relay_module_needed | coils
    relay_channels: int

    @property
    def has_own_relay(self) -> bool:
        return self.relay in OWN_RELAY

    @property
    def switches(self) -> bool:
        """It can be a meter's ``relay``: a relay module, or a meter with its own relay."""
        return self.kind == RELAY_MODULE or self.has_own_relay

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "version": self.version,
            "kind": self.kind,
            "phases": self.phases,
            "max_current_a": None if self.max_current_a is None else str(self.max_current_a),
            "nominal_voltage_v": (
                None if self.nominal_voltage_v is None else str(self.nominal_voltage_v)
            ),
            "relay": self.relay,
        }


@lru_cache(maxsize=1)
def meter_models() -> dict[str, MeterModel]:
    document = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    models = {}
    for row in document["models"]:
        models[row["name"]] = MeterModel(
            name=row["name"],
            model=row["model"],
            version=int(row["version"]),
            fingerprint=row["fingerprint"],
            kind=row["kind"],
            phases=row["phases"],
            max_current_a=None if row["max_current_a"] is None else Decimal(row["max_current_a"]),
            nominal_voltage_v=(
                None if row["nominal_voltage_v"] is None else Decimal(row["nominal_voltage_v"])
            ),
            relay=row["relay"],
            relay_channels=int(row["relay_channels"]),
        )
    return models


def meter_model(name: str) -> MeterModel:
    """A model that measures energy; UnknownMeterModelError names the ones there are."""
    found = meter_models().get(name)
    if found is None or found.kind != METER:
        raise UnknownMeterModelError(
            f"{name[:40]!r} is not a meter model; one of: {', '.join(meter_names())}"
        )
    return found


def relay_model(name: str) -> MeterModel:
    """A model that can switch a relay for a meter: a relay module or a meter's own relay."""
    found = meter_models().get(name)
    if found is None or not found.switches:
        raise UnknownMeterModelError(
            f"{name[:40]!r} cannot switch a relay; one of: {', '.join(relay_names())}"
        )
    return found


def meter_names() -> list[str]:
    return sorted(m.name for m in meter_models().values() if m.kind == METER)


def relay_names() -> list[str]:
    return sorted(m.name for m in meter_models().values() if m.switches)
