"""Brands in the table: the company's ``Brand`` item (its config as JSON), one
``HostBinding`` per custom domain and one ``SlugBinding`` per ``/b/<slug>/`` prefix.

Only persistence lives here; what a brand may contain and when a domain counts as
proven is ``branding/`` (``branding/store.py``). Bindings are claimed with conditional
puts in the same transaction as the brand, so a domain or slug belongs to one company
at a time and a failed update changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from . import builders, keys
from .conditions import conditional_check_failed
from .errors import ConditionFailedError
from .models import VERIFIED, Brand, HostBinding, PowerletItem, SlugBinding


def _slug_binding(slug: str, company_id: str) -> SlugBinding:
    return SlugBinding(keys.brand_slug_pk(slug), keys.SLUG_SK, slug=slug, company_id=company_id)


class BrandRecords:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def config(self, company_id: str) -> dict[str, Any] | None:
        try:
            item = Brand.get(keys.company_pk(company_id), keys.BRAND_SK)
        except DoesNotExist:
            return None
        return dict(item.config)

    def host_binding(self, host: str, consistent: bool = False) -> HostBinding | None:
        try:
            return HostBinding.get(
                keys.host_pk(host), keys.HOST_BINDING_SK, consistent_read=consistent
            )
        except DoesNotExist:
            return None

    def host_bindings(self, hosts: Iterable[str]) -> dict[str, HostBinding]:
        """One BatchGetItem."""
        wanted = {(keys.host_pk(h), keys.HOST_BINDING_SK) for h in hosts}
        return {b.host: b for b in HostBinding.batch_get(wanted)} if wanted else {}

    def company_for_slug(self, slug: str) -> str | None:
        try:
            item = SlugBinding.get(keys.brand_slug_pk(slug), keys.SLUG_SK)
        except DoesNotExist:
            return None
        return str(item.company_id)

    def save(
        self,
        company_id: str,
        config: dict[str, Any],
        slug: str,
        previous_slug: str | None,
        claims: Sequence[tuple[str, str, str]],
        releases: Sequence[str],
        creates: Sequence[PowerletItem] = (),
        puts: Sequence[PowerletItem] = (),
    ) -> None:
        """Store the brand, bind its slug, claim ``claims`` (host, status, challenge
        token) unless another company holds them, release ``releases``, and write
        ``creates`` (on condition that they do not exist) and ``puts``, all or nothing:
        ConditionFailedError when a domain or slug belongs to another company or one of
        ``creates`` exists."""
        brand = Brand(
            keys.company_pk(company_id),
            keys.BRAND_SK,
            company_id=company_id,
            slug=slug,
            config=config,
        )
        mine = HostBinding.company_id == company_id
        unclaimed = HostBinding.pk.does_not_exist()
        try:
            with TransactWrite(connection=self._connection) as tx:
                for item in creates:
                    tx.save(item, condition=PowerletItem.pk.does_not_exist())
                for item in puts:
                    tx.save(item)
                tx.save(brand)
                tx.save(
                    _slug_binding(slug, company_id),
                    condition=SlugBinding.pk.does_not_exist()
                    | (SlugBinding.company_id == company_id),
                )
                if previous_slug is not None and previous_slug != slug:
                    tx.delete(
                        _slug_binding(previous_slug, company_id),
                        condition=SlugBinding.company_id == company_id,
                    )
                for host, status, token in claims:
                    binding = builders.host_binding(host, company_id)
                    binding.status = status
                    binding.challenge_token = token
                    tx.save(binding, condition=unclaimed | mine)
                for host in releases:
                    tx.delete(builders.host_binding(host, company_id), condition=mine)
        except TransactWriteError as exc:
            raise ConditionFailedError(f"brand of {company_id} not saved: {exc}") from exc

    def mark_verified(self, host: str, company_id: str, now: datetime, token: str | None) -> bool:
        """Only this company's claim, and only the challenge that was looked up (a brand
        that dropped and re-claimed the domain meanwhile has a new token). False if
        the claim is not (or no longer) the one described."""
        condition = HostBinding.company_id == company_id
        if token is not None:
            condition &= HostBinding.challenge_token == token
        binding = HostBinding(keys.host_pk(host), keys.HOST_BINDING_SK)
        try:
            binding.update(
                actions=[
                    HostBinding.status.set(VERIFIED),
                    HostBinding.verified_at.set(now),
                    HostBinding.challenge_token.remove(),
                ],
                condition=condition,
            )
        except UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True
