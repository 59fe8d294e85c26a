"""Record the IAM actions a piece of code needs, from the AWS calls it makes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client
from pynamodb.connection.base import Connection

# botocore service name -> IAM action prefix, where they differ
IAM_PREFIX = {"iot-data": "iot", "cognito-idp": "cognito-idp"}
# Cognito's user-facing sign-in calls are unauthenticated: IAM does not apply.
NO_IAM = {"cognito-idp:InitiateAuth", "cognito-idp:RespondToAuthChallenge"}
_TRANSACT_PARTS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def dynamodb_actions(operation: str, params: dict[str, Any]) -> set[str]:
    """IAM authorises a transaction by the actions of its parts."""
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        return {_TRANSACT_PARTS[kind] for item in params.get("TransactItems", []) for kind in item}
    return {f"dynamodb:{operation}"}


@contextmanager
def recorded_actions() -> Iterator[set[str]]:
    actions: set[str] = set()
    original_dispatch = Connection.dispatch
    original_call = botocore.client.BaseClient._make_api_call

    def dispatch(self: Connection, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        actions.update(dynamodb_actions(operation, params))
        return original_dispatch(self, operation, params)

    def call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        if service == "dynamodb":
            actions.update(dynamodb_actions(operation, params))
        else:
            action = f"{IAM_PREFIX.get(service, service)}:{operation}"
            if action not in NO_IAM:
                actions.add(action)
        return original_call(self, operation, params)

    Connection.dispatch = dispatch  # type: ignore[method-assign,assignment]
    botocore.client.BaseClient._make_api_call = call
    try:
        yield actions
    finally:
        Connection.dispatch = original_dispatch  # type: ignore[method-assign]
        botocore.client.BaseClient._make_api_call = original_call
