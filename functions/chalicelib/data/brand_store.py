"""Brands in the table: the company's ``Brand`` item, one ``HostBinding`` per
custom domain and one ``SlugBinding`` per ``/b/<slug>/`` prefix.

Bindings are claimed with conditional puts in the same transaction as the
brand, so a domain or slug belongs to one company at a time and a failed
update changes nothing. Resolution before sign-in is one GetItem.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..branding.errors import DomainTakenError
from ..branding.schema import BrandConfig, parse_brand
from . import builders, keys
from .models import Brand, HostBinding, PowerletItem


class SlugBinding(PowerletItem, discriminator="SlugBinding"):
    slug = UnicodeAttribute()
    company_id = UnicodeAttribute()


def _slug_binding(slug: str, company_id: str) -> SlugBinding:
    return SlugBinding(keys.brand_slug_pk(slug), keys.SLUG_SK, slug=slug, company_id=company_id)


class BrandStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, company_id: str) -> BrandConfig | None:
        try:
            item = Brand.get(keys.company_pk(company_id), keys.BRAND_SK)
        except DoesNotExist:
            return None
        return parse_brand(item.config)

    def company_for_host(self, host: str) -> str | None:
        try:
            item = HostBinding.get(keys.host_pk(host), keys.HOST_BINDING_SK)
        except DoesNotExist:
            return None
        return str(item.company_id)

    def company_for_slug(self, slug: str) -> str | None:
        try:
            item = SlugBinding.get(keys.brand_slug_pk(slug), keys.SLUG_SK)
        except DoesNotExist:
            return None
        return str(item.company_id)

    def save(
        self,
        company_id: str,
        config: BrandConfig,
        previous: BrandConfig | None = None,
        extra_puts: Sequence[tuple[PowerletItem, Any]] = (),
    ) -> None:
        """Store the brand and move its bindings, all or nothing.

        ``extra_puts`` are (item, condition) pairs written in the same
        transaction (company creation writes the company and its admin too).
        Raises ``DomainTakenError`` when a domain or slug belongs to another
        company, or when a condition of ``extra_puts`` fails.
        """
        brand = Brand(
            keys.company_pk(company_id),
            keys.BRAND_SK,
            company_id=company_id,
            slug=config.slug,
            config=config.model_dump(mode="json"),
        )
        mine = HostBinding.company_id == company_id
        new_hosts = set(config.custom_domains)
        old_hosts = set(previous.custom_domains) if previous else set()
        try:
            with TransactWrite(connection=self._connection) as tx:
                for item, condition in extra_puts:
                    tx.save(item, condition=condition)
                tx.save(brand)
                tx.save(
                    _slug_binding(config.slug, company_id),
                    condition=SlugBinding.pk.does_not_exist()
                    | (SlugBinding.company_id == company_id),
                )
                if previous is not None and previous.slug != config.slug:
                    tx.delete(
                        _slug_binding(previous.slug, company_id),
                        condition=SlugBinding.company_id == company_id,
                    )
                for host in sorted(new_hosts):
                    tx.save(
                        builders.host_binding(host, company_id),
                        condition=HostBinding.pk.does_not_exist() | mine,
                    )
                for host in sorted(old_hosts - new_hosts):
                    tx.delete(builders.host_binding(host, company_id), condition=mine)
        except TransactWriteError as exc:
            reasons = _reasons(exc)
            if "ConditionalCheckFailed" in reasons:
                raise DomainTakenError(
                    "a custom domain, the slug or the company is already taken"
                ) from exc
            raise


def _reasons(exc: TransactWriteError) -> set[str]:
    return {
        str(r.code) for r in (getattr(exc, "cancellation_reasons", None) or []) if r is not None
    }
