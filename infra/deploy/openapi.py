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

from chalicelib.auth.principal import Role
from chalicelib.routing.access import IDEMPOTENT_CREATES, QUERY_MODELS, REQUEST_BODIES, ROUTE_ACCESS

IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Client-chosen, 1-255 characters, kept 90 days. Same key and body: "
    "the first answer again (secrets withheld). Same key, other body: 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
ERROR = {"$ref": "#/components/schemas/Error"}
# Refusals by the authorizer come from API Gateway itself (chalice local mimics it):
# {"message": "Unauthorized"} (401) and {"Message": "User is not authorized ..."} (403).
GATEWAY_ERROR = {"$ref": "#/components/schemas/GatewayError"}
_PARAM = re.compile(r"{([^}]+)}")


def build_document(app: Any, page_routes: set[tuple[str, str]]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            if (method, path) in page_routes:
                continue
            paths.setdefault(path, {})[method.lower()] = _operation(method, path, entry)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Powerlet API",
            "version": "1",
            "description": "Bearer: a Cognito ID token of the company's user pool. Objects "
            "of other companies, tenants or undelegated properties answer 404. The reseller "
            "API (/v1/reseller) takes a reseller API key instead (Bearer plr_<id>_<secret>), "
            "rate-limited per key (429 with Retry-After).",
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
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"Code": {"type": "string"}, "Message": {"type": "string"}},
                    "required": ["Code", "Message"],
                },
                "GatewayError": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}, "Message": {"type": "string"}},
                    "minProperties": 1,
                },
            },
        },
    }


def _operation(method: str, path: str, entry: Any) -> dict[str, Any]:
    roles = ROUTE_ACCESS.get((method, path))
    doc = inspect.getdoc(entry.view_function) or entry.view_name
    op: dict[str, Any] = {
        "operationId": entry.view_name,
        "summary": doc.splitlines()[0],
        "x-powerlet-roles": sorted(r.value for r in roles or ()),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(path)
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        },
    }
    if roles:
        scheme = "resellerApiKey" if Role.RESELLER in roles else "cognitoIdToken"
        op["security"] = [{scheme: []}]
        refusals: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("401", "no token", GATEWAY_ERROR),
            ("403", "role not allowed", {"anyOf": [ERROR, GATEWAY_ERROR]}),
            ("404", "not found", ERROR),
        )
        for status, text, answer in refusals:
            op["responses"][status] = {
                "description": text,
                "content": {"application/json": {"schema": answer}},
            }
    if (method, path) in IDEMPOTENT_CREATES:
        op["parameters"].append(IDEMPOTENCY_PARAMETER)
        op["responses"]["201"] = op["responses"].pop("200") | {"description": "created"}
        op["responses"]["409"] = {
            "description": "already exists, or the first request is still running",
            "content": {"application/json": {"schema": ERROR}},
        }
    if roles and Role.RESELLER in roles:
        op["responses"]["429"] = {
            "description": "rate limit of the API key",
            "content": {"application/json": {"schema": ERROR}},
        }
    query = QUERY_MODELS.get((method, path))
    if query is not None:
        schema: dict[str, Any] = query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            op["parameters"].append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", ()),
                    "description": prop.pop("description", ""),
                    "schema": {k: v for k, v in prop.items() if k != "title"},
                }
            )
        op["responses"]["400"] = {
            "description": "invalid query",
            "content": {"application/json": {"schema": ERROR}},
        }
    model = REQUEST_BODIES.get((method, path))
    if model is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
        op["responses"]["400"] = {
            "description": "invalid body",
            "content": {"application/json": {"schema": ERROR}},
        }
        op["responses"]["422"] = {
            "description": "refused",
            "content": {"application/json": {"schema": ERROR}},
        }
    return op


def main() -> int:
    from app import app  # the registration module, only when run as a tool
    from chalicelib.web.pages import PAGE_ROUTES

    json.dump(build_document(app, PAGE_ROUTES), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
