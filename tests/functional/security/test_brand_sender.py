"""A brand's e-mails come from its own address only on a domain the company proved it
owns (issue 16: "a reseller can set a company's email_sender_address to another brand's
verified address and display name")."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from app import app
from chalicelib.branding.schema import BrandConfig
from chalicelib.data import builders
from chalicelib.wiring.container import Container, container
from tests.functional.white_label.conftest import DNS, ResellerApi, new_reseller, publish_and_verify
from tests.functional.white_label.test_reseller_api import company_body

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def reseller_api(services: Container) -> Iterator[ResellerApi]:
    services.dns_resolver = DNS  # the domain challenge is looked up here, not on the network
    with Client(app) as client:
        yield ResellerApi(client, new_reseller("rs-sender"))


def _company(services: Container, sender: str, domains: tuple[str, ...] = ()) -> str:
    company_id = f"snd-{uuid.uuid4().hex[:8]}"
    builders.company(company_id, "Sender Homes", datetime.now(UTC)).save()
    services.brand_store.save(
        company_id,
        BrandConfig(
            slug=company_id,
            display_name="Sender Homes",
            support_email="help@sender.example",
            email_sender_name="Sender Homes",
            email_sender_address=sender,
            sms_sender_id="Sender",
            custom_domains=domains,
        ),
    )
    return company_id


def test_another_brands_verified_address_is_never_used(services: Container) -> None:
    # GIVEN Formosa sends as no-reply@formosa-homes.example (its portal domain is verified)
    assert services.brands.sender_for("formosa")[1] == "no-reply@formosa-homes.example"
    # WHEN a reseller gives another company Formosa's address
    squatter = _company(services, "no-reply@formosa-homes.example")
    # THEN that company's mail carries its own name on the platform's address
    assert services.brands.sender_for(squatter) == (
        "Sender Homes",
        services.settings.sender_email,
    )


def test_the_brands_own_address_needs_a_verified_domain(services: Container) -> None:
    host = f"portal.{uuid.uuid4().hex[:8]}.example"
    sender = "no-reply@" + host.split(".", 1)[1]
    company_id = _company(services, sender, (host,))
    # a claimed domain is not yet proof
    assert services.brands.sender_for(company_id)[1] == services.settings.sender_email
    # once the DNS challenge is met, the brand's own address is used
    services.brand_store.mark_verified(company_id, host, datetime.now(UTC))
    assert services.brands.sender_for(company_id) == ("Sender Homes", sender)


def test_a_sender_on_an_unproven_domain_is_shown_pending_never_silently_accepted(
    reseller_api: ResellerApi,
) -> None:
    """The brand answers say which sender is used and why (it was stored silently)."""
    co = f"snd-{uuid.uuid4().hex[:6]}"
    domain = f"portal.{co}.example"
    body = company_body(co, [domain])
    body["brand"]["email_sender_address"] = f"no-reply@{co}.example"
    # WHEN a reseller onboards a company whose sender is on its not yet verified domain
    created = json.loads(reseller_api.call("POST", "/v1/reseller/companies", body, co).body)
    # THEN the answer says the address is pending, why, and what mail goes out as meanwhile
    assert created["sender"]["status"] == "pending"
    assert f"{co}.example is not proven" in created["sender"]["detail"]
    # AND a rebrand onto another brand's verified address is shown pending too
    squat = body["brand"] | {"email_sender_address": "no-reply@formosa-homes.example"}
    path = f"/v1/reseller/companies/{co}/brand"
    updated = json.loads(reseller_api.call("PUT", path, squat).body)
    assert updated["sender"] == {
        "address": "no-reply@formosa-homes.example",
        "status": "pending",
        "detail": updated["sender"]["detail"],
    }
    assert "formosa-homes.example is not proven" in updated["sender"]["detail"]
    # WHEN its own address is restored and its portal domain (under the sender's) is verified
    reseller_api.call("PUT", path, body["brand"])
    publish_and_verify(reseller_api, co)
    # THEN the address is in use, and the mail really goes out from it
    company = json.loads(reseller_api.call("GET", f"/v1/reseller/companies/{co}").body)
    assert company["sender"]["status"] == "in_use"
    assert container().brands.sender_for(co)[1] == f"no-reply@{co}.example"
