"""The reseller API's refusals as RFC 9457 problem details, each with the right status:
400 for a request that is wrong in itself, 404 only for what is missing, 409 only for a
conflict with what exists, 422 for a valid request the rules refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import ResellerApi
from .test_reseller_api import FLAT, company_body, gateway_body

pytestmark = pytest.mark.functional

CO = "problem-rentals"
GATEWAYS = f"/v1/reseller/companies/{CO}/gateways"
METERS = f"{GATEWAYS}/gw-1/meters"


@pytest.fixture(scope="module")
def company(reseller_api: ResellerApi) -> str:
    made = reseller_api.call("POST", "/v1/reseller/companies", company_body(CO), "co-problem")
    assert made.status_code == 201, made.body
    gw = reseller_api.call("POST", GATEWAYS, gateway_body(), "gw-problem")
    assert gw.status_code == 201, gw.body
    return CO


def unit_meter(meter_id: str, address: int, tariff: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "meter_id": meter_id,
        "profile": "dds238",
        "bus_address": address,
        "unit": {
            "unit_id": f"u-{meter_id}",
            "name": "Flat",
            "unit_type": "flat",
            "billing_mode": "prepaid",
            "tariff": tariff or FLAT,
        },
    }


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    doc: dict[str, Any] = json.loads(response.body)
    assert doc["status"] == status and doc["type"].startswith("urn:powerlet:problem:")
    assert doc["title"] and doc["detail"]
    return doc


def test_an_invalid_body_names_each_field_with_a_human_message(
    reseller_api: ResellerApi, company: str
) -> None:
    # GIVEN a meter with a profile name no profile can have, and an address off the bus
    bad = {"meters": [{**unit_meter("pm-bad", 1), "profile": "No such!", "bus_address": 300}]}
    # WHEN it is registered
    refused = reseller_api.call("POST", METERS, bad, "pm-bad")
    # THEN 400, with one entry per field: its path and what is wrong, no pydantic URL
    doc = problem_of(refused, 400)
    assert doc["type"] == "urn:powerlet:problem:invalid-request"
    assert doc["instance"] == METERS
    fields = {e["field"]: e for e in doc["errors"]}
    assert set(fields) == {"meters[0].profile", "meters[0].bus_address"}
    assert fields["meters[0].bus_address"]["pointer"] == "/meters/0/bus_address"
    assert "247" in fields["meters[0].bus_address"]["message"]
    assert "[a-z0-9_]" in fields["meters[0].profile"]["message"]  # says what a name is
    assert "errors.pydantic.dev" not in refused.body.decode()


def test_a_float_price_is_400_not_409(reseller_api: ResellerApi, company: str) -> None:
    tariff = {**FLAT, "price_per_kwh": 5.5}
    refused = reseller_api.call("POST", METERS, {"meters": [unit_meter("pm-f", 3, tariff)]}, "pm-f")
    doc = problem_of(refused, 400)
    assert "u-pm-f" in doc["detail"] and "tariff" in doc["detail"]


def test_a_tariff_in_another_currency_is_422(reseller_api: ResellerApi, company: str) -> None:
    tariff = {**FLAT, "currency": "EUR"}
    refused = reseller_api.call("POST", METERS, {"meters": [unit_meter("pm-c", 4, tariff)]}, "pm-c")
    assert "EUR" in problem_of(refused, 422)["detail"]


def test_an_address_repeated_in_the_request_is_400_and_one_in_use_409(
    reseller_api: ResellerApi, company: str
) -> None:
    twice = {"meters": [unit_meter("pm-a", 5), unit_meter("pm-b", 5)]}
    problem_of(reseller_api.call("POST", METERS, twice, "pm-twice"), 400)
    made = reseller_api.call("POST", METERS, {"meters": [unit_meter("pm-a", 5)]}, "pm-once")
    assert made.status_code == 201, made.body
    taken = reseller_api.call("POST", METERS, {"meters": [unit_meter("pm-b", 5)]}, "pm-taken")
    assert "5" in problem_of(taken, 409)["detail"]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "last-month"])
def test_a_bad_usage_month_is_400_not_404(
    reseller_api: ResellerApi, company: str, month: str
) -> None:
    refused = reseller_api.call("GET", f"/v1/reseller/companies/{CO}/usage/{month}")
    assert "YYYY-MM" in problem_of(refused, 400)["detail"]


def test_a_missing_company_is_a_404_problem_that_says_nothing_more(
    reseller_api: ResellerApi, company: str
) -> None:
    doc = problem_of(reseller_api.call("GET", "/v1/reseller/companies/nobody-here"), 404)
    assert doc["detail"] == "not found" and doc["errors"] == []


def test_a_create_without_idempotency_key_is_a_400_problem(
    reseller_api: ResellerApi, company: str
) -> None:
    refused = reseller_api.call("POST", METERS, {"meters": [unit_meter("pm-k", 9)]})
    assert "Idempotency-Key" in problem_of(refused, 400)["detail"]


def test_chalices_own_refusals_are_problem_documents_too(
    reseller_api: ResellerApi, company: str
) -> None:
    # a JSON route sent another body type: chalice refuses it before the view runs
    refused = reseller_api.call("POST", METERS, raw=b"meters", content_type="text/plain")
    assert "text/plain" in problem_of(refused, 415)["detail"]
    # a method the route does not take
    problem_of(reseller_api.call("DELETE", f"/v1/reseller/companies/{CO}/usage/2026-01"), 405)
