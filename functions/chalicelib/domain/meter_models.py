"""The meter models the product supports: the gateway's shipped profiles, by name.

The catalogue is data built from the profiles (``meter_models.json`` beside this file,
written by ``python -m deploy.meter_catalogue`` and checked against the profiles by a
test), read once per container. The reseller API registers meters only of these models
and pairs relays only with a meter's own relay or a relay module; the portal names them.
A profile that exists only as configuration (a company's own, sent with its gateways'
deployments: docs/meters.md) is summarised the same way, by ``summarise``, from its
document, and offered to that company only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    # The billed energy register: its step (None: the datasheet gives none) and whether it
    # is a float (then it cannot step finer than its own spacing either).
    register_step_kwh: Decimal | None = None
    float_register: bool = False

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


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def summarise(profile: Mapping[str, Any], fingerprint: str = "") -> dict[str, Any]:
    """What the cloud needs of a profile document (the gateway's format, ``profiles/*.yaml``
    or a configured one, already validated): name, model, version, what it switches with,
    its rating and its billed register. ``python -m deploy.meter_catalogue`` builds the
    shipped catalogue with this too, so both kinds are summarised one way."""
    relay = profile.get("relay")
    rating = profile.get("rating")
    if rating is None:
        kind, relay_kind = RELAY_MODULE, "coils" if relay else "none"
    else:
        kind = METER
        if relay is None:
            relay_kind = "relay_module_needed"
        elif relay.get("read_before_write"):
            relay_kind = "own_keyed"  # computed from registers read just before the write
        else:
            relay_kind = "own"
    registers = profile.get("registers") or {}
    energy = registers.get("import_kwh") or registers.get("total_kwh")
    is_float = energy is not None and (
        energy.get("expr") is not None or str(energy.get("data_type", "")).startswith("float")
    )
    step: Any = None
    if energy is not None and not is_float:
        step = energy.get("scale", 1)
    elif rating is not None:
        step = rating.get("register_step_kwh")
    return {
        "name": profile["name"],
        "model": profile["model"],
        "version": int(profile.get("version", 1)),
        "fingerprint": fingerprint,
        "kind": kind,
        "phases": int(rating.get("phases", 1)) if rating else None,
        "max_current_a": str(rating["max_current_a"]) if rating else None,
        "nominal_voltage_v": str(rating["nominal_voltage_v"]) if rating else None,
        "relay": relay_kind,
        "relay_channels": int(relay.get("channels", 1)) if relay else 0,
        "register_step_kwh": None if step is None else str(Decimal(str(step)).normalize()),
        "float_register": is_float,
    }


def model_of(row: Mapping[str, Any]) -> MeterModel:
    """A summary (``summarise``, or a catalogue row) as a MeterModel."""
    return MeterModel(
        name=row["name"],
        model=row["model"],
        version=int(row["version"]),
        fingerprint=row.get("fingerprint", ""),
        kind=row["kind"],
        phases=row["phases"],
        max_current_a=_decimal(row["max_current_a"]),
        nominal_voltage_v=_decimal(row["nominal_voltage_v"]),
        relay=row["relay"],
        relay_channels=int(row["relay_channels"]),
        register_step_kwh=_decimal(row.get("register_step_kwh")),
        float_register=bool(row.get("float_register", False)),
    )


def configured_models(summaries: Mapping[str, Any] | None) -> dict[str, MeterModel] | None:
    """The models of a gateway's configured profiles (``Gateway.profiles``), if any."""
    if not summaries:
        return None
    return {name: model_of(row) for name, row in summaries.items()}


@lru_cache(maxsize=1)
def meter_models() -> dict[str, MeterModel]:
    document = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return {row["name"]: model_of(row) for row in document["models"]}


def meter_model(name: str, own: Mapping[str, MeterModel] | None = None) -> MeterModel:
    """A model that measures energy (shipped, or one of ``own``: a company's configured
    profiles); UnknownMeterModelError names the ones there are."""
    found = (own or {}).get(name) or meter_models().get(name)
    if found is None or found.kind != METER:
        raise UnknownMeterModelError(
            f"{name[:40]!r} is not a meter model; one of: {', '.join(meter_names())}"
        )
    return found


def relay_model(name: str, own: Mapping[str, MeterModel] | None = None) -> MeterModel:
    """A model that can switch a relay for a meter: a relay module or a meter's own relay."""
    found = (own or {}).get(name) or meter_models().get(name)
    if found is None or not found.switches:
        raise UnknownMeterModelError(
            f"{name[:40]!r} cannot switch a relay; one of: {', '.join(relay_names())}"
        )
    return found


def meter_names() -> list[str]:
    return sorted(m.name for m in meter_models().values() if m.kind == METER)


def relay_names() -> list[str]:
    return sorted(m.name for m in meter_models().values() if m.switches)
