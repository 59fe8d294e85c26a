"""The reseller onboarding API: companies, brands, logos, gateways, meters,
usage. Every route is scoped to the reseller of the verified API key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from chalice import Blueprint, Response
from pydantic import BaseModel

from ..application.custom_domains import ApiStage
from ..application.reseller.onboarding import still_active
from ..application.reseller.requests import (
    ChangeMeterRequest,
    CreateCompanyRequest,
    IssueKeyRequest,
    ListCompaniesQuery,
    MeterProfileDocument,
    RegisterGatewayRequest,
    RegisterMetersRequest,
)
from ..branding.schema import BrandConfig
from ..data.errors import NotFoundError
from ..data.models import Company
from ..domain.meter_models import meter_models
from ..routing.bodies import json_body
from ..routing.dependencies import deps
from .reseller_access import current_reseller, idempotent_create, reseller_route
from .shapes import reseller as shapes
from .shapes.portal import MeterModels

bp = Blueprint(__name__)
_Body = TypeVar("_Body", bound=BaseModel)
DEFAULT_STAGE = "api"  # Chalice's API Gateway stage

# The type is sniffed from the bytes; the declared one only has to get past API Gateway.
LOGO_CONTENT_TYPES = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "application/octet-stream",
    "application/json",
]


def _json(bp_: Blueprint) -> Any:
    return json_body(bp_.current_request)


def _changing(reseller_id: str, company_id: str, body: type[_Body]) -> tuple[Company, _Body]:
    """A change to one of the reseller's companies, in the order its refusals are
    documented (docs/api.md): not the reseller's (404) before a bad body (400), a
    suspended company (409) after it."""
    company = deps().onboarding.owned_company(reseller_id, company_id)
    req = body.model_validate(_json(bp))
    return still_active(company), req


def _active(reseller_id: str, company_id: str) -> Company:
    """One of the reseller's companies (404 if not), active (409 if suspended)."""
    return deps().onboarding.active_company(reseller_id, company_id)


@reseller_route(
    bp,
    "/v1/reseller/companies",
    methods=("POST",),
    body=CreateCompanyRequest,
    idempotent=True,
    response=shapes.CompanyCreated,
)
def create_company() -> Response:
    """Create a company with its brand and first admin (Cognito invitation)."""
    reseller = current_reseller(bp)
    req = CreateCompanyRequest.model_validate(_json(bp))

    def run() -> dict[str, Any]:
        return deps().onboarding.create_company(reseller.reseller_id, req, datetime.now(UTC))

    return idempotent_create(bp, reseller, run)


@reseller_route(bp, "/v1/reseller/companies", query=ListCompaniesQuery, response=shapes.Companies)
def list_companies() -> dict[str, Any]:
    """List the reseller's companies, a page at a time (``limit`` 1-200, ``cursor``)."""
    reseller = current_reseller(bp)
    query = ListCompaniesQuery.model_validate(dict(bp.current_request.query_params or {}))
    return deps().onboarding.list_companies(reseller.reseller_id, query.limit, query.cursor)


@reseller_route(bp, "/v1/reseller/companies/{company_id}", response=shapes.CompanyDetail)
def get_company(company_id: str) -> dict[str, Any]:
    """One of the reseller's companies, with its brand."""
    reseller = current_reseller(bp)
    return deps().onboarding.get_company(reseller.reseller_id, company_id)


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/brand",
    methods=("PUT",),
    body=BrandConfig,
    response=shapes.BrandUpdated,
    errors=(409,),
)
def update_brand(company_id: str) -> dict[str, Any]:
    """Replace the company's brand (the logo stays unless the slug changes)."""
    reseller = current_reseller(bp)
    deps().onboarding.owned_company(reseller.reseller_id, company_id)
    config = BrandConfig.model_validate(_json(bp))
    return deps().onboarding.update_brand(reseller.reseller_id, company_id, config)


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/brand/domains/{domain}/verify",
    methods=("POST",),
    response=shapes.DomainVerified,
    errors=(409, 503),
)
def verify_domain(company_id: str, domain: str) -> dict[str, Any]:
    """Verify a claimed domain: its ``_powerlet-challenge`` TXT record must carry the token
    shown in the brand's ``domains``; only then does the domain show the brand. Called
    again, it advances serving the domain: its certificate (and the CNAME ACM validates
    it with), then the custom domain (and the CNAME the domain points at)."""
    reseller = current_reseller(bp)
    svc = deps()
    return svc.onboarding.verify_domain(
        reseller.reseller_id,
        company_id,
        domain,
        svc.dns_resolver,
        datetime.now(UTC),
        _serving_api(svc.reseller_settings.rest_api_id),
    )


