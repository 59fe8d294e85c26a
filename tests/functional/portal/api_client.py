"""A JSON API caller for the portal tests: a demo user's ID token, a JSON POST."""

from __future__ import annotations

import json
from typing import Any

import boto3
from chalice.test import Client

from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack


def bearer(standin: LocalStack, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """The Authorization header of a user signed in to the stand-in's user pool."""
    assert standin.resources is not None
    result = boto3.client("cognito-idp").initiate_auth(
        ClientId=standin.resources.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return {"Authorization": f"Bearer {result['AuthenticationResult']['IdToken']}"}


def post_json(client: Client, path: str, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.http.post(
        path, headers={**auth, "Content-Type": "application/json"}, body=json.dumps(body)
    )
