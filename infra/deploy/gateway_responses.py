"""API Gateway's own refusals in the API's one refusal shape: RFC 9457 problem documents.

API Gateway answers some requests before any function runs: a missing credential (401),
one the authorizer refuses (403), a route that does not exist (403 "Missing Authentication
Token"), the stage's throttle (429), WAF's rate rule (403), an integration that timed out
(504). By default those bodies are ``{"message": ...}``; the API's clients parse problem
documents (``chalicelib.routing.problems``). So the stack defines a *gateway response* for
every response type API Gateway has ("Gateway response types for API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html),
each with the problem document of its status, ``application/problem+json`` and the headers
every answer of the app carries (``chalicelib.routing.headers``).

They go into Chalice's OpenAPI definition of the API (``x-amazon-apigateway-gateway-responses``,
"Set up gateway responses using OpenAPI"), not as ``AWS::ApiGateway::GatewayResponse``
resources: a change to the definition makes SAM deploy the stage again, and gateway
responses take effect only with a deployment.

A gateway response template is not run through VTL: only ``$context`` variables are
substituted. The problem's ``instance`` (the request path) is left out because a path is
substituted raw, and a ``"`` in it would break the JSON.

The local server (``local_run.api_gateway``) answers chalice local's imitations of these
refusals with the same documents (``problem_for``).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.routing.headers import ALWAYS, DEFAULT_CACHE
from chalicelib.routing.problems import PROBLEM_JSON, problem

# response type -> (status, detail). Every type API Gateway documents, each with its
# default status (so the document's ``status`` is the answer's), and the two defaults,
# which would otherwise answer whatever status their type has: they are pinned to 400
# and 500 so the body cannot disagree with the status line.
GATEWAY_RESPONSES: dict[str, tuple[int, str]] = {
    "DEFAULT_4XX": (400, "the request was refused before it reached the API"),
    "DEFAULT_5XX": (500, "the API gateway failed to answer"),
    "BAD_REQUEST_BODY": (400, "the body does not match what the route takes"),
    "BAD_REQUEST_PARAMETERS": (400, "a required parameter is missing"),
    "UNAUTHORIZED": (401, "no valid credential: send Authorization: Bearer <token or key>"),
    "ACCESS_DENIED": (403, "the credential does not allow this request"),
    "EXPIRED_TOKEN": (403, "the credential has expired"),
    "INVALID_API_KEY": (403, "the API key is not valid"),
    "INVALID_SIGNATURE": (403, "the request signature is not valid"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "no such route, or no credential for it"),
    "WAF_FILTERED": (403, "too many requests from this address: try again in a few minutes"),
    "RESOURCE_NOT_FOUND": (404, "not found"),
    "REQUEST_TOO_LARGE": (413, "the body is too large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "the body's Content-Type is not accepted"),
    "THROTTLED": (429, "the API is busy: retry in a moment"),
    "QUOTA_EXCEEDED": (429, "the usage quota is used up"),
    "API_CONFIGURATION_ERROR": (500, "the API is misconfigured"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "the credential could not be checked"),
    "AUTHORIZER_FAILURE": (500, "the credential could not be checked"),
    "INTEGRATION_FAILURE": (504, "the API did not answer: retry later"),
    "INTEGRATION_TIMEOUT": (504, "the API did not answer in time: retry later"),
}
# Pinned status codes (the defaults only; every other type answers its documented one).
PINNED_STATUS = {"DEFAULT_4XX", "DEFAULT_5XX"}


def problem_for(response_type: str) -> dict[str, Any]:
    status, detail = GATEWAY_RESPONSES[response_type]
    return problem(status, detail)


def response_headers() -> dict[str, str]:
    """What every gateway response carries: its type and the app's own headers."""
    return {"Content-Type": PROBLEM_JSON, **ALWAYS, "Cache-Control": DEFAULT_CACHE}


def openapi_gateway_responses() -> dict[str, Any]:
    """``x-amazon-apigateway-gateway-responses`` for Chalice's API definition."""
    out: dict[str, Any] = {}
    for response_type, (status, _detail) in GATEWAY_RESPONSES.items():
        entry: dict[str, Any] = {
            "responseParameters": {
                # a header value in a gateway response is a quoted literal
                f"gatewayresponse.header.{name}": f"'{value}'"
                for name, value in response_headers().items()
            },
            "responseTemplates": {
                "application/json": json.dumps(problem_for(response_type), sort_keys=True)
            },
        }
        if response_type in PINNED_STATUS:
            entry["statusCode"] = str(status)
        out[response_type] = entry
    return out


def api_gateway_responses() -> dict[str, Any]:
    """The merge template's part: the gateway responses inside the API's definition."""
    return {
        "RestAPI": {
            "Properties": {
                "DefinitionBody": {
                    "x-amazon-apigateway-gateway-responses": openapi_gateway_responses()
                }
            }
        }
    }
