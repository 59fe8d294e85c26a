"""E-mail as an identity (issue 16, "e-mail squatting"): a user cannot change their own
address, the app trusts ``email`` only when Cognito says it is verified, and a move-in
never hands a tenancy to an existing login without staff confirming the person."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from app import app
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.portal.api_client import access_token, bearer, post_json
from tests.functional.portal.houses import vacant_rooms

from .accounts import PASSWORD, bearer_of, new_login

pytestmark = pytest.mark.functional

CO = "formosa"


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


@pytest.fixture(scope="module")
def vacant_units(services: Container) -> list[str]:
    """Vacant metered units of a building made for this module."""
    units = [f"em-{n}-{secrets.token_hex(3)}" for n in range(3)]
    items = vacant_rooms(
        CO,
        "zz-email",
        "gw-zz-email",
        units,
        name="E-mail test house",
        address="2 Test Road",
        opening_kwh="100.000",
    )
    services.catalogue.save_all(items)
    return units


def _move_in(client: Client, unit: str, email: str, **extra: Any) -> Any:
    body = {
        "idempotency_key": secrets.token_urlsafe(18),
        "starts_on": datetime.now(ZoneInfo("Asia/Taipei")).date().isoformat(),
        "tenant_email": email,
        "tenant_name": "New Tenant",
        **extra,
    }
    return post_json(client, f"/v1/units/{unit}/move-in", _admin(), body)


_ADMIN: dict[str, str] = {}


def _admin() -> dict[str, str]:
    return _ADMIN


@pytest.fixture(scope="module", autouse=True)
def admin_token(standin: LocalStack, services: Container) -> None:
    _ADMIN.update(bearer(standin, "admin@formosa.example"))


def test_a_user_cannot_change_their_own_email(standin: LocalStack) -> None:
    # GIVEN a tenant signed in to Cognito with the public app client
    squatter = new_login(standin, "tenant")
    token = access_token(standin, squatter, PASSWORD)
    # WHEN they try to take a future tenant's address
    with pytest.raises(ClientError) as refused:
        boto3.client("cognito-idp").update_user_attributes(
            AccessToken=token,
            UserAttributes=[{"Name": "email", "Value": "future.tenant@formosa.example"}],
        )
    # THEN the pool refuses, as Cognito does for an attribute the client may not write
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_an_existing_login_is_never_linked_without_staff_confirmation(
    client: Client, standin: LocalStack, vacant_units: list[str]
) -> None:
    # GIVEN an address that already has a tenant login of this company
    existing = new_login(standin, "tenant")
    # WHEN staff move a "new" tenant in with that address
    refused = _move_in(client, vacant_units[0], existing)
    # THEN it is refused with a clear reason, and nothing was created
    assert refused.status_code == 409, refused.body
    assert "confirm it is the same person" in json.loads(refused.body)["detail"]
    # AND once staff confirm it is the same person, the login is linked
    linked = _move_in(client, vacant_units[0], existing, link_existing_login=True)
    assert linked.status_code == 201, linked.body
    assert json.loads(linked.body)["tenant"]["invited"] is False


def test_a_login_with_an_unverified_address_is_never_matched(
    client: Client, standin: LocalStack, vacant_units: list[str]
) -> None:
    assert standin.resources is not None
    email = new_login(standin, "tenant")
    boto3.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=standin.resources.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )
    refused = _move_in(client, vacant_units[1], email, link_existing_login=True)
    assert refused.status_code == 409, refused.body
    assert "not verified" in json.loads(refused.body)["detail"]


def test_the_app_ignores_an_unverified_email_claim(client: Client, standin: LocalStack) -> None:
    assert standin.resources is not None
    email = new_login(standin, "landlord")
    verified = json.loads(client.http.get("/v1/me", headers=bearer_of(standin, email)).body)
    assert verified["email"] == email
    boto3.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=standin.resources.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )
    unverified = json.loads(client.http.get("/v1/me", headers=bearer_of(standin, email)).body)
    assert unverified["email"] == ""
