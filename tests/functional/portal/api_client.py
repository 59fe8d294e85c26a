"""A JSON API caller for the portal tests: a demo user's ID token, a JSON POST."""

from __future__ import annotations

import json
from typing import Any

import boto3
from chalice.test import Client

from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack


def tokens(standin: LocalStack, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """The tokens (``IdToken``, ``AccessToken``, ...) of a user signed in to the
    stand-in's user pool."""
    assert standin.resources is not None
    result = boto3.client("cognito-idp").admin_initiate_auth(
        UserPoolId=standin.resources.user_pool_id,
        ClientId=standin.resources.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return dict(result["AuthenticationResult"])


def id_token(standin: LocalStack, email: str, password: str = DEMO_PASSWORD) -> str:
    """An ID token of a user signed in to the stand-in's user pool."""
    return str(tokens(standin, email, password)["IdToken"])


def access_token(standin: LocalStack, email: str, password: str = DEMO_PASSWORD) -> str:
    """An access token (Cognito's own user APIs take it) of a signed-in user."""
    return str(tokens(standin, email, password)["AccessToken"])


def bearer(standin: LocalStack, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """The Authorization header of a user signed in to the stand-in's user pool."""
    return {"Authorization": f"Bearer {id_token(standin, email, password)}"}


def post_json(client: Client, path: str, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.http.post(
        path, headers={**auth, "Content-Type": "application/json"}, body=json.dumps(body)
    )
