"""Gateways and meters a reseller registers for a company.

A gateway is claimed in the table first (conditional put), then made an IoT
thing with its own certificate, the stack's shared gateway policy and its own policy
(its thing name written out: application/gateway_policy.py) and the company's thing
group; if IoT fails the claim is removed, so a retry starts clean. The answer
carries the certificate and private key (shown once: the private key is never
stored) and the component deployment settings for its bus.

Every change to what a gateway runs (registration, meters added, changed or removed)
ends with its Greengrass deployment created again (``application/gateway_deployments.py``);
the answer says whether that worked, and ``POST .../deployment`` retries it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ...data import builders
from ...data.catalogue import Catalogue
from ...data.errors import ConditionFailedError, NotFoundError
from ...data.models import Company, Gateway, Meter, PowerletItem
from ...data.usage_store import UsageCounters
from ...domain.errors import DomainError
from ...domain.meter_models import (
    MeterModel,
    UnknownMeterModelError,
    meter_model,
    relay_model,
)
from ...domain.tariff_versions import parse_timeline
from ...pipeline.provisioning import (
    COMPANY_PARAMETER,
    GATEWAY_PARAMETER,
    TOKEN_PARAMETER,
    new_token,
    token_sha256,
)
from ...pipeline.senders import owner_of_thing, thing_name_for  # the client id ingest checks
from ..gateway_deployments import GatewayDeployer, deployment_settings, gateway_group
from ..gateway_policy import gateway_policy_document, policy_name
from .config import ResellerSettings
from .errors import (
    GatewayExistsError,
    InvalidMeterRequestError,
    InvalidTariffError,
    MeterConflictError,
    TariffCurrencyError,
    ThingNameTakenError,
    UnknownMeterProfileError,
)
from .meter_profiles import CompanyMeterProfiles
from .requests import (
    MAX_METERS_PER_BUS,
    ChangeMeterRequest,
    RegisterGatewayRequest,
    RegisterMetersRequest,
    prepaid_unswitchable,
)

THING_GROUP_PREFIX = "powerlet-company-"


@dataclass(frozen=True)
class GatewayRegistry:
    _catalogue: Catalogue
    _iot: Any
    _usage: UsageCounters
    _settings: ResellerSettings
    _deployer: GatewayDeployer
    _profiles: CompanyMeterProfiles

    def register_gateway(
        self,
        company: Company,
        req: RegisterGatewayRequest,
        currency: str,
        time_zone: str,
        now: datetime,
    ) -> dict[str, Any]:
        company_id = str(company.company_id)
        thing_name = thing_name_for(company_id, req.gateway_id)
        prop = req.property
        prop_item = builders.property_(
            company_id,
            prop.property_id,
            name=prop.name,
            address=prop.address,
            city=prop.city,
            country=prop.country,
            time_zone=time_zone,
            currency=currency,
        )
        if not self._catalogue.create_if_absent(prop_item):
            self._catalogue.get_property(company_id, prop.property_id)  # existing: reuse it
        self._check_thing_is_free(company_id, req.gateway_id, thing_name)
        token = new_token() if req.provisioning == "fleet" else None
        gateway = builders.gateway(
            company_id,
            req.gateway_id,
            thing_name,
            property_id=prop.property_id,
            serial=req.bus.model_dump(mode="json", exclude_unset=True),
            provisioning_token_sha256=token_sha256(token) if token else None,
        )
        try:
            self._catalogue.create(gateway)
        except ConditionFailedError as exc:
            raise GatewayExistsError("the company already has this gateway") from exc
        try:
            if token is None:
                identity = self._provision_thing(company_id, req.gateway_id, thing_name)
            else:
                identity = self._fleet_claim(company_id, req.gateway_id, thing_name, token)
        except Exception:
            self._catalogue.remove(gateway)
            raise
        settings = deployment_settings(gateway, [])
        return {
            "gateway_id": req.gateway_id,
            "property_id": prop.property_id,
            **identity,
            "deployment": settings,
            "greengrass": self._deployer.deploy(settings).as_json(),
        }

    def _check_thing_is_free(self, company_id: str, gateway_id: str, thing_name: str) -> None:
        """The registry check: the name is this gateway's by construction (an id holds no
        separator), and no other gateway's item and no IoT thing of another owner has it."""
        if owner_of_thing(thing_name) != (company_id, gateway_id):
            raise ThingNameTakenError(f"{thing_name!r} does not name this gateway alone")
        try:
            holder = self._catalogue.find_gateway_by_thing(thing_name)
        except NotFoundError:
            holder = None
        if holder is not None and (holder.company_id, holder.gateway_id) != (
            company_id,
            gateway_id,
        ):
            raise ThingNameTakenError(f"{thing_name!r} is another gateway's thing")
        try:
            thing = self._iot.describe_thing(thingName=thing_name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            return
        owner = thing.get("attributes") or {}
        if (owner.get("company_id"), owner.get("gateway_id")) != (company_id, gateway_id):
            raise ThingNameTakenError(f"the IoT thing {thing_name!r} belongs to someone else")

    def _ensure_group(self, company_id: str) -> str:
        group = f"{THING_GROUP_PREFIX}{company_id}"
        try:
            self._iot.create_thing_group(thingGroupName=group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        return group

    def _fleet_claim(
        self, company_id: str, gateway_id: str, thing_name: str, token: str
    ) -> dict[str, Any]:
        """What the device image needs: the template and its parameters (the token is
        shown once; the table keeps its hash). The template makes the thing and puts it
        in its own group, which must exist by then."""
        self._deployer.ensure_group(thing_name)
        return {
            "thing_name": thing_name,
            "thing_group": self._ensure_group(company_id),
            "provisioning": {
                "template": f"powerlet-{self._settings.stage}-gateway",
                "parameters": {
                    COMPANY_PARAMETER: company_id,
                    GATEWAY_PARAMETER: gateway_id,
                    TOKEN_PARAMETER: token,
                },
            },
        }

    def _provision_thing(self, company_id: str, gateway_id: str, thing_name: str) -> dict[str, Any]:
        group = self._ensure_group(company_id)
        thing = self._iot.create_thing(
            thingName=thing_name,
            attributePayload={"attributes": {"company_id": company_id, "gateway_id": gateway_id}},
        )
        self._iot.add_thing_to_thing_group(thingGroupName=group, thingName=thing_name)
        self._deployer.ensure_group(thing_name)
        self._iot.add_thing_to_thing_group(
            thingGroupName=gateway_group(thing_name), thingName=thing_name
        )
        cert = self._iot.create_keys_and_certificate(setAsActive=True)
        own_policy = self._ensure_own_policy(thing_name, cert["certificateArn"])
        policies = [self._settings.gateway_policy_name, own_policy]
        for policy in policies:
            self._iot.attach_policy(policyName=policy, target=cert["certificateArn"])
        self._iot.attach_thing_principal(thingName=thing_name, principal=cert["certificateArn"])
        endpoint = self._iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
        return {
            "thing_name": thing_name,
            "thing_arn": thing["thingArn"],
            "thing_group": group,
            "certificate_id": cert["certificateId"],
            "certificate_arn": cert["certificateArn"],
            "certificate_pem": cert["certificatePem"],
            "private_key": cert["keyPair"]["PrivateKey"],
            "iot_endpoint": endpoint,
            "policy": own_policy,
            "policies": policies,
        }

    def _ensure_own_policy(self, thing_name: str, certificate_arn: str) -> str:
        """The gateway's own policy (its thing name written out); kept if a retried
        registration already made it (the document depends on the name and account only)."""
        partition, region, account_id = _arn_parts(certificate_arn)
        name = policy_name(self._settings.stage, thing_name)
        document = gateway_policy_document(thing_name, partition, region, account_id)
        try:
            self._iot.create_policy(policyName=name, policyDocument=json.dumps(document))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        return name

    def register_meters(
        self, company: Company, gateway_id: str, req: RegisterMetersRequest, now: datetime
    ) -> dict[str, Any]:
        company_id = str(company.company_id)
        gateway = self._catalogue.get_gateway(company_id, gateway_id)
        existing = list(self._catalogue.list_meters_of_gateway(company_id, gateway_id))
        _check_bus(existing, req)
        own = self._own_models(
            company_id,
            meters=[m.profile for m in req.meters],
            relays=[m.relay.profile for m in req.meters if m.relay],
        )
        prop = self._catalogue.get_property(company_id, str(gateway.property_id))
        items: list[PowerletItem] = []
        for m in req.meters:
            problem = prepaid_unswitchable(m, meter_model(m.profile, own))
            if problem:
                raise InvalidMeterRequestError(problem)
            if m.unit is not None:
                try:
                    tariff = parse_timeline(m.unit.tariff)
                except (DomainError, ValueError, KeyError, TypeError) as exc:
                    raise InvalidTariffError(
                        f"unit {m.unit.unit_id}: invalid tariff ({exc})"
                    ) from exc
                if tariff.currency != prop.currency:
                    raise TariffCurrencyError(
                        f"unit {m.unit.unit_id}: the tariff is in {tariff.currency}, "
                        f"the property bills in {prop.currency}"
                    )
            relay = (
                m.relay.model_dump(mode="json")
                if m.relay
                else _default_relay(m.profile, m.bus_address, own)
                if m.unit
                else None
            )
            meter = builders.meter(
                company_id,
                m.meter_id,
                gateway_id,
                m.bus_address,
                unit_id=m.unit.unit_id if m.unit else None,
                profile=m.profile,
                relay=relay,
            )
            items.append(meter)
            if m.unit is None:
                continue  # the building's own meter: declared main meter by the company
            items.append(
                builders.unit(
                    company_id,
                    m.unit.unit_id,
                    str(gateway.property_id),
                    name=m.unit.name,
                    unit_type=m.unit.unit_type,
                    billing_mode=m.unit.billing_mode,
                    tariff=m.unit.tariff,
                    meter_id=m.meter_id,
                )
            )
        try:
            self._catalogue.create_all(items)
        except ConditionFailedError as exc:
            raise MeterConflictError("a meter id or unit id is already registered") from exc
        self._usage.meters_changed(company_id, now, len(req.meters))
        settings, outcome = self.redeploy(company_id, gateway_id)
        return {
            "gateway_id": gateway_id,
            "registered": [m.meter_id for m in req.meters],
            "deployment": settings,
            "greengrass": outcome,
        }

    def change_meter(
        self, company: Company, gateway_id: str, meter_id: str, req: ChangeMeterRequest
    ) -> dict[str, Any]:
        """Another model on the same bus address (an exchange for a different model) or
        another relay pairing; the gateway is deployed again with it."""
        company_id = str(company.company_id)
        meter = self._meter_on(company_id, gateway_id, meter_id)
        profile = req.profile or str(meter.profile)
        relay = dict(meter.relay) if meter.relay else None
        if "relay" in req.model_fields_set:
            relay = req.relay.model_dump(mode="json") if req.relay else None
        own = self._own_models(
            company_id, meters=[profile], relays=[str(relay["profile"])] if relay else []
        )
        if (
            "relay" not in req.model_fields_set
            and meter.unit_id
            and (relay is None or relay.get("profile") == meter.profile)
        ):
            # it switched itself (or nothing did): the new model's own relay, if it has one
            relay = _default_relay(profile, int(meter.bus_address), own)
        self._catalogue.set_meter_model(meter, profile, relay)
        settings, outcome = self.redeploy(company_id, gateway_id)
        return {"meter_id": meter_id, "deployment": settings, "greengrass": outcome}

    def remove_meter(self, company: Company, gateway_id: str, meter_id: str) -> dict[str, Any]:
        """Take a meter off the bus. A unit's meter stays (its readings and money hang on
        it): change its model instead, or move the unit out first."""
        company_id = str(company.company_id)
        meter = self._meter_on(company_id, gateway_id, meter_id)
        if meter.unit_id:
            raise MeterConflictError(
                f"meter {meter_id} is unit {meter.unit_id}'s meter: change its model instead"
            )
        self._catalogue.remove(meter)
        settings, outcome = self.redeploy(company_id, gateway_id)
        return {
            "meter_id": meter_id,
            "removed": True,
            "deployment": settings,
            "greengrass": outcome,
        }

    def _meter_on(self, company_id: str, gateway_id: str, meter_id: str) -> Meter:
        self._catalogue.get_gateway(company_id, gateway_id)  # NotFoundError: not theirs
        meter = self._catalogue.get_meter(company_id, meter_id)
        if meter.gateway_id != gateway_id:
            raise NotFoundError("no such meter on this gateway")
        return meter

    def _own_models(
        self, company_id: str, meters: list[str], relays: list[str]
    ) -> dict[str, MeterModel]:
        """The company's own profiles among the names, each checked for its use (a meter
        measures, a relay switches); UnknownMeterProfileError for a name that is neither
        shipped nor the company's."""
        own = self._profiles.models(company_id, [*meters, *relays])
        try:
            for name in meters:
                meter_model(name, own)
            for name in relays:
                relay_model(name, own)
        except UnknownMeterModelError as exc:
            raise UnknownMeterProfileError(
                f"{exc}, or one of the company's own profiles ({', '.join(sorted(own)) or 'none'})"
            ) from exc
        return own

    def deployment(self, company_id: str, gateway_id: str) -> dict[str, Any]:
        return self._current(company_id, gateway_id)[0]

    def _current(
        self, company_id: str, gateway_id: str
    ) -> tuple[dict[str, Any], Gateway, dict[str, Any]]:
        """The settings to deploy, the gateway, and the summaries of the company's own
        profiles in them."""
        gateway = self._catalogue.get_gateway(company_id, gateway_id)
        meters = list(self._catalogue.list_meters_of_gateway(company_id, gateway_id))
        names = [str(m.profile) for m in meters]
        names += [str(dict(m.relay)["profile"]) for m in meters if m.relay]
        documents, summaries = self._profiles.documents(company_id, names)
        return deployment_settings(gateway, meters, documents), gateway, summaries

    def redeploy(self, company_id: str, gateway_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The gateway's settings as stored now, and the deployment created from them.
        The gateway's item keeps the summaries of the company profiles deployed, from
        which ingest rates their readings (``Gateway.profiles``)."""
        settings, gateway, summaries = self._current(company_id, gateway_id)
        if (gateway.profiles or {}) != summaries:
            self._catalogue.set_gateway_profiles(gateway, summaries)
        return settings, self._deployer.deploy(settings).as_json()


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """Partition, region and account of an IoT ARN (``arn:aws:iot:<region>:<account>:...``)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "iot":
        raise ValueError(f"not an IoT ARN: {arn!r}")
    return parts[1], parts[3], parts[4]


def _default_relay(profile: str, address: int, own: dict[str, MeterModel]) -> dict[str, Any] | None:
    """A model with its own relay (plain or keyed) switches itself; one without needs a
    relay-module channel named explicitly (domain/meter_models.py)."""
    if meter_model(profile, own).has_own_relay:
        return {"address": address, "profile": profile, "channel": 0}
    return None


def _check_bus(existing: list[Meter], req: RegisterMetersRequest) -> None:
    ids = [m.meter_id for m in req.meters]
    addresses = [m.bus_address for m in req.meters]
    if len(set(ids)) != len(ids) or len(set(addresses)) != len(addresses):
        raise InvalidMeterRequestError("a meter id or bus address repeats in the request")
    taken = {int(m.bus_address) for m in existing}
    if taken & set(addresses):
        raise MeterConflictError(f"bus addresses in use: {sorted(taken & set(addresses))}")
    if len(existing) + len(req.meters) > MAX_METERS_PER_BUS:
        raise MeterConflictError(f"a bus carries at most {MAX_METERS_PER_BUS} meters")
