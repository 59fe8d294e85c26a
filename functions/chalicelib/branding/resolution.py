"""Which brand a request is shown in.

Order: the session's company (a signed-in user always sees their own company's
brand), then the request's Host bound to a company, then the ``/b/<slug>/``
path prefix, then the platform default. A host or slug nobody claimed gets the
platform default: nothing about another brand can be learnt from a guess.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from .schema import PLATFORM_DEFAULT, BrandConfig

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
# Slugs the platform keeps for itself: the default brand and path prefixes.
RESERVED_SLUGS = frozenset({"powerlet", "static", "b", "brand", "api", "v1", "www", "portal"})


class BrandSource(Protocol):
    def get(self, company_id: str) -> BrandConfig | None: ...

    def company_for_host(self, host: str) -> str | None: ...

    def company_for_slug(self, slug: str) -> str | None: ...


@dataclass(frozen=True)
class ResolvedBrand:
    config: BrandConfig
    company_id: str | None  # None: the platform default
    via: str  # company | host | slug | default

    @property
    def path_prefix(self) -> str:
        """Links on a slug-resolved page keep the prefix so the brand stays."""
        return f"/b/{self.config.slug}" if self.via == "slug" else ""

    @property
    def theme_version(self) -> str:
        """Changes whenever the colours change: the theme URL can be cached long."""
        raw = self.config.colours.model_dump_json().encode()
        return hashlib.sha256(raw).hexdigest()[:12]

    @property
    def logo_url(self) -> str | None:
        key = self.config.logo_key
        if key is None:
            return None
        # the key's own content hash versions the URL
        return f"/brand/{self.config.slug}/logo?v={key.rsplit('-', 1)[-1].split('.')[0]}"


DEFAULT = ResolvedBrand(PLATFORM_DEFAULT, None, "default")


def normalise_host(raw: str | None) -> str | None:
    """``Host`` header -> bare lower-case name; anything odd -> None."""
    if not raw:
        return None
    host = raw.strip().lower()
    if host.startswith("["):  # IPv6 literal: never a custom domain
        return None
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.rstrip(".")
    return host if _HOST.fullmatch(host) else None


def valid_slug(slug: str | None) -> bool:
    return bool(slug) and _SLUG.fullmatch(slug or "") is not None


def for_company(source: BrandSource, company_id: str) -> ResolvedBrand:
    config = source.get(company_id)
    return ResolvedBrand(config, company_id, "company") if config else DEFAULT


def resolve(
    source: BrandSource,
    host: str | None,
    slug: str | None = None,
    company_id: str | None = None,
) -> ResolvedBrand:
    if company_id:
        return for_company(source, company_id)
    name = normalise_host(host)
    if name:
        owner = source.company_for_host(name)
        if owner:
            config = source.get(owner)
            if config is not None:
                return ResolvedBrand(config, owner, "host")
    if slug and valid_slug(slug) and slug not in RESERVED_SLUGS:
        owner = source.company_for_slug(slug)
        if owner:
            config = source.get(owner)
            if config is not None and config.slug == slug:
                return ResolvedBrand(config, owner, "slug")
    return DEFAULT
