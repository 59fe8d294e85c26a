"""Brands in the table: the company's ``Brand`` item, one ``HostBinding`` per
custom domain and one ``SlugBinding`` per ``/b/<slug>/`` prefix.

Bindings are claimed with conditional puts in the same transaction as the
brand, so a domain or slug belongs to one company at a time and a failed
update changes nothing. Resolution before sign-in is one GetItem.

A newly claimed domain is *pending* (with a DNS challenge token) and resolves
to nobody until ``verify`` finds the token in its ``_powerlet-challenge`` TXT
record; a domain the brand keeps keeps its binding (and its verification).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..branding.domain_challenge import TxtResolver, challenge, challenge_name, new_token, proves
from ..branding.errors import DomainNotVerifiedError, DomainTakenError
from ..branding.schema import BrandConfig, parse_brand
from . import builders, keys
from .errors import NotFoundError
from .models import Brand, HostBinding, PowerletItem

PENDING = "pending"
VERIFIED = "verified"


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
        if item.status == PENDING:  # claimed, not proven: shows nobody's brand
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
        unclaimed = HostBinding.pk.does_not_exist()
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
                for host in sorted(new_hosts - old_hosts):
                    tx.save(_pending_binding(host, company_id), condition=unclaimed | mine)
                for host in sorted(old_hosts - new_hosts):
                    tx.delete(builders.host_binding(host, company_id), condition=mine)
        except TransactWriteError as exc:
            reasons = _reasons(exc)
            if "ConditionalCheckFailed" in reasons:
                raise DomainTakenError(
                    "a custom domain, the slug or the company is already taken"
                ) from exc
            raise

    # --- custom domain ownership (branding/domain_challenge.py) ---

    def domains(self, company_id: str, hosts: Sequence[str]) -> list[dict[str, Any]]:
        """Each claimed domain's status, and the TXT record a pending one needs
        (one BatchGetItem of at most five bindings)."""
        wanted = {(keys.host_pk(h), keys.HOST_BINDING_SK) for h in hosts}
        found = {b.host: b for b in HostBinding.batch_get(wanted)} if wanted else {}
        out: list[dict[str, Any]] = []
        for host in hosts:
            binding = found.get(host)
            if binding is None or binding.company_id != company_id:
                out.append({"domain": host, "status": "unclaimed"})
            elif binding.status == PENDING:
                token = str(binding.challenge_token)
                out.append({"domain": host, "status": PENDING, "challenge": challenge(host, token)})
            else:
                out.append({"domain": host, "status": VERIFIED})
        return out

    def verified_domains(self, company_id: str, hosts: Sequence[str]) -> list[str]:
        """The hosts, in order, whose claim by this company is verified."""
        return [d["domain"] for d in self.domains(company_id, hosts) if d["status"] == VERIFIED]

    def verify_domain(
        self, company_id: str, host: str, resolver: TxtResolver, now: datetime
    ) -> dict[str, Any]:
        """Look the challenge up; mark the domain verified when its TXT record
        carries the token. NotFoundError if the company has not claimed it."""
        try:
            binding = HostBinding.get(
                keys.host_pk(host), keys.HOST_BINDING_SK, consistent_read=True
            )
        except DoesNotExist as exc:
            raise NotFoundError("the company has not claimed this domain") from exc
        if binding.company_id != company_id:
            raise NotFoundError("the company has not claimed this domain")
        if binding.status != PENDING:
            return {"domain": host, "status": VERIFIED}
        token = str(binding.challenge_token)
        if not proves(resolver.txt(challenge_name(host)), token):
            raise DomainNotVerifiedError(
                f"no TXT record {challenge_name(host)} with the domain's token was found "
                "(DNS changes can take a while to show)"
            )
        self._mark_verified(binding, company_id, now, token)
        return {"domain": host, "status": VERIFIED}

    def mark_verified(self, company_id: str, host: str, now: datetime) -> None:
        """For the operator's tools and the local seed: the domain is known to be theirs."""
        binding = HostBinding.get(keys.host_pk(host), keys.HOST_BINDING_SK, consistent_read=True)
        self._mark_verified(binding, company_id, now, binding.challenge_token)

    @staticmethod
    def _mark_verified(
        binding: HostBinding, company_id: str, now: datetime, token: str | None
    ) -> None:
        # only this company's claim, and only the challenge that was looked up:
        # a brand that dropped and re-claimed the domain meanwhile has a new token
        condition = HostBinding.company_id == company_id
        if token is not None:
            condition &= HostBinding.challenge_token == token
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
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise NotFoundError("the company has not claimed this domain") from exc
            raise


def _pending_binding(host: str, company_id: str) -> HostBinding:
    binding = builders.host_binding(host, company_id)
    binding.status = PENDING
    binding.challenge_token = new_token()
    return binding


def _reasons(exc: TransactWriteError) -> set[str]:
    return {
        str(r.code) for r in (getattr(exc, "cancellation_reasons", None) or []) if r is not None
    }
