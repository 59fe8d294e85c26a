"""Reads and writes of a company's catalogue: memberships, properties, units,
gateways, meters, tenancies. Every call takes the company id first: it comes
from the verified identity, never from a request body."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist

from . import keys
from .errors import NotFoundError
from .models import (
    Account,
    Company,
    Gateway,
    Membership,
    Meter,
    PowerletItem,
    Property,
    Tenancy,
    Unit,
)

_T = TypeVar("_T", bound=PowerletItem)

MAX_PAGE = 200


def _get(cls: type[_T], pk: str, sk: str, what: str) -> _T:
    try:
        return cls.get(pk, sk)
    except DoesNotExist as exc:
        raise NotFoundError(f"{what} not found") from exc


class Catalogue:
    def get_company(self, company_id: str) -> Company:
        return _get(Company, keys.company_pk(company_id), keys.COMPANY_SK, "company")

    def get_membership(self, company_id: str, user_sub: str) -> Membership:
        return _get(Membership, keys.company_pk(company_id), keys.member_sk(user_sub), "membership")

    def get_property(self, company_id: str, property_id: str) -> Property:
        return _get(
            Property, keys.company_pk(company_id), keys.property_sk(property_id), "property"
        )

    def list_properties(self, company_id: str, limit: int = MAX_PAGE) -> Iterator[Property]:
        yield from Property.query(
            keys.company_pk(company_id),
            Property.sk.startswith("PROP#"),
            limit=min(limit, MAX_PAGE),
        )

    def get_unit(self, company_id: str, unit_id: str) -> Unit:
        return _get(Unit, keys.company_pk(company_id), keys.unit_sk(unit_id), "unit")

    def list_units_of_property(
        self, company_id: str, property_id: str, limit: int = MAX_PAGE
    ) -> Iterator[Unit]:
        yield from Unit.gsi1.query(  # type: ignore[misc]
            keys.units_of_property_gsi1pk(company_id, property_id),
            limit=min(limit, MAX_PAGE),
        )

    def get_gateway(self, company_id: str, gateway_id: str) -> Gateway:
        return _get(Gateway, keys.company_pk(company_id), keys.gateway_sk(gateway_id), "gateway")

    def find_gateway_by_thing(self, thing_name: str) -> Gateway:
        """Ingest's first step: the topic names the thing; the item names the company."""
        for item in Gateway.gsi1.query(keys.thing_gsi1pk(thing_name), limit=1):
            if isinstance(item, Gateway):
                return item
        raise NotFoundError(f"no gateway registered for thing {thing_name!r}")

    def get_meter(self, company_id: str, meter_id: str) -> Meter:
        return _get(Meter, keys.company_pk(company_id), keys.meter_sk(meter_id), "meter")

    def list_meters_of_gateway(self, company_id: str, gateway_id: str) -> Iterator[Meter]:
        yield from Meter.gsi1.query(  # type: ignore[misc]
            keys.meters_of_gateway_gsi1pk(company_id, gateway_id), limit=MAX_PAGE
        )

    def get_tenancy(self, company_id: str, tenancy_id: str) -> Tenancy:
        return _get(Tenancy, keys.company_pk(company_id), keys.tenancy_sk(tenancy_id), "tenancy")

    def list_tenancies_of_tenant(self, company_id: str, tenant_sub: str) -> Iterator[Tenancy]:
        yield from Tenancy.gsi2.query(  # type: ignore[misc]
            keys.tenancies_of_tenant_gsi2pk(company_id, tenant_sub), limit=MAX_PAGE
        )

    def list_companies(self, limit: int = 10_000) -> Iterator[Company]:
        """Every company (gsi2 ``COMPANIES``): the schedules' fan-out root."""
        yield from Company.gsi2.query(keys.ALL_COMPANIES_GSI2PK, limit=limit)  # type: ignore[misc]

    def list_gateways(self, company_id: str) -> Iterator[Gateway]:
        yield from Gateway.query(
            keys.company_pk(company_id), Gateway.sk.startswith("GW#"), limit=10_000
        )

    def list_accounts(self, company_id: str) -> Iterator[Account]:
        """Accounts of a company (gsi1 ``CO#<co>#ACCOUNTS``), for reconciliation."""
        yield from Account.gsi1.query(  # type: ignore[misc]
            keys.accounts_of_company_gsi1pk(company_id), limit=100_000
        )

    def list_members(self, company_id: str) -> Iterator[Membership]:
        yield from Membership.query(
            keys.company_pk(company_id), Membership.sk.startswith("MEMBER#"), limit=1_000
        )

    def get_units(self, company_id: str, unit_ids: Iterable[str]) -> dict[str, Unit]:
        wanted = [(keys.company_pk(company_id), keys.unit_sk(u)) for u in set(unit_ids)]
        return {u.unit_id: u for u in Unit.batch_get(wanted)}

    def get_tenancies(self, company_id: str, tenancy_ids: Iterable[str]) -> dict[str, Tenancy]:
        wanted = [(keys.company_pk(company_id), keys.tenancy_sk(t)) for t in set(tenancy_ids)]
        return {t.tenancy_id: t for t in Tenancy.batch_get(wanted)}

    @staticmethod
    def save_all(items: Iterable[PowerletItem]) -> int:
        count = 0
        with PowerletItem.batch_write() as batch:
            for item in items:
                batch.save(item)
                count += 1
        return count
