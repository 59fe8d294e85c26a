"""What brands and the reseller API cost per request, in DynamoDB calls:
resolution and key checks are GetItems on known keys, never a Query or Scan."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest
from chalice.test import Client

from local_aws.stack import LocalStack
from tests.functional.portal.api_client import id_token

from .conftest import ResellerApi

pytestmark = pytest.mark.functional


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    yield calls


def test_a_branded_sign_in_screen_costs_two_get_items(
    client: Client, dynamodb_calls: Counter[str]
) -> None:
    client.http.get("/signin", headers={"Host": "formosa.localhost"})
    assert dynamodb_calls == Counter({"GetItem": 2})  # host binding, brand


def test_an_unknown_host_costs_one_get_item(client: Client, dynamodb_calls: Counter[str]) -> None:
    client.http.get("/signin", headers={"Host": "nobody.example"})
    assert dynamodb_calls == Counter({"GetItem": 1})


def test_a_reseller_read_costs_two_get_items_and_one_counter_before_its_work(
    reseller_api: ResellerApi, dynamodb_calls: Counter[str]
) -> None:
    reseller_api.call("GET", "/v1/reseller/companies")
    # key + reseller (authorizer), the rate window, then one Query for the list
    assert dynamodb_calls == Counter({"GetItem": 2, "UpdateItem": 1, "Query": 1})


def test_a_reseller_create_adds_a_claim_and_an_answer_and_a_replay_only_the_claim(
    reseller_api: ResellerApi, dynamodb_calls: Counter[str]
) -> None:
    key = f"cost-{uuid.uuid4().hex}"
    first = reseller_api.call("POST", "/v1/reseller/keys", {"label": "costs"}, key)
    assert first.status_code == 201, first.body
    # key + reseller, the rate window; the claim (PutItem), the new key, the answer
    assert dynamodb_calls == Counter({"GetItem": 2, "UpdateItem": 2, "PutItem": 2})
    dynamodb_calls.clear()
    replay = reseller_api.call("POST", "/v1/reseller/keys", {"label": "costs"}, key)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    # the refused claim brings the stored answer back with it: no second read
    assert dynamodb_calls == Counter({"GetItem": 2, "UpdateItem": 1, "PutItem": 1})


def test_a_company_users_api_call_reads_membership_and_company_in_one_request(
    client: Client, standin: LocalStack, dynamodb_calls: Counter[str]
) -> None:
    # GIVEN a company admin's ID token (fetched before counting)
    token = id_token(standin, "admin@thames.example")
    dynamodb_calls.clear()
    # WHEN it calls /v1/me
    response = client.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    # THEN the suspension check rides in the membership read: one BatchGetItem
    # (membership + company), then the route's own company GetItem
    assert response.status_code == 200
    assert dynamodb_calls == Counter({"BatchGetItem": 1, "GetItem": 1})
