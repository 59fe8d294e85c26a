"""API Gateway's own refusals are problem documents: the packaged template defines a
gateway response for every response type, each with the problem of its status (the local
server's answers: tests/functional/test_gateway_refusals.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.routing.headers import ALWAYS
from chalicelib.routing.problems import PROBLEM_JSON, PROBLEM_TYPES, TYPE_PREFIX, Problem
from deploy.gateway_responses import GATEWAY_RESPONSES, PINNED_STATUS

# The response types API Gateway documents and the status each answers by default
# ("Gateway response types for API Gateway"; None: the DEFAULT_* catch-alls).
DOCUMENTED = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}


@pytest.fixture(scope="module")
def responses(template: dict[str, Any]) -> dict[str, Any]:
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return dict(definition["x-amazon-apigateway-gateway-responses"])


def _document(entry: dict[str, Any]) -> dict[str, Any]:
    (content_type,) = entry["responseTemplates"]
    assert content_type == "application/json"  # the template API Gateway picks by default
    return dict(json.loads(entry["responseTemplates"][content_type]))


def test_every_response_type_has_a_gateway_response(responses: dict[str, Any]) -> None:
    # THEN the packaged API defines one for each documented type, the catch-alls included
    assert set(responses) == set(DOCUMENTED)
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED"} <= set(
        responses
    )


@pytest.mark.parametrize("response_type", sorted(DOCUMENTED))
def test_each_is_the_problem_of_its_status(responses: dict[str, Any], response_type: str) -> None:
    entry = responses[response_type]
    document = _document(entry)
    # THEN the body is a problem document (the app's own model) of a type the API lists,
    Problem.model_validate(document)
    name, title = PROBLEM_TYPES[document["status"]]
    assert (document["type"], document["title"]) == (TYPE_PREFIX + name, title)
    # AND its status is the one the answer has: the documented default, or pinned
    if response_type in PINNED_STATUS:
        assert entry["statusCode"] == str(document["status"])
    else:
        assert "statusCode" not in entry
        assert document["status"] == DOCUMENTED[response_type]
    assert "instance" not in document or document["instance"] is None
    # AND it is served as a problem with every header an answer of the app carries
    headers = {
        name.removeprefix("gatewayresponse.header."): value
        for name, value in entry["responseParameters"].items()
    }
    assert headers["Content-Type"] == f"'{PROBLEM_JSON}'"
    for name, value in ALWAYS.items():
        assert headers[name] == f"'{value}'"
    assert headers["Cache-Control"] == "'no-store'"


def test_the_table_covers_exactly_the_documented_types() -> None:
    # (without packaging: the table itself, so a type added by AWS is a conscious change)
    assert set(GATEWAY_RESPONSES) == set(DOCUMENTED)
