"""The OpenAPI 3.1 document of the JSON API, generated from the app's own
route table and the access registry, so it cannot drift from the routes.

``python -m deploy.openapi > docs/openapi.json`` writes it; a test
compares the file with a fresh build.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.auth.principal import Role
from chalicelib.routing.access import (
    IDEMPOTENT_CREATES,
    QUERY_MODELS,
    REQUEST_BODIES,
    RESPONSES,
    ROUTE_ACCESS,
)
from chalicelib.routing.problems import PROBLEM_JSON, Problem
from chalicelib.routing.responses import Answers

IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Client-chosen, 1-255 characters, kept 90 days. Same key and body: "
    "the first answer again (secrets withheld). Same key, other body: 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
SCHEMAS = "#/components/schemas/"
PROBLEM = {"$ref": f"{SCHEMAS}Problem"}
# What each refusal means, as the document says it (docs/api.md has the full table).
REFUSALS = {
    400: "invalid request: the problem's errors name each field",
    401: "no credential, or one the authorizer cannot read (API Gateway's gateway response)",
    403: "credentials refused, or the role may not call this",
    404: "not found, or not the caller's",
    409: "conflicts with the current state",
    413: "body too large",
    415: "unsupported body type (Content-Type)",
    422: "valid, but the rules refuse it",
    429: "rate limit of the API key (Retry-After)",
    503: "a service it needs is unavailable: retry later",
}
SUCCESS = {200: "OK", 201: "created"}
_PARAM = re.compile(r"{([^}]+)}")


def build_document(app: Any, page_routes: set[tuple[str, str]]) -> dict[str, Any]:
    operations = [
        (path, method, entry)
        for path, methods in sorted(app.routes.items())
        for method, entry in sorted(methods.items())
        if (method, path) not in page_routes
    ]
    refs, schemas = _schemas([(method, path) for path, method, _ in operations])
    paths: dict[str, dict[str, Any]] = {}
    for path, method, entry in operations:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, entry, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Powerlet API",
            "version": "1",
            "description": "Bearer: a Cognito ID token of the company's user pool. Objects "
            "of other companies, tenants or undelegated properties answer 404. The reseller "
            "API (/v1/reseller) takes a reseller API key instead (Bearer plr_<id>_<secret>), "
            "rate-limited per key (429 with Retry-After). Refusals are RFC 9457 problem "
            "details (application/problem+json); docs/api.md lists every route with an "
            "example.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "cognitoIdToken": {"type": "http", "scheme": "bearer"},
                "resellerApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "plr_<key id>_<secret>, shown once when issued",
                },
            },
            "schemas": schemas,
        },
    }


_Key = tuple[type[BaseModel], JsonSchemaMode]


def _schemas(
    operations: list[tuple[str, str]],
) -> tuple[dict[_Key, dict[str, Any]], dict[str, Any]]:
    """Every body and answer model in one pass, so a shape used twice is one schema
    under components/schemas and every reference resolves there."""
    models: list[_Key] = [(Problem, "serialization")]
    for key in operations:
        body = REQUEST_BODIES.get(key)
        if body is not None:
            models.append((body, "validation"))
        answer = RESPONSES[key].model if key in RESPONSES else None
        if answer is not None:
            models.append((answer, "serialization"))
    refs, document = models_json_schema(
        list(dict.fromkeys(models)), ref_template=SCHEMAS + "{model}"
    )
    return {(model, mode): refs[(model, mode)] for model, mode in models}, document.get("$defs", {})


def _content(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {media_type: {"schema": schema}}


def _operation(
    method: str, path: str, entry: Any, refs: dict[_Key, dict[str, Any]]
) -> dict[str, Any]:
    key = (method, path)
    roles = ROUTE_ACCESS.get(key)
    answers = RESPONSES.get(key) or Answers(None)
    doc = inspect.getdoc(entry.view_function) or entry.view_name
    path_params = _PARAM.findall(path)
    op: dict[str, Any] = {
        "operationId": entry.view_name,
        "summary": doc.splitlines()[0],
        "description": doc,
        "x-powerlet-roles": sorted(r.value for r in roles or ()),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in path_params
        ],
        "responses": {},
    }
    if answers.model is None:
        raise ValueError(f"{method} {path} declares no answer model (response=...)")
    answer = refs[(answers.model, "serialization")]
    for status in answers.success:
        op["responses"][str(status)] = {
            "description": SUCCESS[status],
            "content": _content("application/json", answer),
        }
    refusals: set[int] = set(answers.errors)
    if roles:
        scheme = "resellerApiKey" if Role.RESELLER in roles else "cognitoIdToken"
        op["security"] = [{scheme: []}]
        refusals |= {401, 403}
    if path_params:
        refusals.add(404)
    if key in IDEMPOTENT_CREATES:
        op["parameters"].append(IDEMPOTENCY_PARAMETER)
        refusals |= {400, 409, 422}
    if roles and Role.RESELLER in roles:
        refusals.add(429)
    query = QUERY_MODELS.get(key)
    if query is not None:
        op["parameters"] += _query_parameters(query)
        refusals.add(400)
    body = REQUEST_BODIES.get(key)
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": _content("application/json", refs[(body, "validation")]),
        }
        refusals |= {400, 413, 415}  # 415: a body that is not application/json
    for status in sorted(refusals):
        op["responses"][str(status)] = _refusal(status)
    return op


def _refusal(status: int) -> dict[str, Any]:
    # API Gateway's own refusals (401, an authorizer's 403) are problem documents too:
    # the stack's gateway responses (deploy.gateway_responses)
    return {"description": REFUSALS[status], "content": _content(PROBLEM_JSON, PROBLEM)}


def _query_parameters(query: type[BaseModel]) -> list[dict[str, Any]]:
    schema: dict[str, Any] = query.model_json_schema()
    return [
        {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", ()),
            "description": prop.pop("description", ""),
            "schema": {k: v for k, v in prop.items() if k != "title"},
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def main() -> int:
    from app import app  # the registration module, only when run as a tool
    from chalicelib.web.pages import PAGE_ROUTES

    json.dump(build_document(app, PAGE_ROUTES), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
