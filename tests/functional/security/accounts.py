"""Logins made for the functional tests: a confirmed user of a company with a known
password and a membership, and its tokens from the stand-in's user pool."""

from __future__ import annotations

import uuid

import boto3

from chalicelib.data import builders
from local_aws.stack import LocalStack
from tests.functional.portal.api_client import id_token

PASSWORD = "Good-password-1!"
SCOPED_ROLES = frozenset({"landlord", "property_manager"})  # delegated some properties


def new_login(
    standin: LocalStack,
    role: str = "landlord",
    company_id: str = "formosa",
    *,
    email: str | None = None,
    property_ids: frozenset[str] = frozenset({"tpe-daan"}),
) -> str:
    """The e-mail of a fresh confirmed login (``PASSWORD``, a verified address) with a
    membership; a landlord or manager is delegated ``property_ids``."""
    assert standin.resources is not None
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@{company_id}.example"
    cognito = boto3.client("cognito-idp")
    pool = standin.resources.user_pool_id
    created = cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:company_id", "Value": company_id},
        ],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True
    )
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    attrs = {"property_ids": set(property_ids)} if role in SCOPED_ROLES else {}
    builders.membership(company_id, sub, email, role, **attrs).save()
    return email


def bearer_of(standin: LocalStack, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {id_token(standin, email, PASSWORD)}"}
