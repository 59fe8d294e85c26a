"""A company's brand as the rest of the product uses it: which brand a request shows
(host, ``/b/<slug>/`` or the signed-in company) and whom its e-mails and SMS come from."""

from __future__ import annotations

from dataclasses import dataclass

from ..branding.resolution import ResolvedBrand, resolve
from ..branding.schema import PLATFORM_DEFAULT, BrandConfig
from ..branding.senders import proves_sender
from ..branding.store import BrandStore
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..pipeline.alerts import BrandReach


@dataclass(frozen=True)
class Brands:
    _store: BrandStore
    _catalogue: Catalogue
    _platform_sender: str

    def for_request(
        self, host: str | None, slug: str | None = None, company_id: str | None = None
    ) -> ResolvedBrand:
        return resolve(self._store, host, slug, company_id)

    def sender_for(self, company_id: str) -> tuple[str, str]:
        """(display name, address) that e-mails of this company are sent as.

        The brand's own address only on a domain the company proved it owns (one of its
        verified custom domains, or a parent of one): anyone may type an address, so a
        reseller could otherwise send as another brand (issue 16). Until then the
        brand's name goes with the platform's address."""
        brand = self._store.get(company_id)
        if brand is not None:
            if self._owns_sender_domain(company_id, brand):
                return brand.email_sender_name, brand.email_sender_address
            return brand.email_sender_name, self._platform_sender
        try:  # an unbranded company: its own name, the platform's address
            name = str(self._catalogue.get_company(company_id).name)
        except NotFoundError:
            name = PLATFORM_DEFAULT.email_sender_name
        return name, self._platform_sender

    def _owns_sender_domain(self, company_id: str, brand: BrandConfig) -> bool:
        """One GetItem per custom domain under the sender's domain (usually one), so
        every function that sends mail keeps its read grants."""
        address = brand.email_sender_address
        candidates = [h for h in brand.custom_domains if proves_sender(h, address)]
        return any(self._store.company_for_host(host) == company_id for host in candidates)

    def reach_for(self, company_id: str) -> BrandReach:
        """The brand's language (a reader's own comes first) and its portal on the first
        verified custom domain: a pending claim routes nowhere yet, so links wait for it."""
        brand = self._store.get(company_id)
        if brand is None:
            return BrandReach()
        hosts = brand.custom_domains
        verified = self._store.verified_domains(company_id, hosts) if hosts else []
        return BrandReach(brand.default_locale, f"https://{verified[0]}" if verified else None)

    def sms_sender_for(self, company_id: str) -> str | None:
        """The brand's alphanumeric SMS sender id; None for an unbranded company."""
        brand = self._store.get(company_id)
        return brand.sms_sender_id if brand is not None else None
