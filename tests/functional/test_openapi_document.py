"""The OpenAPI document describes what every operation answers: a named schema for each
success body (never a bare ``{"type": "object"}``), RFC 9457 problems for refusals, and
references that all resolve under ``components/schemas``."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.functional.portal.test_portal_api import OPENAPI

DOC: dict[str, Any] = json.loads(OPENAPI.read_text())
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
OPERATIONS = [
    (method.upper(), path, op) for path, ops in DOC["paths"].items() for method, op in ops.items()
]
REF = re.compile(r'"\$ref": "([^"]+)"')


def test_every_reference_resolves_under_components() -> None:
    text = json.dumps(DOC)
    assert "$defs" not in text
    refs = set(REF.findall(text))
    assert refs, "the document references no schema at all"
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in SCHEMAS, ref


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=lambda x: str(x)[:80])
def test_each_success_body_is_a_named_schema_with_its_fields(
    method: str, path: str, op: dict[str, Any]
) -> None:
    successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
    assert successes, f"{method} {path} documents no success"
    for response in successes.values():
        schema = response["content"]["application/json"]["schema"]
        name = schema["$ref"].removeprefix("#/components/schemas/")
        named = SCHEMAS[name]
        assert named.get("properties") or named.get("anyOf"), (name, named)


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=lambda x: str(x)[:80])
def test_refusals_are_problem_documents_as_they_occur(
    method: str, path: str, op: dict[str, Any]
) -> None:
    responses = op["responses"]
    if "{" in path:
        assert "404" in responses  # an id in the path may name nothing
    if "requestBody" in op or any(p["in"] == "query" for p in op["parameters"]):
        assert "400" in responses
    if path.startswith("/v1/reseller"):
        assert "429" in responses
    for status, response in responses.items():
        if status.startswith("4") and status != "401":
            assert "application/problem+json" in response["content"], (status, response)


def test_creates_answer_201_and_conflicts_409() -> None:
    created = {(m, p) for m, p, op in OPERATIONS if "201" in op["responses"]}
    assert ("POST", "/v1/reseller/companies") in created
    assert ("POST", "/v1/reseller/keys") in created
    assert ("POST", "/v1/units/{unit_id}/meter-exchanges") in created
    for method, path, op in OPERATIONS:
        if any(p["name"] == "Idempotency-Key" for p in op["parameters"]):
            assert {"201", "409", "422"} <= set(op["responses"]), (method, path)
    verify = DOC["paths"]["/v1/reseller/companies/{company_id}/brand/domains/{domain}/verify"]
    assert {"409", "503"} <= set(verify["post"]["responses"])
