"""Cognito's own e-mails (the admin invitation, a forgotten password) in the
user's company's brand: the user pool's Custom Message trigger.

One user pool serves every brand, so the pool's message templates cannot carry
a brand. This trigger reads the user's ``custom:company_id``, finds the brand
and writes subject and body. Brand values are escaped into fixed text; the
code and user name placeholders Cognito requires are kept. The sending address
is the pool's (Cognito does not take a per-message sender).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from ..auth.attributes import COMPANY_ATTRIBUTE, ROLE_ATTRIBUTE
from ..branding.schema import PLATFORM_DEFAULT, BrandConfig

_SUBJECTS = {
    "CustomMessage_AdminCreateUser": "Your {name} account",
    "CustomMessage_ForgotPassword": "Your {name} password reset code",
}


# Which of a company's claimed domains have passed the DNS ownership check.
VerifiedDomains = Callable[[str, Sequence[str]], Sequence[str]]


def sign_in_url(role: str | None, domains: Sequence[str]) -> str | None:
    if not domains:
        return None
    screen = "/tenant/signin" if role == "tenant" else "/signin"
    return f"https://{domains[0]}{screen}"


def custom_message(
    event: dict[str, Any],
    brand_of: Callable[[str], BrandConfig | None],
    verified: VerifiedDomains | None = None,
) -> dict[str, Any]:
    """Fill ``event["response"]`` for the triggers we brand; others pass through.

    The sign-in link names the first *verified* custom domain (``verified``): a
    pending claim routes nowhere yet. Without ``verified`` every claim counts."""
    source = event.get("triggerSource")
    if source not in _SUBJECTS:
        return event
    request = event.get("request") or {}
    attributes = request.get("userAttributes") or {}
    company_id = attributes.get(COMPANY_ATTRIBUTE)
    brand = (brand_of(company_id) if company_id else None) or PLATFORM_DEFAULT
    name = html.escape(brand.display_name)
    code = request.get("codeParameter") or "{####}"
    hosts = brand.custom_domains
    domains = verified(company_id, hosts) if verified and company_id and hosts else hosts
    url = sign_in_url(attributes.get(ROLE_ATTRIBUTE), domains)
    link = f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>' if url else ""
    if source == "CustomMessage_AdminCreateUser":
        user = request.get("usernameParameter") or "{username}"
        body = (
            f"<p>{name} has created an account for you.</p>"
            f"<p>User name: {user}<br>Temporary password: {code}</p>"
            f"{link}<p>You will choose your own password when you first sign in.</p>"
        )
    else:
        body = f"<p>Your {name} password reset code is {code}.</p>{link}"
    footer = html.escape(brand.legal_footer)
    support = html.escape(brand.support_email)
    body += f"<hr><p>{footer}<br>{support}</p>"
    response = dict(event.get("response") or {})
    response["emailSubject"] = _SUBJECTS[source].format(name=brand.display_name)
    response["emailMessage"] = body
    return {**event, "response": response}
