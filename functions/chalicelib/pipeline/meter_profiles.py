"""Which profile version each meter is read with, kept on the Meter item.

Every telemetry message may carry ``pv``: the gateway's profiles, each as
``<version>.<8 hex of its content hash>`` (docs/iot-contracts.md). A meter is read with
its own profile and switched with its relay's, so its versions are those two entries
of ``pv``. The bus context (cached) holds the versions last recorded, so a steady gateway
costs no write: ingest writes a meter only when its versions change (as presence does,
``meter_presence.py``), and a change of a version already recorded is an audit event
(someone changed the map the meter's kWh are read with).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..data.audit import AuditLog, audit_event
from ..data.catalogue import Catalogue
from .context import BusContext

if TYPE_CHECKING:
    from ..data import rows
    from ..data.models import Meter as MeterModel

    Meter = MeterModel | rows.MeterRow  # a model, or a context's row (data/rows.py)

AUDIT_ACTION = "meter_profile_changed"


@dataclass(frozen=True)
class ProfileChange:
    meter_id: str
    before: dict[str, str]
    after: dict[str, str]


def versions_of(meter: Meter, pv: Mapping[str, str]) -> dict[str, str]:
    """The entries of ``pv`` for the meter's profile and its relay's (pure)."""
    names = {str(meter.profile)}
    relay_profile = (meter.relay or {}).get("profile")
    if isinstance(relay_profile, str):
        names.add(relay_profile)
    return {name: pv[name] for name in sorted(names) if name in pv}


def profile_changes(bus: BusContext, pv: Mapping[str, str]) -> list[ProfileChange]:
    """The meters of the bus whose versions this message changes (pure). A message
    without ``pv`` (left out to stay within its size) changes nothing."""
    if not pv:
        return []
    changes = []
    for meter_id, meter_ctx in sorted(bus.meters.items()):
        after = versions_of(meter_ctx.meter, pv)
        before = dict(meter_ctx.meter.profile_versions or {})
        if after and after != before:
            changes.append(ProfileChange(meter_id, before, after))
    return changes


def record_profile_changes(
    catalogue: Catalogue,
    audit: AuditLog,
    bus: BusContext,
    changes: list[ProfileChange],
    at: datetime,
) -> int:
    """Write each change (one UpdateItem per changed meter); the meters written."""
    written = 0
    for change in changes:
        if not catalogue.set_meter_profile_versions(
            bus.company_id, change.meter_id, change.after, at
        ):
            continue  # a newer report is recorded: this late message says nothing new
        written += 1
        if change.before:
            audit.record(
                audit_event(
                    bus.company_id,
                    f"pv-{change.meter_id}-{int(at.timestamp() * 1000)}",
                    f"gateway:{bus.gateway.gateway_id}",
                    AUDIT_ACTION,
                    f"meter:{change.meter_id}",
                    {"before": change.before, "after": change.after},
                    at,
                )
            )
        # this container's copy follows, so the next message does not write again
        meter = bus.meters[change.meter_id].meter
        meter.profile_versions = change.after
        meter.profile_versions_at = at
    return written
