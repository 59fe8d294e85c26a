"""Answers of the reseller API: companies, brands, domains, logos, gateways, meters,
deployments, usage and keys."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from ...branding.schema import BrandConfig
from .common import Shape, Timestamp

WITHHELD = 'on a replay: "withheld: shown once"'


class CompanyView(Shape):
    company_id: str
    name: str
    status: str = Field(description="active | suspended")
    created_at: Timestamp | None


class Companies(Shape):
    companies: list[CompanyView]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class Challenge(Shape):
    name: str = Field(description="_powerlet-challenge.<domain>")
    type: str = Field(description="TXT")
    value: str = Field(description="the token the TXT record must carry")


class DomainView(Shape):
    domain: str
    status: str = Field(description="pending | verified | unclaimed")
    challenge: Challenge | None = Field(default=None, description="pending domains only")
    expires_at: Timestamp | None = Field(
        default=None, description="pending only: the claim lapses then; saving the brand renews it"
    )


class SenderView(Shape):
    address: str = Field(description="the brand's email_sender_address")
    status: str = Field(
        description="in_use: on a verified domain of the brand (or under one's parent); "
        "pending: stored but not used until such a domain is verified"
    )
    detail: str = Field(description="why, and what mail goes out as meanwhile")


class AdminInvited(Shape):
    email: str
    user_sub: str
    invited: bool


class CompanyDetail(CompanyView):
    brand: BrandConfig | None
    domains: list[DomainView]
    sender: SenderView | None = Field(description="whether the brand's sender address is used")
    sign_in_urls: list[str] = Field(description="verified domains' sign-in, then the slug path")


class CompanyCreated(CompanyDetail):
    admin: AdminInvited


class DomainReleased(Shape):
    domain: str
    status: str = Field(
        description="released: its certificate and custom domain are deleted | pending: a "
        "step failed (detail); saving the brand again retries it"
    )
    detail: str | None = Field(default=None, description="pending only: what AWS answered")


class BrandUpdated(Shape):
    company_id: str
    brand: BrandConfig
    domains: list[DomainView]
    released_domains: list[DomainReleased] = Field(
        description="dropped domains that were served: their AWS resources' cleanup"
    )
    sender: SenderView = Field(description="whether the brand's sender address is used")


class DnsRecord(Shape):
    name: str
    type: str = Field(description="CNAME")
    value: str


class DomainCertificate(Shape):
    arn: str
    status: str = Field(description="ACM's: PENDING_VALIDATION | ISSUED | ...")
    validation_record: DnsRecord | None = Field(
        default=None, description="the CNAME that validates the certificate"
    )


class DomainServing(Shape):
    status: str = Field(description="waiting_for_certificate | not_configured | ready")
    cname: DnsRecord | None = Field(default=None, description="ready only: point the domain here")


class DomainVerified(Shape):
    company_id: str
    domain: str
    status: str = Field(description="verified")
    certificate: DomainCertificate
    serving: DomainServing


class LogoUploaded(Shape):
    company_id: str
    logo_key: str
    content_type: str = Field(description="image/png | image/jpeg | image/webp (sniffed)")
    bytes: int


class ComponentBus(Shape):
    """The component's ``bus`` keys this registration sets (the rest keep the recipe's
    defaults): the serial ones for ``rtu``, ``host`` and ``tcp_port`` for ``tcp``."""

    transport: str = Field(description="rtu | tcp")
    port: str | None = None
    baudrate: int | None = None
    parity: str | None = None
    stopbits: int | None = None
    bytesize: int | None = None
    host: str | None = None
    tcp_port: int | None = None
    read_cost: str | None = None


class RelayLink(Shape):
    address: int
    profile: str
    channel: int


class BusMeter(Shape):
    meter_id: str
    address: int
    profile: str
    relay: RelayLink | None = None


class ComponentConfiguration(Shape):
    bus: ComponentBus
    meters: list[BusMeter]
    profiles: dict[str, Any] = Field(
        description="the company's own profile documents the meters name, by name"
    )


class CoreThingSync(Shape):
    classic: bool
    namedShadows: list[str]


class Synchronize(Shape):
    coreThing: CoreThingSync


class ShadowManagerConfiguration(Shape):
    synchronize: Synchronize


class ShadowManager(Shape):
    component: str
    configuration: ShadowManagerConfiguration


class Deployment(Shape):
    """What to merge into the Greengrass deployment of the gateway's core device."""

    component: str
    thing_name: str
    thing_group: str = Field(description="the gateway's own thing group, the deployment's target")
    configuration: ComponentConfiguration
    shadow_manager: ShadowManager


class CertificateGateway(Shape):
    """``provisioning: certificate``: the thing exists, with its certificate."""

    gateway_id: str
    property_id: str
    thing_name: str
    thing_arn: str
    thing_group: str
    certificate_id: str
    certificate_arn: str
    certificate_pem: str
    private_key: str = Field(description=f"PEM, shown once ({WITHHELD})")
    iot_endpoint: str
    policy: str = Field(description="the gateway's own IoT policy")
    policies: list[str]
    deployment: Deployment
    greengrass: GreengrassOutcome


class FleetClaim(Shape):
    template: str
    parameters: dict[str, str] = Field(description="the template's, the one-time token among them")


class FleetGateway(Shape):
    """``provisioning: fleet``: the device claims its thing with the one-time token."""

    gateway_id: str
    property_id: str
    thing_name: str
    thing_group: str
    provisioning: FleetClaim
    deployment: Deployment
    greengrass: GreengrassOutcome


class GreengrassOutcome(Shape):
    status: str = Field(description="created | failed | not_configured")
    deployment_id: str | None = None
    target_arn: str | None = None
    reason: str | None = Field(
        default=None, description="why it failed: POST .../deployment retries"
    )


class GatewayRegistered(RootModel[CertificateGateway | FleetGateway]):
    pass


class MetersRegistered(Shape):
    gateway_id: str
    registered: list[str]
    deployment: Deployment
    greengrass: GreengrassOutcome


class MeterChanged(Shape):
    meter_id: str
    removed: bool | None = Field(default=None, description="true: taken off the bus (DELETE)")
    deployment: Deployment
    greengrass: GreengrassOutcome


class Redeployed(Shape):
    deployment: Deployment
    greengrass: GreengrassOutcome


class MeterProfileSummary(Shape):
    name: str
    model: str
    version: int
    fingerprint: str
    kind: str = Field(description="meter | relay_module")
    phases: int | None
    max_current_a: str | None
    nominal_voltage_v: str | None
    relay: str
    relay_channels: int
    register_step_kwh: str | None
    float_register: bool


class MeterProfileStored(Shape):
    name: str
    version: int
    stored: bool = Field(description="false: the same version was stored already")
    model: MeterProfileSummary


class MeterProfiles(Shape):
    profiles: list[MeterProfileSummary]


class Usage(Shape):
    company_id: str
    month: str = Field(description="YYYY-MM")
    active_meters: int
    messages: int
    top_ups: int


class KeyIssued(Shape):
    key_id: str
    api_key: str = Field(description=f"plr_<key id>_<secret>, shown once ({WITHHELD})")
    label: str


class KeyRevoked(Shape):
    key_id: str
    status: str = Field(description="revoked")
