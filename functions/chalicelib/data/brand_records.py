"""Brands in the table: the company's ``Brand`` item (its config as JSON), one
``HostBinding`` per custom domain and one ``SlugBinding`` per ``/b/<slug>/`` prefix.

Only persistence lives here; what a brand may contain and when a domain counts as
proven is ``branding/`` (``branding/store.py``). A slug is bound with a conditional put
in the same transaction as the brand, so it belongs to one company at a time and a
failed update changes nothing. A custom domain is first *claimed*: each company's claim
is its own item (``HostClaim``, beside the host's binding), so a pending claim never
blocks another company; the host's ``HostBinding`` is written only when a company proves
the domain's DNS, and that proof takes it from any company that had not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from . import builders, keys
from .conditions import cancellation_reasons, conditional_check_failed
from .errors import ConditionFailedError
from .models import (
    VERIFIED,
    Brand,
    DomainRelease,
    HostBinding,
    HostClaim,
    PowerletItem,
    SlugBinding,
)


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

    def host_claims(self, company_id: str, hosts: Iterable[str]) -> dict[str, HostClaim]:
        """This company's claims of ``hosts`` (one BatchGetItem)."""
        sk = keys.host_claim_sk(company_id)
        wanted = {(keys.host_pk(h), sk) for h in hosts}
        return {c.host: c for c in HostClaim.batch_get(wanted)} if wanted else {}

    def host_claim(self, company_id: str, host: str) -> HostClaim | None:
        try:
            return HostClaim.get(
                keys.host_pk(host), keys.host_claim_sk(company_id), consistent_read=True
            )
        except DoesNotExist:
            return None

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
        claims: Sequence[HostClaim],
        releases: Sequence[str],
        creates: Sequence[PowerletItem] = (),
        puts: Sequence[PowerletItem] = (),
        now: datetime | None = None,
    ) -> None:
        """Store the brand, bind its slug, write this company's ``claims`` (its own items:
        no other company's claim or binding can make them fail), release ``releases`` (its
        claim, and the binding where it is this company's, recording a ``DomainRelease``
        where the binding held a certificate, at ``now``), and write ``creates`` (on
        condition that they do not exist) and ``puts``, all or nothing:
        ConditionFailedError when the slug belongs to another company or one of
        ``creates`` exists."""
        brand = Brand(
            keys.company_pk(company_id),
            keys.BRAND_SK,
            company_id=company_id,
            slug=slug,
            config=config,
        )
        held = self.host_bindings(releases)
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
                for claim in claims:
                    tx.save(claim)
                for host in releases:
                    tx.delete(HostClaim(keys.host_pk(host), keys.host_claim_sk(company_id)))
                    binding = held.get(host)
                    if binding is not None and binding.company_id == company_id:
                        tx.delete(
                            builders.host_binding(host, company_id),
                            condition=HostBinding.company_id == company_id,
                        )
                        if binding.certificate_arn and now is not None:
                            tx.save(
                                builders.domain_release(
                                    host, company_id, binding.certificate_arn, now
                                )
                            )
        except TransactWriteError as exc:
            raise ConditionFailedError(f"brand of {company_id} not saved: {exc}") from exc

    def domain_releases(self, company_id: str) -> list[DomainRelease]:
        """The company's dropped domains whose AWS resources are still to delete (one
        Query; a brand has at most a handful)."""
        return list(
            DomainRelease.query(
                keys.company_pk(company_id),
                DomainRelease.sk.startswith(keys.DOMAIN_RELEASE_PREFIX + keys.SEP),
                consistent_read=True,
            )
        )

    @staticmethod
    def drop_release(release: DomainRelease) -> None:
        """The cleanup is done: forget it (unless the host was dropped again since, with
        another certificate, which is a cleanup of its own)."""
        try:
            release.delete(condition=DomainRelease.certificate_arn == release.certificate_arn)
        except DeleteError as exc:
            if not conditional_check_failed(exc):
                raise

    def bind_verified(self, claim: HostClaim, now: datetime) -> bool:
        """The proven claim becomes the host's binding, in one transaction: over no
        binding, this company's, or another company's *pending* one (DNS proof decides),
        never over another company's verified one; the claim is spent. False if the host is
        verified by another company, or the claim changed meanwhile."""
        company_id = str(claim.company_id)
        binding = builders.host_binding(str(claim.host), company_id)
        binding.status = VERIFIED
        binding.verified_at = now
        open_to_us = (
            HostBinding.pk.does_not_exist()
            | (HostBinding.company_id == company_id)
            | (HostBinding.status != VERIFIED)
        )
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(binding, condition=open_to_us)
                tx.delete(claim, condition=HostClaim.challenge_token == claim.challenge_token)
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc):
                return False
            raise
        return True

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

    @staticmethod
    def keep_certificate(host: str, company_id: str, certificate_arn: str) -> bool:
        """The certificate requested for this company's verified host (False if the host
        is no longer its)."""
        binding = HostBinding(keys.host_pk(host), keys.HOST_BINDING_SK)
        try:
            binding.update(
                actions=[HostBinding.certificate_arn.set(certificate_arn)],
                condition=(HostBinding.company_id == company_id) & (HostBinding.status == VERIFIED),
            )
        except UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True
