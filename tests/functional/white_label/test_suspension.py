"""Suspending a company ends its users' access at once: open web sessions and
bearer tokens are refused on the very next request; resuming restores both."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from chalicelib.branding.schema import BrandConfig
from chalicelib.data import builders
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.portal.browser_client import Browser, text
from tests.functional.security.accounts import PASSWORD, bearer_of, new_login

from .conftest import ResellerApi, new_reseller

pytestmark = pytest.mark.functional


def _company_with_admin(standin: LocalStack, services: Container, reseller_id: str) -> str:
    """A reseller's company, branded, with an admin who has a known password."""
    assert standin.resources is not None
    company_id = f"sus-{uuid.uuid4().hex[:8]}"
    email = f"admin@{company_id}.example"
    builders.company(company_id, "Pause Homes", datetime.now(UTC), reseller_id=reseller_id).save()
    services.brand_store.save(
        company_id,
        BrandConfig(
            slug=company_id,
            display_name="Pause Homes",
            support_email="help@pause.example",
            email_sender_name="Pause Homes",
            email_sender_address="no-reply@pause.example",
            sms_sender_id="Pause",
        ),
    )
    new_login(standin, "company_admin", company_id, email=email)
    return company_id


def test_suspension_ends_sessions_and_tokens_and_resume_restores_them(
    client: Client, standin: LocalStack, services: Container
) -> None:
    reseller = ResellerApi(client, new_reseller("rs-suspend"))
    company_id = _company_with_admin(standin, services, "rs-suspend")
    email = f"admin@{company_id}.example"
    # GIVEN the admin signed in on the web and holding an API token
    browser = Browser(client)
    assert browser.sign_in(email, PASSWORD).status_code == 303
    assert browser.get("/portal").status_code == 200
    bearer = bearer_of(standin, email)
    assert client.http.get("/v1/me", headers=bearer).status_code == 200

    # WHEN the reseller suspends the company
    suspended = reseller.call("POST", f"/v1/reseller/companies/{company_id}/suspend")
    assert suspended.status_code == 200 and json.loads(suspended.body)["status"] == "suspended"

    # THEN the very next page request is refused with a clear message
    page = browser.get("/portal")
    assert page.status_code == 403
    assert "account is suspended" in text(page)
    # AND so is the bearer token on the JSON API
    refused = client.http.get("/v1/me", headers=bearer)
    assert refused.status_code == 403
    assert "suspended" in json.loads(refused.body)["detail"]
    # AND the other routes too, not only the first one tried
    assert client.http.get("/v1/properties", headers=bearer).status_code == 403

    # WHEN the reseller resumes it THEN the same session and token work again
    resumed = reseller.call("POST", f"/v1/reseller/companies/{company_id}/resume")
    assert resumed.status_code == 200
    assert browser.get("/portal").status_code == 200
    assert client.http.get("/v1/me", headers=bearer).status_code == 200


def test_a_page_request_costs_no_extra_round_trip_for_the_status(
    client: Client, standin: LocalStack, services: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The company's status rides in the membership read (one BatchGetItem)."""
    from collections import Counter
    from typing import Any

    import botocore.client

    company_id = _company_with_admin(standin, services, "rs-suspend-cost")
    browser = Browser(client)
    assert browser.sign_in(f"admin@{company_id}.example", PASSWORD).status_code == 303
    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    # a signed-in POST without its CSRF token: the session check runs, nothing else
    refused = browser.post("/signout", {}, csrf=None)
    assert refused.status_code == 403
    # session; membership + company in one batch; the brand of the error page
    assert calls == Counter({"GetItem": 2, "BatchGetItem": 1})
