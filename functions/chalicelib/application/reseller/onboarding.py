"""Companies a reseller brings on board: create (with brand and first admin),
rebrand, logo, list, suspend and resume, usage.

Every call takes the reseller id from the verified API key first; a company of
another reseller is "not found", exactly like a company that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ...auth.invitations import USERNAME_EXISTS, invite_login
from ...branding.domain_challenge import TxtResolver
from ...branding.errors import InvalidBrandError
from ...branding.logos import LogoStore
from ...branding.resolution import RESERVED_SLUGS, normalise_host
from ...branding.schema import BrandConfig
from ...branding.senders import sender_view
from ...branding.store import BrandStore
from ...data import builders
from ...data.catalogue import Catalogue
from ...data.errors import NotFoundError
from ...data.models import Company
from ...data.paging import encode_cursor
from ...data.usage_store import UsageCounters
from ...observability import logger
from ..custom_domains import ApiStage, CustomDomains
from .errors import (
    AdminExistsError,
    CompanyExistsError,
    CompanySuspendedError,
    InvalidUsageMonthError,
)
from .paging import decode_cursor
from .requests import CreateCompanyRequest

MAX_COMPANIES_LISTED = 200  # one page at most
DEFAULT_COMPANIES_LISTED = 50
ADMIN_ROLE = "company_admin"
USAGE_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def company_view(company: Company) -> dict[str, Any]:
    return {
        "company_id": company.company_id,
        "name": company.name,
        "status": company.status,
        "created_at": company.created_at.isoformat() if company.created_at else None,
    }


@dataclass(frozen=True)
class Onboarding:
    _catalogue: Catalogue
    _brands: BrandStore
    _logos: LogoStore
    _usage: UsageCounters
    _cognito: Any
    _pool: str | None
    _domains: CustomDomains

    # --- scope ---

    def owned_company(self, reseller_id: str, company_id: str) -> Company:
        company = self._catalogue.get_company(company_id)
        if company.reseller_id != reseller_id:
            raise NotFoundError("company not found")
        return company

    def brand_of(self, company_id: str) -> BrandConfig:
        """The company's brand (its currency and time zone are the new property's)."""
        brand = self._brands.get(company_id)
        if brand is None:
            raise NotFoundError("the company has no brand")
        return brand

    def active_company(self, reseller_id: str, company_id: str) -> Company:
        return still_active(self.owned_company(reseller_id, company_id))

    # --- companies ---

    def create_company(
        self, reseller_id: str, req: CreateCompanyRequest, now: datetime
    ) -> dict[str, Any]:
        _check_slug(req.brand)
        try:
            self._catalogue.get_company(req.company_id)
        except NotFoundError:
            pass
        else:
            raise CompanyExistsError("the company id is taken")
        brand = req.brand.model_copy(update={"logo_key": None})  # logos arrive by upload only
        user_sub = self._invite_admin(req.company_id, req.admin.email)
        company = builders.company(
            req.company_id,
            req.name,
            now,
            reseller_id=reseller_id,
            low_credit_thresholds_minor=list(req.low_credit_thresholds_minor) or None,
        )
        admin = builders.membership(
            req.company_id,
            user_sub,
            req.admin.email,
            ADMIN_ROLE,
            **({"display_name": req.admin.display_name} if req.admin.display_name else {}),
        )
        try:
            self._brands.save(
                req.company_id,
                brand,
                creates=[company],
                puts=[admin],
            )
        except Exception:
            # the company was never written: the invitation must not survive it
            self._withdraw_invitation(req.admin.email)
            raise
        domains = self._brands.domains(req.company_id, brand.custom_domains)
        return {
            **company_view(company),
            "brand": brand.model_dump(mode="json"),
            "domains": domains,
            "sender": sender_view(brand, domains),
            "admin": {"email": req.admin.email, "user_sub": user_sub, "invited": True},
            "sign_in_urls": sign_in_urls(brand, domains),
        }

    def _invite_admin(self, company_id: str, email: str) -> str:
        """Cognito sends the invitation (temporary password) to the admin."""
        try:
            return invite_login(self._cognito, self._pool, email, company_id, ADMIN_ROLE)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == USERNAME_EXISTS:
                raise AdminExistsError("a user with this e-mail already exists") from exc
            raise

    def _withdraw_invitation(self, email: str) -> None:
        try:
            self._cognito.admin_delete_user(UserPoolId=self._pool, Username=email)
        except ClientError:
            # keep the original failure visible; an orphan user has no membership anyway
            logger.exception("could not withdraw the invitation of %s", email)

    def list_companies(
        self,
        reseller_id: str,
        limit: int = DEFAULT_COMPANIES_LISTED,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of the reseller's companies, and the cursor of the next (or None)."""
        start = decode_cursor(cursor, reseller_id) if cursor else None
        found, last = self._catalogue.companies_of_reseller(
            reseller_id, start, min(limit, MAX_COMPANIES_LISTED)
        )
        companies = [company_view(c) for c in found]
        return {"companies": companies, "next_cursor": encode_cursor(last) if last else None}

    def get_company(self, reseller_id: str, company_id: str) -> dict[str, Any]:
        company = self.owned_company(reseller_id, company_id)
        brand = self._brands.get(company_id)
        domains = self._brands.domains(company_id, brand.custom_domains) if brand else []
        return {
            **company_view(company),
            "brand": brand.model_dump(mode="json") if brand else None,
            "domains": domains,
            "sender": sender_view(brand, domains) if brand else None,
            "sign_in_urls": sign_in_urls(brand, domains) if brand else [],
        }

    def set_status(self, reseller_id: str, company_id: str, status: str) -> dict[str, Any]:
        self.owned_company(reseller_id, company_id)
        self._catalogue.set_company_status(company_id, reseller_id, status)
        return company_view(self._catalogue.get_company(company_id))

    # --- brand ---

    def update_brand(
        self, reseller_id: str, company_id: str, config: BrandConfig
    ) -> dict[str, Any]:
        self.active_company(reseller_id, company_id)
        _check_slug(config)
        previous = self._brands.get(company_id)
        keep_logo = previous.logo_key if previous and previous.slug == config.slug else None
        config = config.model_copy(update={"logo_key": keep_logo})
        self._brands.save(company_id, config, previous)
        domains = self._brands.domains(company_id, config.custom_domains)
        return {
            "company_id": company_id,
            "brand": config.model_dump(mode="json"),
            "domains": domains,
            "released_domains": self._release_dropped_domains(company_id),
            "sender": sender_view(config, domains),
        }

    def _release_dropped_domains(self, company_id: str) -> list[dict[str, Any]]:
        """Delete what served each domain the brand dropped (this save's and any earlier
        cleanup that stopped half-way): committed first, then acted on, and a failure is
        reported and left recorded for the next save, not raised."""
        out: list[dict[str, Any]] = []
        for release in self._brands.domain_releases(company_id):
            host, certificate_arn = str(release.host), str(release.certificate_arn)
            # Claimed again and verified meanwhile: ACM's idempotency token answers the
            # same certificate within the hour, and a bound certificate is in use.
            if self._brands.certificate_of(host) != certificate_arn:
                try:
                    self._domains.release(host, certificate_arn)
                except ClientError as exc:
                    error = exc.response["Error"]
                    logger.warning("releasing %s stopped: %s", host, error.get("Code"))
                    detail = f"{error.get('Code')}: {error.get('Message', '')}"
                    out.append({"domain": host, "status": "pending", "detail": detail})
                    continue
            self._brands.release_done(release)
            out.append({"domain": host, "status": "released"})
        return out

    def verify_domain(
        self,
        reseller_id: str,
        company_id: str,
        domain: str,
        resolver: TxtResolver,
        now: datetime,
        api: ApiStage | None = None,
    ) -> dict[str, Any]:
        """Check the domain's DNS challenge; a verified domain starts resolving to the
        brand, and each call after that advances serving it (certificate, custom domain:
        ``application/custom_domains.py``)."""
        self.active_company(reseller_id, company_id)
        host = normalise_host(domain)
        brand = self._brands.get(company_id)
        if host is None or brand is None or host not in brand.custom_domains:
            raise NotFoundError("the brand has no such domain")
        verified = self._brands.verify_domain(company_id, host, resolver, now)
        binding = self._brands.binding_of(host)
        certificate_arn = binding.certificate_arn if binding is not None else None
        if certificate_arn is None:
            verification = f"{company_id} {binding.verified_at if binding else None}"
            certificate_arn = self._domains.request_certificate(host, verification)
            self._brands.keep_certificate(company_id, host, certificate_arn)
        return {
            "company_id": company_id,
            **verified,
            **self._domains.progress(host, certificate_arn, api),
        }

    def upload_logo(self, reseller_id: str, company_id: str, data: bytes) -> dict[str, Any]:
        self.active_company(reseller_id, company_id)
        previous = self._brands.get(company_id)
        if previous is None:
            raise NotFoundError("the company has no brand")
        logo = self._logos.put(previous.slug, data)
        config = previous.model_copy(update={"logo_key": logo.key})
        self._brands.save(company_id, config, previous)
        return {
            "company_id": company_id,
            "logo_key": logo.key,
            "content_type": logo.content_type,
            "bytes": len(logo.body),
        }

    # --- usage ---

    def usage(self, reseller_id: str, company_id: str, month: str) -> dict[str, object]:
        self.owned_company(reseller_id, company_id)
        if not USAGE_MONTH.fullmatch(month):
            raise InvalidUsageMonthError(f"month {month!r} is not YYYY-MM (e.g. 2026-03)")
        return self._usage.report(company_id, month).as_dict()


def still_active(company: Company) -> Company:
    """A change to a company needs it active (a suspended one answers 409)."""
    if company.status != "active":
        raise CompanySuspendedError("the company is suspended")
    return company


def _check_slug(config: BrandConfig) -> None:
    if config.slug in RESERVED_SLUGS:
        raise InvalidBrandError(f"slug {config.slug!r} is reserved")


def sign_in_urls(config: BrandConfig, domains: list[dict[str, Any]]) -> list[str]:
    """Verified domains only: a pending one does not show the brand yet."""
    verified = {d["domain"] for d in domains if d["status"] == "verified"}
    urls = [f"https://{domain}/signin" for domain in config.custom_domains if domain in verified]
    return [*urls, f"/b/{config.slug}/signin"]
