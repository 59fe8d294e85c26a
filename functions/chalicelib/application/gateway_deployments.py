"""The Greengrass deployment of one gateway: what its component and ShadowManager run with,
created by the API whenever that changes (docs/deploy.md, "Deploying the component").

Each gateway has its own thing group, ``powerlet-gw-<thing>``, and the deployment targets
that group. Why a group of one and not the thing: a fleet-provisioned gateway's thing does
not exist until its device claims it, but its group does from registration, and a
deployment to a group is continuous ("When you add a new core device to a group ... AWS
IoT Greengrass deploys that group's deployment to the new device", CreateDeployment), so
the device gets its meters the moment the provisioning template puts it in the group. The
company's group cannot carry it: every member of a group gets the same configuration.

A deployment replaces the target's previous one (one deployment per target, a new
revision each time), so each is complete: the component's bus, meters and the meter
profiles they need, and ShadowManager's ``synchronize`` list, exactly this gateway's meter
shadows. Greengrass merges a configuration update key by key into what the device has
(https://docs.aws.amazon.com/greengrass/v2/developerguide/update-component-configurations.html):
lists are replaced, but an object's keys that the merge leaves out stay. So the update
first resets ``/meters`` and ``/profiles`` (reset is applied before merge), and a profile
dropped from the bus does not linger on the device.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..data.models import Gateway, Meter
from ..pipeline.shadows import shadow_name

GATEWAY_COMPONENT = "com.powerlet.MeterGateway"
SHADOW_MANAGER_COMPONENT = "aws.greengrass.ShadowManager"
GATEWAY_GROUP_PREFIX = "powerlet-gw-"
# Reset before the merge: the keys whose whole content the deployment owns.
RESET_POINTERS = ("/meters", "/profiles")


def gateway_group(thing_name: str) -> str:
    """The gateway's own thing group (a thing name holds [A-Za-z0-9_-]: a valid group name)."""
    return GATEWAY_GROUP_PREFIX + thing_name


def deployment_settings(
    gateway: Gateway, meters: list[Meter], profiles: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The configuration to merge into the gateway's deployment (same shape as
    greengrass_component/recipe.yaml's DefaultConfiguration) and ShadowManager's."""
    # the stored link settings (a registration's BusSettings); older gateways stored
    # the serial ones only, which BusSettings reads with the rest at their defaults
    from .reseller.requests import BusSettings  # here: reseller's package imports this module

    bus = BusSettings.model_validate(dict(gateway.serial or {})).component_bus()
    rows = []
    for m in sorted(meters, key=lambda x: int(x.bus_address)):
        row: dict[str, Any] = {
            "meter_id": m.meter_id,
            "address": int(m.bus_address),
            "profile": m.profile,
        }
        if m.relay:
            row["relay"] = dict(m.relay)
        rows.append(row)
    return {
        "component": GATEWAY_COMPONENT,
        "thing_name": gateway.thing_name,
        "thing_group": gateway_group(str(gateway.thing_name)),
        "configuration": {"bus": bus, "meters": rows, "profiles": dict(profiles or {})},
        # ShadowManager must sync exactly these shadows with the cloud (the classic one
        # it syncs by default); the gateway's policy grants that and no more.
        "shadow_manager": {
            "component": SHADOW_MANAGER_COMPONENT,
            "configuration": {
                "synchronize": {
                    "coreThing": {
                        "classic": True,
                        "namedShadows": [shadow_name(str(row["meter_id"])) for row in rows],
                    }
                }
            },
        },
    }


def create_deployment_request(
    settings: Mapping[str, Any],
    target_arn: str,
    component_version: str,
    shadow_manager_version: str,
) -> dict[str, Any]:
    """greengrassv2 CreateDeployment's parameters for ``deployment_settings``' answer."""
    shadow_manager = settings["shadow_manager"]
    return {
        "targetArn": target_arn,
        "deploymentName": f"powerlet {settings['thing_name']}",
        "components": {
            str(settings["component"]): {
                "componentVersion": component_version,
                "configurationUpdate": {
                    "reset": list(RESET_POINTERS),
                    "merge": _compact(settings["configuration"]),
                },
            },
            str(shadow_manager["component"]): {
                "componentVersion": shadow_manager_version,
                # The list is replaced by the merge; nothing else of ShadowManager's is ours.
                "configurationUpdate": {"merge": _compact(shadow_manager["configuration"])},
            },
        },
        # A configuration that fails on the device rolls back to the previous one.
        "deploymentPolicies": {"failureHandlingPolicy": "ROLLBACK"},
    }


def _compact(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class DeploymentOutcome:
    status: str  # created | failed | not_configured
    deployment_id: str | None = None
    target_arn: str | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.deployment_id:
            out["deployment_id"] = self.deployment_id
        if self.target_arn:
            out["target_arn"] = self.target_arn
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class GatewayDeployer:
    """Creates the gateway's group (once; later calls learn its ARN from IoT's answer)
    and the deployment to it. ``greengrass`` and ``iot`` are
    injected clients (``greengrassv2``, ``iot``)."""

    _greengrass: Any
    _iot: Any
    component_version: str | None
    shadow_manager_version: str

    def ensure_group(self, thing_name: str) -> str:
        """The group's ARN: from the creation, or from IoT's ResourceAlreadyExistsException,
        which names the existing resource (``resourceArn``), so no second call is made."""
        try:
            answer = self._iot.create_thing_group(thingGroupName=gateway_group(thing_name))
        except ClientError as exc:
            existing = exc.response.get("resourceArn")
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException" or not existing:
                raise
            return str(existing)
        return str(answer["thingGroupArn"])

    def deploy(self, settings: Mapping[str, Any]) -> DeploymentOutcome:
        """Create the deployment; a refusal or an outage is reported, not raised: the
        meters are stored already, and ``POST .../deployment`` tries again."""
        if not self.component_version:
            return DeploymentOutcome("not_configured", reason="no component version configured")
        try:
            target = self.ensure_group(str(settings["thing_name"]))
            request = create_deployment_request(
                settings, target, self.component_version, self.shadow_manager_version
            )
            answer = self._greengrass.create_deployment(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', 'Error')}: {error.get('Message', '')}"[:300]
            return DeploymentOutcome("failed", reason=reason)
        except BotoCoreError as exc:
            return DeploymentOutcome("failed", reason=str(exc)[:300])
        return DeploymentOutcome("created", str(answer["deploymentId"]), target)
