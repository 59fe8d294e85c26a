"""Custom-domain ownership: a DNS TXT challenge.

A domain a brand claims is *pending* until the company proves it controls the
domain's DNS: it publishes ``_powerlet-challenge.<domain> TXT <token>`` and
calls the verify route, which looks the record up. Only a verified domain
resolves to the brand (``branding/store.py`` ``company_for_host``).

The lookup sits behind ``TxtResolver`` so tests and local runs never touch the
network. ``DnsOverHttpsResolver`` uses the standard library only (dnspython is
not a dependency of this project): a JSON DNS-over-HTTPS query to a public
resolver, which answers from the authoritative servers like any recursive
resolver would.
"""

from __future__ import annotations

import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Protocol

from .errors import DnsLookupError

CHALLENGE_LABEL = "_powerlet-challenge"
TOKEN_BYTES = 24  # 32 URL-safe characters: unguessable, fits any DNS UI
MAX_TXT_RECORDS = 20  # a limit on what one answer may make us compare
TXT_TYPE = 16
DEFAULT_DOH_URL = "https://cloudflare-dns.com/dns-query"
DOH_TIMEOUT_S = 3.0
MAX_DOH_BYTES = 65_536


class TxtResolver(Protocol):
    def txt(self, name: str) -> list[str]:
        """The TXT strings at ``name`` ([] if none); DnsLookupError if the lookup failed."""
        ...


def challenge_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def proves(records: Sequence[str], token: str) -> bool:
    """Does one of the TXT strings equal the token (quotes and spaces aside)?"""
    wanted = token.encode()
    return any(
        hmac.compare_digest(record.strip().strip('"').strip().encode(), wanted)
        for record in records[:MAX_TXT_RECORDS]
    )


def challenge(domain: str, token: str) -> dict[str, str]:
    """What the company must publish, as the API shows it."""
    return {"name": challenge_name(domain), "type": "TXT", "value": token}


class StaticTxtResolver:
    """A fixed table of TXT records: tests and the local stack (no network)."""

    def __init__(self, records: Mapping[str, Sequence[str]] | None = None) -> None:
        self.records: dict[str, list[str]] = {k: list(v) for k, v in (records or {}).items()}

    def txt(self, name: str) -> list[str]:
        return list(self.records.get(name.lower().rstrip("."), []))


class DnsOverHttpsResolver:
    """TXT lookups over DNS-over-HTTPS (RFC 8484's JSON flavour), standard library only."""

    def __init__(self, url: str = DEFAULT_DOH_URL, timeout_s: float = DOH_TIMEOUT_S) -> None:
        if not url.startswith("https://"):
            raise ValueError("the DNS-over-HTTPS URL must be https")
        self._url = url
        self._timeout_s = timeout_s

    def txt(self, name: str) -> list[str]:
        query = urllib.parse.urlencode({"name": name, "type": "TXT"})
        request = urllib.request.Request(  # noqa: S310 - https only, checked above
            f"{self._url}?{query}", headers={"Accept": "application/dns-json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as answer:  # noqa: S310
                document = json.loads(answer.read(MAX_DOH_BYTES))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise DnsLookupError(f"the TXT lookup of {name} failed: {exc}") from exc
        status = document.get("Status")
        if status == 3:  # NXDOMAIN: no such name, so no record
            return []
        if status != 0:
            raise DnsLookupError(f"the TXT lookup of {name} failed (DNS status {status})")
        return [
            _txt_data(str(a.get("data", "")))
            for a in document.get("Answer") or []
            if a.get("type") == TXT_TYPE
        ][:MAX_TXT_RECORDS]


def _txt_data(data: str) -> str:
    """'"abc" "def"' (a TXT record split in strings) -> 'abcdef'."""
    parts = [p for p in data.split('"') if p.strip()] if '"' in data else [data]
    return "".join(parts)
