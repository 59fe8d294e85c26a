"""Whom a brand's e-mails come from, and why (issue 16: "brand sender spoofing").

Anyone may type an address, so a brand's own ``email_sender_address`` is used only on
a domain the company proved it owns: one of its verified custom domains, or a parent
of one (``portal.acme.example`` proves ``no-reply@acme.example``). Until then the
address is *pending*: stored, never used (mail goes under the brand's name from the
platform's address), and every brand answer of the reseller API says so and why, so
it is never accepted silently. Not refused: at onboarding no domain can be verified
yet, and the address becomes usable on its own the moment the domain is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..data.models import VERIFIED
from .schema import BrandConfig

IN_USE = "in_use"
PENDING = "pending"


def sender_domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def proves_sender(host: str, address: str) -> bool:
    """A verified ``host`` proves the sender's domain when it is that domain or under it."""
    domain = sender_domain(address)
    return host == domain or host.endswith("." + domain)


def sender_view(brand: BrandConfig, domains: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The sender's status from the brand's domain statuses (``BrandStore.domains``), so
    the answer costs no extra read."""
    address = brand.email_sender_address
    verified = [d["domain"] for d in domains if d.get("status") == VERIFIED]
    if any(proves_sender(host, address) for host in verified):
        return {"address": address, "status": IN_USE, "detail": "mail is sent from this address"}
    domain = sender_domain(address)
    return {
        "address": address,
        "status": PENDING,
        "detail": (
            f"not used yet: {domain} is not proven to be this brand's (verify {domain}, or a "
            f"custom domain under it, in custom_domains); until then mail goes under "
            f"{brand.email_sender_name!r} from the platform's address"
        ),
    }