def _serving_api(configured: str | None) -> ApiStage | None:
    """The API serving this request (API Gateway's request context), or the local stack's."""
    context = bp.current_request.context or {}
    rest_api_id = configured or context.get("apiId")
    stage = context.get("stage") or DEFAULT_STAGE
    return ApiStage(str(rest_api_id), str(stage)) if rest_api_id else None


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/brand/logo",
    methods=("PUT",),
    content_types=LOGO_CONTENT_TYPES,
    response=shapes.LogoUploaded,
    errors=(409, 413, 415),
)
def upload_logo(company_id: str) -> dict[str, Any]:
    """Upload the brand's logo (PNG, JPEG or WebP, at most 256 KiB; no SVG)."""
    reseller = current_reseller(bp)
    raw = bp.current_request.raw_body or b""
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    return deps().onboarding.upload_logo(reseller.reseller_id, company_id, data)


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/suspend",
    methods=("POST",),
    response=shapes.CompanyView,
)
def suspend_company(company_id: str) -> dict[str, Any]:
    """Suspend a company."""
    reseller = current_reseller(bp)
    return deps().onboarding.set_status(reseller.reseller_id, company_id, "suspended")


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/resume",
    methods=("POST",),
    response=shapes.CompanyView,
)
def resume_company(company_id: str) -> dict[str, Any]:
    """Resume a suspended company."""
    reseller = current_reseller(bp)
    return deps().onboarding.set_status(reseller.reseller_id, company_id, "active")


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/gateways",
    methods=("POST",),
    body=RegisterGatewayRequest,
    idempotent=True,
    response=shapes.GatewayRegistered,
)
def register_gateway(company_id: str) -> Response:
    """Register a gateway: IoT thing, certificate, policy, thing group, bus settings."""
    reseller = current_reseller(bp)
    svc = deps()
    company, req = _changing(reseller.reseller_id, company_id, RegisterGatewayRequest)
    brand = svc.onboarding.brand_of(company_id)

    def run() -> dict[str, Any]:
        return svc.gateways.register_gateway(
            company, req, brand.currency, brand.time_zone, datetime.now(UTC)
        )

    return idempotent_create(bp, reseller, run)


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/meters",
    methods=("POST",),
    body=RegisterMetersRequest,
    idempotent=True,
    response=shapes.MetersRegistered,
)
def register_meters(company_id: str, gateway_id: str) -> Response:
    """Register meters on a gateway's bus (profile, bus address, unit)."""
    reseller = current_reseller(bp)
    svc = deps()
    company, req = _changing(reseller.reseller_id, company_id, RegisterMetersRequest)

    def run() -> dict[str, Any]:
        return svc.gateways.register_meters(company, gateway_id, req, datetime.now(UTC))

    return idempotent_create(bp, reseller, run)


METER = "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/meters/{meter_id}"
PROFILES = "/v1/reseller/companies/{company_id}/meter-profiles"


@reseller_route(
    bp,
    PROFILES + "/{name}",
    methods=("PUT",),
    body=MeterProfileDocument,
    response=shapes.MeterProfileStored,
    errors=(409,),
)
def put_meter_profile(company_id: str, name: str) -> dict[str, Any]:
    """Store one of the company's own meter profiles (the gateway's profile format); meters
    may then name it, and their gateways' deployments carry it. A change needs a higher
    ``version``."""
    _active(current_reseller(bp).reseller_id, company_id)
    document = _json(bp)
    return deps().meter_profiles.put(company_id, name, document, datetime.now(UTC))


