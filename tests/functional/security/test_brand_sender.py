"""A brand's e-mails come from its own address only on a domain the company proved it
owns (issue 16: "a reseller can set a company's email_sender_address to another brand's
verified address and display name")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.branding.schema import BrandConfig
from chalicelib.data import builders
from chalicelib.wiring.container import Container

pytestmark = pytest.mark.functional


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
