"""schemathesis against docs/openapi.json: no answer of the API is a server error,
every status an operation answers is documented, and every answer has the declared
content type and schema.

Cases are generated from the document (valid and invalid ones) by schemathesis's
Python API and sent through ``chalice.test.Client`` (the real authorizers and
handlers, against the stand-in) by a requests adapter, with the bearer token of
the demo company admin, or, on /v1/reseller routes, the key of a reseller made
for this test. Examples per operation are bounded so the run stays well under
90 s; the generation is derandomised so a run is reproducible.

Path ids are random strings, so writes meet 404 before their body is read and
shared demo data stays as it was; GET routes are also called with the demo's
real unit and property ids, so their handlers run on real data. The company's own
routes (``/v1/company/...``) name no id: the company is the caller's, so they are
called as an admin of the fuzz reseller's company, whose settings nothing else reads.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from urllib3 import HTTPHeaderDict, HTTPResponse

from app import app
from chalicelib.data import builders
from chalicelib.data.reseller_store import ApiKeyStore
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from local_run.api_gateway import refusals_as_problems
from tests.functional.portal.api_client import id_token
from tests.functional.portal.test_portal_api import OPENAPI
from tests.functional.security.accounts import bearer_of, new_login
from tests.functional.white_label.test_reseller_api import company_body, gateway_body, meters_body

pytestmark = pytest.mark.functional

BASE = "http://powerlet.test"
EXAMPLES = 5  # per operation and generation mode: 37 operations x 2 modes x 5, ~50 s
FUZZ_COMPANY, FUZZ_GATEWAY = "fuzz-co", "gw-1"
REAL_IDS = {
    "unit_id": "tpe-3f-a",
    "property_id": "tpe-daan",
    "company_id": FUZZ_COMPANY,  # onboarded by the fuzz reseller itself (``bearer``)
    "gateway_id": FUZZ_GATEWAY,
    "month": datetime.now(UTC).strftime("%Y-%m"),
}
# every status documented, with its content type and schema (problem details included)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

SCHEMA = schemathesis.openapi.from_path(str(OPENAPI))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]


class ChaliceAdapter(BaseAdapter):
    """A requests transport that hands the prepared request to chalice's test client."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self._client = client

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        url = urlsplit(str(request.url))
        path = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        answer = self._client.http.request(
            str(request.method),
            path,
            headers={str(k): str(v) for k, v in request.headers.items()},
            body=body.encode() if isinstance(body, str) else bytes(body),  # type: ignore[arg-type]
        )
        headers = HTTPHeaderDict()
        for name, value in answer.headers.items():
            for one in value if isinstance(value, list) else [value]:
                headers.add(name, str(one))
        # A view that returns a dict sets no Content-Type; API Gateway's proxy integration
        # answers such a response as application/json, chalice's test client does not.
        headers.setdefault("Content-Type", "application/json")
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(headers)
        response.raw = HTTPResponse(  # schemathesis reads headers and version from here
            body=io.BytesIO(answer.body), headers=headers, status=answer.status_code, version=11
        )
        response._content = answer.body
        response.request = request
        response.url = str(request.url)
        response.reason = "server error" if answer.status_code >= 500 else "OK"
        return response

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        # API Gateway's own refusals as the stack answers them (its gateway responses)
        refusals_as_problems(c.http._local_gateway)
        yield c


@pytest.fixture(scope="module")
def session(client: Client) -> requests.Session:
    s = requests.Session()
    s.mount(BASE, ChaliceAdapter(client))
    return s


@pytest.fixture(scope="module")
def bearer(standin: LocalStack, services: Container, session: requests.Session) -> dict[str, str]:
    """The Authorization header per security scheme of the document."""
    token = id_token(standin, "admin@formosa.example")
    builders.reseller("rs-fuzz", "Fuzz Resale").save()
    key = ApiKeyStore().issue("rs-fuzz", datetime.now(UTC), label="schemathesis")
    _onboard(session, f"Bearer {key.secret}")
    return {
        "cognitoIdToken": f"Bearer {token}",
        "resellerApiKey": f"Bearer {key.secret}",
        OWN_COMPANY: bearer_of(standin, new_login(standin, "company_admin", FUZZ_COMPANY))[
            "Authorization"
        ],
    }


OWN_COMPANY = "fuzz company admin"  # the caller of the company's own routes


def _onboard(session: requests.Session, key: str) -> None:
    """A company, gateway and meters of the fuzz reseller, so that its GET routes also
    answer with real objects (and their success bodies are checked against the schema)."""
    steps = [
        ("/v1/reseller/companies", company_body(FUZZ_COMPANY)),
        (f"/v1/reseller/companies/{FUZZ_COMPANY}/gateways", gateway_body(FUZZ_GATEWAY)),
        (f"/v1/reseller/companies/{FUZZ_COMPANY}/gateways/{FUZZ_GATEWAY}/meters", meters_body()),
    ]
    for path, body in steps:
        headers = {"Authorization": key, "Idempotency-Key": f"fuzz-{path}"}
        made = session.post(BASE + path, json=body, headers=headers)
        assert made.status_code == 201, made.text


def _auth(operation: Any, bearer: dict[str, str]) -> dict[str, str]:
    if operation.path.startswith("/v1/company/"):
        return {"Authorization": bearer[OWN_COMPANY]}
    for requirement in operation.definition.raw.get("security", []):
        for scheme in requirement:
            return {"Authorization": bearer[scheme]}
    return {}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_server_error_and_declared_answers_conform(
    operation: Any, session: requests.Session, bearer: dict[str, str]
) -> None:
    headers = _auth(operation, bearer)
    real_ids = operation.method.upper() == "GET" and any(
        f"{{{name}}}" in operation.path for name in REAL_IDS
    )

    def send(case: Any) -> None:
        response = case.call(base_url=BASE, session=session, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    raw = operation.definition.raw
    # Invalid input needs something to get wrong: a parameter, a body or the credentials.
    negative = bool(raw.get("parameters") or raw.get("requestBody") or raw.get("security"))
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negative else [])
    for mode in modes:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            send(case)
            if real_ids:
                for name, value in REAL_IDS.items():
                    if name in (case.path_parameters or {}):
                        case.path_parameters[name] = value
                send(case)

        run()
