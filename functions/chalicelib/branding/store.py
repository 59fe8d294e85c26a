"""A company's brand as the product uses it: the validated config, the ``/b/<slug>/``
prefix and the custom domains with their DNS ownership proof.

Persistence is the data layer's (``data/brand_records.py``); this module decides what
a stored brand means: a config is parsed and validated on the way in and out, a newly
claimed domain is *pending* (with a DNS challenge token) and resolves to nobody until
``verify_domain`` finds the token in its ``_powerlet-challenge`` TXT record; a domain
the brand keeps keeps its binding (and its verification).

Claims against squatting (docs/security.md, "Domain claims"): a claim is the company's
own, so claiming a domain someone else claimed succeeds like any other (the answer says
nothing about other companies); it lapses after ``CLAIM_LIFETIME`` unproven (saving the
brand again renews it with a new token); and the company that proves the DNS gets the
domain, over another company's pending claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..data import builders
from ..data.brand_records import BrandRecords
from ..data.errors import ConditionFailedError, NotFoundError
from ..data.models import (
    PENDING,
    VERIFIED,
    DomainRelease,
    HostBinding,
    HostClaim,
    PowerletItem,
)
from .domain_challenge import TxtResolver, challenge, challenge_name, new_token, proves
from .errors import DomainClaimExpiredError, DomainNotVerifiedError, DomainTakenError
from .schema import BrandConfig, parse_brand

CLAIM_LIFETIME = timedelta(days=7)
EXPIRED = "expired"
# TTL clears a lapsed claim a day after it lapsed (reads check ``claimed_at`` themselves:
# DynamoDB deletes expired items up to days later).
CLAIM_KEPT = CLAIM_LIFETIME + timedelta(days=1)


class BrandStore:
    def __init__(self, records: BrandRecords) -> None:
        self._records = records

    def get(self, company_id: str) -> BrandConfig | None:
        raw = self._records.config(company_id)
        return None if raw is None else parse_brand(raw)

    def company_for_host(self, host: str) -> str | None:
        binding = self._records.host_binding(host)
        if binding is None or binding.status == PENDING:  # claimed, not proven: nobody's
            return None
        return str(binding.company_id)

    def company_for_slug(self, slug: str) -> str | None:
        return self._records.company_for_slug(slug)

    def save(
        self,
        company_id: str,
        config: BrandConfig,
        previous: BrandConfig | None = None,
        creates: Sequence[PowerletItem] = (),
        puts: Sequence[PowerletItem] = (),
        now: datetime | None = None,
    ) -> None:
        """Store the brand and move its bindings, all or nothing.

        ``creates`` (items that must not exist yet) and ``puts`` are written in the
        same transaction (company creation writes the company and its admin too).
        Each custom domain without this company's verification or live claim gets a new
        claim (new, or one that lapsed). Raises ``DomainTakenError`` when the slug
        belongs to another company or one of ``creates`` exists; never because of
        another company's domain (the answer must not tell which domains are claimed).
        """
        at = now or datetime.now(UTC)
        new_hosts = list(dict.fromkeys(config.custom_domains))
        old_hosts = set(previous.custom_domains) if previous else set()
        bindings = self._records.host_bindings(new_hosts)
        claims = self._records.host_claims(company_id, new_hosts)
        renewed = [
            builders.host_claim(
                host, company_id, new_token(), at, int((at + CLAIM_KEPT).timestamp())
            )
            for host in new_hosts
            if not _verified_by(bindings.get(host), company_id) and not _live(claims.get(host), at)
        ]
        try:
            self._records.save(
                company_id,
                config.model_dump(mode="json"),
                config.slug,
                previous.slug if previous is not None else None,
                claims=renewed,
                releases=sorted(old_hosts - set(new_hosts)),
                creates=creates,
                puts=puts,
                now=at,
            )
        except ConditionFailedError as exc:
            raise DomainTakenError("the slug or the company id is not available") from exc

    # --- custom domain ownership (branding/domain_challenge.py) ---

    def domains(
        self, company_id: str, hosts: Sequence[str], now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Each domain's status for this company (verified, pending with the TXT record
        to publish and until when, expired, or unclaimed): its own binding and claim only
        (two BatchGetItems of at most five items)."""
        at = now or datetime.now(UTC)
        bindings = self._records.host_bindings(hosts)
        claims = self._records.host_claims(company_id, hosts)
        out: list[dict[str, Any]] = []
        for host in hosts:
            binding, claim = bindings.get(host), claims.get(host)
            if _verified_by(binding, company_id):
                out.append({"domain": host, "status": VERIFIED})
            elif claim is not None and _live(claim, at):
                out.append(
                    {
                        "domain": host,
                        "status": PENDING,
                        "challenge": challenge(host, str(claim.challenge_token)),
                        "expires_at": (claim.claimed_at + CLAIM_LIFETIME).isoformat(),
                    }
                )
            elif claim is not None:
                out.append({"domain": host, "status": EXPIRED})
            elif binding is not None and binding.company_id == company_id:
                # claimed before claims were items: pending on the binding itself
                token = str(binding.challenge_token)
                out.append({"domain": host, "status": PENDING, "challenge": challenge(host, token)})
            else:
                out.append({"domain": host, "status": "unclaimed"})
        return out

    def verified_domains(self, company_id: str, hosts: Sequence[str]) -> list[str]:
        """The hosts, in order, whose claim by this company is verified."""
        return [d["domain"] for d in self.domains(company_id, hosts) if d["status"] == VERIFIED]

    def verify_domain(
        self, company_id: str, host: str, resolver: TxtResolver, now: datetime
    ) -> dict[str, Any]:
        """Look the challenge up; the domain becomes this company's when its TXT record
        carries the token, over another company's pending claim. NotFoundError if the
        company has not claimed it; DomainClaimExpiredError if the claim lapsed."""
        binding = self._records.host_binding(host, consistent=True)
        if _verified_by(binding, company_id):
            return {"domain": host, "status": VERIFIED}
        claim = self._records.host_claim(company_id, host)
        if claim is None:
            return self._verify_legacy(company_id, host, binding, resolver, now)
        if not _live(claim, now):
            raise DomainClaimExpiredError(
                f"the claim of {host} lapsed at {(claim.claimed_at + CLAIM_LIFETIME).isoformat()}"
                " unproven: save the brand again for a new challenge"
            )
        self._check_txt(host, str(claim.challenge_token), resolver)
        if not self._records.bind_verified(claim, now):
            # told only to a company that has just proven it controls the domain's DNS
            raise DomainTakenError(f"{host} is verified by another company: contact support")
        return {"domain": host, "status": VERIFIED}

    def _verify_legacy(
        self,
        company_id: str,
        host: str,
        binding: HostBinding | None,
        resolver: TxtResolver,
        now: datetime,
    ) -> dict[str, Any]:
        """A pending claim stored on the binding itself (before claims were items)."""
        if binding is None or binding.company_id != company_id or not binding.challenge_token:
            raise NotFoundError("the company has not claimed this domain")
        token = str(binding.challenge_token)
        self._check_txt(host, token, resolver)
        if not self._records.mark_verified(host, company_id, now, token):
            raise NotFoundError("the company has not claimed this domain")
        return {"domain": host, "status": VERIFIED}

    @staticmethod
    def _check_txt(host: str, token: str, resolver: TxtResolver) -> None:
        if not proves(resolver.txt(challenge_name(host)), token):
            raise DomainNotVerifiedError(
                f"no TXT record {challenge_name(host)} with the domain's token was found "
                "(DNS changes can take a while to show)"
            )

    def certificate_of(self, host: str) -> str | None:
        binding = self.binding_of(host)
        return None if binding is None else binding.certificate_arn

    def binding_of(self, host: str) -> HostBinding | None:
        return self._records.host_binding(host, consistent=True)

    def keep_certificate(self, company_id: str, host: str, certificate_arn: str) -> None:
        if not self._records.keep_certificate(host, company_id, certificate_arn):
            raise NotFoundError("the company has not verified this domain")

    def domain_releases(self, company_id: str) -> list[DomainRelease]:
        """Dropped domains whose certificate and custom domain are still to delete."""
        return self._records.domain_releases(company_id)

    def release_done(self, release: DomainRelease) -> None:
        self._records.drop_release(release)

    def mark_verified(self, company_id: str, host: str, now: datetime) -> None:
        """For the operator's tools and the local seed: the domain is known to be theirs."""
        claim = self._records.host_claim(company_id, host)
        if claim is not None and self._records.bind_verified(claim, now):
            return
        binding = self._records.host_binding(host, consistent=True)
        token = binding.challenge_token if binding is not None else None
        if not self._records.mark_verified(host, company_id, now, token):
            raise NotFoundError("the company has not claimed this domain")


def _verified_by(binding: HostBinding | None, company_id: str) -> bool:
    return (
        binding is not None
        and binding.company_id == company_id
        and binding.status in (VERIFIED, None)  # None: bound before challenges existed
    )


def _live(claim: HostClaim | None, now: datetime) -> bool:
    return claim is not None and now < claim.claimed_at + CLAIM_LIFETIME
