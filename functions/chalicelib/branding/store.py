"""A company's brand as the product uses it: the validated config, the ``/b/<slug>/``
prefix and the custom domains with their DNS ownership proof.

Persistence is the data layer's (``data/brand_records.py``); this module decides what
a stored brand means: a config is parsed and validated on the way in and out, a newly
claimed domain is *pending* (with a DNS challenge token) and resolves to nobody until
``verify_domain`` finds the token in its ``_powerlet-challenge`` TXT record; a domain
the brand keeps keeps its binding (and its verification).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..data.brand_records import BrandRecords
from ..data.errors import ConditionFailedError, NotFoundError
from ..data.models import PENDING, VERIFIED, PowerletItem
from .domain_challenge import TxtResolver, challenge, challenge_name, new_token, proves
from .errors import DomainNotVerifiedError, DomainTakenError
from .schema import BrandConfig, parse_brand


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
    ) -> None:
        """Store the brand and move its bindings, all or nothing.

        ``creates`` (items that must not exist yet) and ``puts`` are written in the
        same transaction (company creation writes the company and its admin too).
        Raises ``DomainTakenError`` when a domain or slug belongs to another
        company, or when one of ``creates`` exists.
        """
        new_hosts = set(config.custom_domains)
        old_hosts = set(previous.custom_domains) if previous else set()
        try:
            self._records.save(
                company_id,
                config.model_dump(mode="json"),
                config.slug,
                previous.slug if previous is not None else None,
                claims=[(h, PENDING, new_token()) for h in sorted(new_hosts - old_hosts)],
                releases=sorted(old_hosts - new_hosts),
                creates=creates,
                puts=puts,
            )
        except ConditionFailedError as exc:
            raise DomainTakenError(
                "a custom domain, the slug or the company is already taken"
            ) from exc

    # --- custom domain ownership (branding/domain_challenge.py) ---

    def domains(self, company_id: str, hosts: Sequence[str]) -> list[dict[str, Any]]:
        """Each claimed domain's status, and the TXT record a pending one needs
        (one BatchGetItem of at most five bindings)."""
        found = self._records.host_bindings(hosts)
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
        binding = self._records.host_binding(host, consistent=True)
        if binding is None or binding.company_id != company_id:
            raise NotFoundError("the company has not claimed this domain")
        if binding.status != PENDING:
            return {"domain": host, "status": VERIFIED}
        token = str(binding.challenge_token)
        if not proves(resolver.txt(challenge_name(host)), token):
            raise DomainNotVerifiedError(
                f"no TXT record {challenge_name(host)} with the domain's token was found "
                "(DNS changes can take a while to show)"
            )
        if not self._records.mark_verified(host, company_id, now, token):
            raise NotFoundError("the company has not claimed this domain")
        return {"domain": host, "status": VERIFIED}

    def mark_verified(self, company_id: str, host: str, now: datetime) -> None:
        """For the operator's tools and the local seed: the domain is known to be theirs."""
        binding = self._records.host_binding(host, consistent=True)
        token = binding.challenge_token if binding is not None else None
        if not self._records.mark_verified(host, company_id, now, token):
            raise NotFoundError("the company has not claimed this domain")
