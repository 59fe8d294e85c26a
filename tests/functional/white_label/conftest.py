"""Brand and reseller tests drive the real app through chalice's test client
against the AWS stand-in, with the demo portfolio (two branded companies)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.branding.domain_challenge import StaticTxtResolver
from chalicelib.data import builders
from chalicelib.data.reseller_store import ApiKeyStore
from chalicelib.wiring.container import Container
from tests.functional.portal.browser_client import Browser


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    # custom-domain challenges are looked up here, never on the network
    services.dns_resolver = DNS
    with Client(app) as c:
        yield c


DNS = StaticTxtResolver()


def publish_and_verify(api: ResellerApi, company_id: str) -> list[dict[str, Any]]:
    """Play the company's DNS admin: publish every pending domain's TXT record, verify it."""
    import json

    answer = json.loads(api.call("GET", f"/v1/reseller/companies/{company_id}").body)
    for domain in answer["domains"]:
        if domain["status"] == "pending":
            DNS.records[domain["challenge"]["name"]] = [domain["challenge"]["value"]]
            path = f"/v1/reseller/companies/{company_id}/brand/domains/{domain['domain']}/verify"
            verified = api.call("POST", path)
            assert verified.status_code == 200, verified.body
    return list(json.loads(api.call("GET", f"/v1/reseller/companies/{company_id}").body)["domains"])


@dataclass
class HostBrowser(Browser):
    """A browser that always sends one Host header (a custom domain)."""

    host: str = ""

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = super()._headers(extra)
        if self.host:
            headers["Host"] = self.host
        return headers


def browser_on(client: Client, host: str) -> HostBrowser:
    return HostBrowser(client, host=host)


@dataclass
class ResellerApi:
    """The reseller API as a client program sees it: one key, JSON in and out."""

    client: Client
    key: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        idempotency_key: str | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        import json

        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": content_type}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        payload: Any = raw if raw is not None else (None if body is None else json.dumps(body))
        return self.client.http.request(method, path, headers=headers, body=payload)


def new_reseller(reseller_id: str) -> str:
    builders.reseller(reseller_id, reseller_id.title()).save()
    return ApiKeyStore().issue(reseller_id, datetime.now(UTC)).secret


ONBOARDING_RESELLER = "rs-onboard"


@pytest.fixture(scope="module")
def reseller_api(client: Client, services: Container) -> ResellerApi:
    return ResellerApi(client, new_reseller(ONBOARDING_RESELLER))
