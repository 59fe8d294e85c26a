"""A company's brand as the rest of the product uses it: which brand a request shows
(host, ``/b/<slug>/`` or the signed-in company) and whom its e-mails and SMS come from."""

from __future__ import annotations

from dataclasses import dataclass

from ..branding.resolution import ResolvedBrand, resolve
from ..branding.schema import PLATFORM_DEFAULT
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
        """(display name, address) that e-mails of this company are sent as."""
        brand = self._store.get(company_id)
        if brand is not None:
            return brand.email_sender_name, brand.email_sender_address
        try:  # an unbranded company: its own name, the platform's address
            name = str(self._catalogue.get_company(company_id).name)
        except NotFoundError:
            name = PLATFORM_DEFAULT.email_sender_name
        return name, self._platform_sender

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