@reseller_route(bp, PROFILES, response=shapes.MeterProfiles)
def list_meter_profiles(company_id: str) -> dict[str, Any]:
    """The company's own meter profiles, summarised as the meter models are."""
    reseller = current_reseller(bp)
    deps().onboarding.owned_company(reseller.reseller_id, company_id)
    return {"profiles": deps().meter_profiles.listed(company_id)}


@reseller_route(
    bp,
    METER,
    methods=("PATCH",),
    body=ChangeMeterRequest,
    response=shapes.MeterChanged,
    errors=(409,),
)
def change_meter(company_id: str, gateway_id: str, meter_id: str) -> dict[str, Any]:
    """Change a meter's model (an exchange for another model) or relay; redeploys the bus."""
    company, req = _changing(current_reseller(bp).reseller_id, company_id, ChangeMeterRequest)
    return deps().gateways.change_meter(company, gateway_id, meter_id, req)


@reseller_route(bp, METER, methods=("DELETE",), response=shapes.MeterChanged, errors=(409,))
def remove_meter(company_id: str, gateway_id: str, meter_id: str) -> dict[str, Any]:
    """Take a meter that is no unit's off the bus; redeploys the bus."""
    company = _active(current_reseller(bp).reseller_id, company_id)
    return deps().gateways.remove_meter(company, gateway_id, meter_id)


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/deployment",
    response=shapes.Deployment,
)
def gateway_deployment(company_id: str, gateway_id: str) -> dict[str, Any]:
    """The component deployment settings for a gateway's bus."""
    reseller = current_reseller(bp)
    deps().onboarding.owned_company(reseller.reseller_id, company_id)
    return deps().gateways.deployment(company_id, gateway_id)


@reseller_route(
    bp,
    "/v1/reseller/companies/{company_id}/gateways/{gateway_id}/deployment",
    methods=("POST",),
    response=shapes.Redeployed,
    errors=(409,),
)
def redeploy_gateway(company_id: str, gateway_id: str) -> dict[str, Any]:
    """Create the gateway's Greengrass deployment again (after a failed one)."""
    _active(current_reseller(bp).reseller_id, company_id)
    settings, outcome = deps().gateways.redeploy(company_id, gateway_id)
    return {"deployment": settings, "greengrass": outcome}


@reseller_route(bp, "/v1/reseller/meter-models", response=MeterModels)
def reseller_meter_models() -> dict[str, Any]:
    """The meter models a bus may carry, by profile name: what ``profile`` accepts."""
    current_reseller(bp)
    return {"models": [meter_models()[name].as_json() for name in sorted(meter_models())]}


@reseller_route(
    bp, "/v1/reseller/companies/{company_id}/usage/{month}", response=shapes.Usage, errors=(400,)
)
def company_usage(company_id: str, month: str) -> dict[str, object]:
    """Usage of a company in a month (YYYY-MM): active meters, messages, top-ups."""
    reseller = current_reseller(bp)
    return deps().onboarding.usage(reseller.reseller_id, company_id, month)


@reseller_route(
    bp,
    "/v1/reseller/keys",
    methods=("POST",),
    body=IssueKeyRequest,
    idempotent=True,
    response=shapes.KeyIssued,
)
def issue_key() -> Response:
    """Issue another API key for the calling reseller (rotation); shown once."""
    reseller = current_reseller(bp)
    req = IssueKeyRequest.model_validate(_json(bp))

    def run() -> dict[str, Any]:
        now = datetime.now(UTC)
        issued = deps().api_keys.issue(reseller.reseller_id, now, label=req.label)
        return {"key_id": issued.key_id, "api_key": issued.secret, "label": req.label}

    return idempotent_create(bp, reseller, run)


@reseller_route(bp, "/v1/reseller/keys/{key_id}", methods=("DELETE",), response=shapes.KeyRevoked)
def revoke_key(key_id: str) -> dict[str, Any]:
    """Revoke one of the reseller's API keys (effective on the next request)."""
    reseller = current_reseller(bp)
    if not deps().api_keys.revoke(reseller.reseller_id, key_id, datetime.now(UTC)):
        raise NotFoundError("no such key")
    return {"key_id": key_id, "status": "revoked"}
