"""Build catalogue items with their keys, so no caller assembles a key itself."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import keys
from .lazy import lazy_module

if TYPE_CHECKING:
    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")


def company(company_id: str, name: str, created_at: datetime, **attrs: Any) -> models.Company:
    item = models.Company(
        keys.company_pk(company_id),
        keys.COMPANY_SK,
        company_id=company_id,
        name=name,
        created_at=created_at,
        **attrs,
    )
    item.gsi2pk = keys.ALL_COMPANIES_GSI2PK
    item.gsi2sk = keys.company_pk(company_id)
    if item.reseller_id:
        item.gsi1pk = keys.companies_of_reseller_gsi1pk(item.reseller_id)
        item.gsi1sk = keys.company_pk(company_id)
    return item


def reseller(reseller_id: str, name: str) -> models.Reseller:
    return models.Reseller(
        keys.reseller_pk(reseller_id), keys.RESELLER_SK, reseller_id=reseller_id, name=name
    )


def host_binding(host: str, company_id: str) -> models.HostBinding:
    """One item per host (fixed sort key): a conditional put makes a custom
    domain belong to exactly one company."""
    return models.HostBinding(
        keys.host_pk(host), keys.HOST_BINDING_SK, host=host.lower(), company_id=company_id
    )


def domain_release(
    host: str, company_id: str, certificate_arn: str, released_at: datetime
) -> models.DomainRelease:
    """A dropped domain's AWS resources still to delete, under its company."""
    return models.DomainRelease(
        keys.company_pk(company_id),
        keys.domain_release_sk(host),
        host=host.lower(),
        company_id=company_id,
        certificate_arn=certificate_arn,
        released_at=released_at,
    )


def host_claim(
    host: str, company_id: str, token: str, claimed_at: datetime, expires_at_s: int
) -> models.HostClaim:
    """A company's own claim of a custom domain (beside the host's binding)."""
    return models.HostClaim(
        keys.host_pk(host),
        keys.host_claim_sk(company_id),
        host=host.lower(),
        company_id=company_id,
        challenge_token=token,
        claimed_at=claimed_at,
        expires_at=expires_at_s,
    )


def membership(
    company_id: str, user_sub: str, email: str, role: str, **attrs: Any
) -> models.Membership:
    return models.Membership(
        keys.company_pk(company_id),
        keys.member_sk(user_sub),
        gsi1pk=keys.memberships_of_user_gsi1pk(user_sub),
        gsi1sk=keys.company_pk(company_id),
        company_id=company_id,
        user_sub=user_sub,
        email=email,
        role=role,
        **attrs,
    )


def property_(company_id: str, property_id: str, **attrs: Any) -> models.Property:
    return models.Property(
        keys.company_pk(company_id),
        keys.property_sk(property_id),
        company_id=company_id,
        property_id=property_id,
        **attrs,
    )


# The property the benches and tests build their buses in: Taipei's zone and currency.
TAIPEI = {
    "name": "P",
    "address": "A",
    "city": "Taipei",
    "country": "TW",
    "time_zone": "Asia/Taipei",
    "currency": "TWD",
}


def taipei_property(company_id: str, property_id: str = "p1", **attrs: Any) -> models.Property:
    """A property in Taipei (``TAIPEI``), ``attrs`` over it."""
    return property_(company_id, property_id, **{**TAIPEI, **attrs})


def unit(company_id: str, unit_id: str, property_id: str, **attrs: Any) -> models.Unit:
    return models.Unit(
        keys.company_pk(company_id),
        keys.unit_sk(unit_id),
        gsi1pk=keys.units_of_property_gsi1pk(company_id, property_id),
        gsi1sk=keys.unit_sk(unit_id),
        company_id=company_id,
        unit_id=unit_id,
        property_id=property_id,
        **attrs,
    )


def gateway(company_id: str, gateway_id: str, thing_name: str, **attrs: Any) -> models.Gateway:
    return models.Gateway(
        keys.company_pk(company_id),
        keys.gateway_sk(gateway_id),
        gsi1pk=keys.thing_gsi1pk(thing_name),
        gsi1sk=keys.company_pk(company_id),
        company_id=company_id,
        gateway_id=gateway_id,
        thing_name=thing_name,
        **attrs,
    )


def meter(
    company_id: str, meter_id: str, gateway_id: str, bus_address: int, **attrs: Any
) -> models.Meter:
    return models.Meter(
        keys.company_pk(company_id),
        keys.meter_sk(meter_id),
        gsi1pk=keys.meters_of_gateway_gsi1pk(company_id, gateway_id),
        gsi1sk=keys.meter_address_gsi1sk(bus_address),
        company_id=company_id,
        meter_id=meter_id,
        gateway_id=gateway_id,
        bus_address=bus_address,
        **attrs,
    )


def tenancy(
    company_id: str, tenancy_id: str, unit_id: str, tenant_sub: str, starts_on: str, **attrs: Any
) -> models.Tenancy:
    return models.Tenancy(
        keys.company_pk(company_id),
        keys.tenancy_sk(tenancy_id),
        gsi1pk=keys.tenancies_of_unit_gsi1pk(company_id, unit_id),
        gsi1sk=keys.tenancy_start_gsi1sk(
            starts_on,
            tenancy_id,
            int(attrs["starts_at"].timestamp() * 1000) if attrs.get("starts_at") else None,
        ),
        gsi2pk=keys.tenancies_of_tenant_gsi2pk(company_id, tenant_sub),
        gsi2sk=keys.tenancy_sk(tenancy_id),
        company_id=company_id,
        tenancy_id=tenancy_id,
        unit_id=unit_id,
        tenant_sub=tenant_sub,
        starts_on=starts_on,
        **attrs,
    )


def account(
    company_id: str, account_id: str, currency: str, created_at: datetime, **attrs: Any
) -> models.Account:
    """A new account with an empty ledger (move-in puts it in the same transaction as the
    tenancy; ``LedgerStore.open_account`` is the stand-alone way)."""
    return models.Account(
        keys.account_pk(company_id, account_id),
        keys.ACCOUNT_SK,
        gsi1pk=keys.accounts_of_company_gsi1pk(company_id),
        gsi1sk=keys.account_gsi1sk(account_id),
        company_id=company_id,
        account_id=account_id,
        currency=currency,
        balance_minor=0,
        entry_count=0,
        created_at=created_at,
        **attrs,
    )
