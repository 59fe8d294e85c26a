"""The local server answers the refusals chalice local makes in API Gateway's place with
the documents the stack's gateway responses define (infra/deploy/gateway_responses.py;
the template holding them: tests/infra/test_gateway_responses.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.routing.headers import ALWAYS
from chalicelib.routing.problems import PROBLEM_JSON
from chalicelib.wiring.container import Container
from deploy.gateway_responses import openapi_gateway_responses
from local_run.api_gateway import install, refusals_as_problems

pytestmark = pytest.mark.functional


def _deployed(response_type: str) -> dict[str, Any]:
    entry = openapi_gateway_responses()[response_type]
    return dict(json.loads(entry["responseTemplates"]["application/json"]))


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        refusals_as_problems(c.http._local_gateway)
        yield c


@pytest.mark.parametrize(
    ("response_type", "path", "headers"),
    [
        # no credential: API Gateway does not even call the authorizer
        ("UNAUTHORIZED", "/v1/me", {}),
        # a credential the authorizer refuses
        ("ACCESS_DENIED", "/v1/me", {"Authorization": "Bearer not-a-token"}),
        # no such route
        ("MISSING_AUTHENTICATION_TOKEN", "/v1/no-such-route", {}),
    ],
)
def test_each_refusal_is_the_deployed_gateway_response(
    client: Client, response_type: str, path: str, headers: dict[str, str]
) -> None:
    # WHEN the local server refuses in API Gateway's place
    answer = client.http.get(path, headers=headers)
    # THEN it answers the stack's gateway response: the same problem, status and headers
    expected = _deployed(response_type)
    assert json.loads(answer.body) == expected
    assert answer.status_code == expected["status"]
    assert answer.headers["Content-Type"] == PROBLEM_JSON
    for name, value in ALWAYS.items():
        assert answer.headers[name] == value


def test_the_staged_server_answers_them_too(services: Container) -> None:
    # GIVEN the gateway `make run` serves (under the stage and at the root)
    with Client(app) as c:
        install(c.http._local_gateway, "api")
        # WHEN a signed-out client asks under the stage  THEN the same 401 document
        answer = c.http.get("/api/v1/me")
    assert answer.status_code == 401
    assert json.loads(answer.body) == _deployed("UNAUTHORIZED")


def test_an_answer_of_the_app_itself_is_left_alone(client: Client) -> None:
    # an app route's own answer is not a refusal of API Gateway's
    answer = client.http.get("/health")
    assert answer.status_code == 200 and answer.headers.get("Content-Type") != PROBLEM_JSON
