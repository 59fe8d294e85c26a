"""Fleet provisioning cannot be hijacked: the pre-provisioning hook admits a claim only for
a gateway registered (for fleet provisioning) in the company the claim names, not yet
provisioned, holding that gateway's one-time token; and thing names cannot collide."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.data.catalogue import Catalogue
from chalicelib.pipeline.senders import owner_of_thing, thing_name_for
from chalicelib.wiring.container import Container

from .conftest import ResellerApi
from .test_reseller_api import company_body, gateway_body

pytestmark = pytest.mark.functional

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
CERT_A, CERT_B = "a" * 64, "b" * 64


def _register(api: ResellerApi, company: str, gateway: str, key: str) -> dict[str, Any]:
    body = gateway_body(gateway) | {"provisioning": "fleet"}
    response = api.call("POST", f"/v1/reseller/companies/{company}/gateways", body, key)
    assert response.status_code == 201, response.body
    return dict(json.loads(response.body))


def _claim(parameters: dict[str, str], certificate_id: str = CERT_A) -> dict[str, Any]:
    """The pre-provisioning hook event AWS IoT sends (payload version 2020-04-01)."""
    return {
        "claimCertificateId": "c" * 64,
        "certificateId": certificate_id,
        "certificatePem": "-----BEGIN CERTIFICATE-----\n...",
        "templateArn": "arn:aws:iot:ap-northeast-1:123456789012:provisioningtemplate/x",
        "clientId": "provision-0001",
        "parameters": parameters,
    }


@pytest.fixture(scope="module")
def fleet(reseller_api: ResellerApi) -> dict[str, dict[str, Any]]:
    """Two companies, each with a gateway registered for fleet provisioning."""
    out = {}
    for company in ("fleet-north", "fleet-south"):
        created = reseller_api.call(
            "POST", "/v1/reseller/companies", company_body(company), f"create-{company}"
        )
        assert created.status_code == 201, created.body
        out[company] = _register(reseller_api, company, "gw-1", f"gw-{company}")
    return out


def test_registration_for_fleet_provisioning_issues_a_one_time_token(
    fleet: dict[str, dict[str, Any]],
) -> None:
    answer = fleet["fleet-north"]
    parameters = answer["provisioning"]["parameters"]
    assert answer["thing_name"] == thing_name_for("fleet-north", "gw-1")
    assert parameters["CompanyId"] == "fleet-north" and parameters["GatewayId"] == "gw-1"
    assert len(parameters["ProvisioningToken"]) >= 32
    # no certificate or key in the answer, and the table keeps only the token's hash
    assert "private_key" not in answer and "certificate_pem" not in answer
    gateway = Catalogue().get_gateway("fleet-north", "gw-1")
    assert gateway.provisioning_token_sha256 not in (None, parameters["ProvisioningToken"])
    assert gateway.provisioned_at is None


def test_claims_for_unregistered_foreign_or_wrongly_tokened_gateways_are_refused(
    fleet: dict[str, dict[str, Any]], services: Container
) -> None:
    hook = services.provisioning_hook
    north = fleet["fleet-north"]["provisioning"]["parameters"]
    south = fleet["fleet-south"]["provisioning"]["parameters"]
    refused = [
        # a gateway nobody registered
        {**north, "GatewayId": "gw-unknown"},
        # another company's gateway, with this company's token
        {**north, "CompanyId": "fleet-south"},
        # this company's gateway with the other company's token
        {**north, "ProvisioningToken": south["ProvisioningToken"]},
        # malformed: no token, an id with the separator, a thing name smuggled in
        {k: v for k, v in north.items() if k != "ProvisioningToken"},
        {**north, "GatewayId": "gw_1"},
    ]
    for parameters in refused:
        assert hook.handle(_claim(parameters), NOW) == {"allowProvisioning": False}, parameters
    # nothing was marked provisioned by the refused claims
    for company in ("fleet-north", "fleet-south"):
        assert Catalogue().get_gateway(company, "gw-1").provisioned_at is None


def test_a_claim_is_admitted_once_and_the_record_written(
    fleet: dict[str, dict[str, Any]], services: Container
) -> None:
    hook = services.provisioning_hook
    parameters = fleet["fleet-south"]["provisioning"]["parameters"]
    # WHEN the device of fleet-south/gw-1 claims with its token
    assert hook.handle(_claim(parameters, CERT_A), NOW) == {"allowProvisioning": True}
    # THEN the gateway is provisioned with that certificate, the token spent
    gateway = Catalogue().get_gateway("fleet-south", "gw-1")
    assert gateway.provisioned_at == NOW and gateway.certificate_id == CERT_A
    assert gateway.provisioning_token_sha256 is None
    # AND the same claim again (a copied image, a replay) is refused: already provisioned
    assert hook.handle(_claim(parameters, CERT_B), NOW) == {"allowProvisioning": False}
    assert Catalogue().get_gateway("fleet-south", "gw-1").certificate_id == CERT_A


def test_a_thing_of_another_owner_blocks_registration(reseller_api: ResellerApi) -> None:
    # GIVEN an IoT thing already named as company fleet-east's gateway gw-9, owned by no one
    created = reseller_api.call(
        "POST", "/v1/reseller/companies", company_body("fleet-east"), "create-fleet-east"
    )
    assert created.status_code == 201, created.body
    boto3.client("iot").create_thing(
        thingName=thing_name_for("fleet-east", "gw-9"),
        attributePayload={"attributes": {"company_id": "someone", "gateway_id": "else"}},
    )
    # WHEN the reseller registers that gateway THEN the registry check refuses it
    response = reseller_api.call(
        "POST", "/v1/reseller/companies/fleet-east/gateways", gateway_body("gw-9"), "gw-east-9"
    )
    assert response.status_code == 409, response.body


IDS = st.from_regex(r"[a-z0-9][a-z0-9-]{1,10}[a-z0-9]", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(a=st.tuples(IDS, IDS), b=st.tuples(IDS, IDS))
def test_thing_names_cannot_collide(a: tuple[str, str], b: tuple[str, str]) -> None:
    # any two distinct (company, gateway) pairs get distinct names, and a name gives its pair
    if a != b:
        assert thing_name_for(*a) != thing_name_for(*b)
    assert owner_of_thing(thing_name_for(*a)) == a
    # the old "-" join collided: company "a-b" + gateway "c" and company "a" + gateway "b-c"
    assert thing_name_for("ab-cd", "ef") != thing_name_for("ab", "cd-ef")
