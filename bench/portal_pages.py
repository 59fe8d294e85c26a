"""Portal cost per page: DynamoDB requests and server time for the dashboard and
the unit page, for a company with 10 units and one with 1,000 (issue 5 bench).

Both companies live in the same AWS stand-in; each is read through the JSON API
(`/v1/dashboard`, `/v1/units/{id}/overview`) by its own signed-in admin, through
`chalice.test.Client` (the real authorizer and handlers). Requests are counted at
botocore, so every DynamoDB call the handler makes is seen. The claim to check
is that both figures are bounded and independent of company size: the ratio
large / small should stay near 1.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.client
from chalice.test import Client

from app import app
from chalicelib.data import builders
from chalicelib.data.binding import bind_models, new_connection
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.wiring.container import Container, set_container
from chalicelib.wiring.settings import Settings
from local_aws.demo_data import DEMO_PASSWORD, TARIFF_TW_FLAT
from local_aws.seed import ensure_user
from local_aws.stack import LocalStack

OUT = Path(__file__).resolve().parent / "results" / "portal_pages.json"
SIZES = (10, 1000)
REPEAT = 15


class DynamoCounter:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                counter.calls[operation] = counter.calls.get(operation, 0) + 1
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def take(self) -> dict[str, int]:
        calls, self.calls = self.calls, {}
        return calls


def seed_company(co: str, units: int, stack: LocalStack, settings: Settings) -> str:
    assert stack.resources is not None
    now = datetime(2026, 11, 1, tzinfo=UTC)
    ledger = LedgerStore(new_connection(settings))
    items: list[Any] = [
        builders.company(co, f"Bench {units}", now),
        builders.property_(
            co,
            "p1",
            name="Block",
            address="1 Road",
            city="Taipei",
            country="TW",
            time_zone="Asia/Taipei",
            currency="TWD",
        ),
        builders.gateway(co, "gw1", f"pl-{co}-gw1", property_id="p1"),
    ]
    for i in range(units):
        unit_id, meter_id, account_id = f"u{i:04d}", f"m{i:04d}", f"a{i:04d}"
        items.append(
            builders.meter(co, meter_id, "gw1", 1 + i % 247, unit_id=unit_id, profile="dds238")
        )
        items.append(
            builders.unit(
                co,
                unit_id,
                "p1",
                name=f"Unit {i}",
                unit_type="flat",
                billing_mode="prepaid",
                tariff=TARIFF_TW_FLAT,
                meter_id=meter_id,
                account_id=account_id,
            )
        )
        ledger.open_account(co, account_id, "TWD", now)
    email = f"admin@{co}.example"
    sub = ensure_user(
        boto3.client("cognito-idp"), stack.resources.user_pool_id, email, co, "company_admin"
    )
    items.append(builders.membership(co, sub, email, "company_admin"))
    Catalogue.save_all(items)
    token = boto3.client("cognito-idp").admin_initiate_auth(
        UserPoolId=stack.resources.user_pool_id,
        ClientId=stack.resources.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    return str(token)


def measure(client: Client, counter: DynamoCounter, path: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    client.http.get(path, headers=headers)  # warm caches, as a running Lambda would be
    counter.take()
    times_ms, requests = [], []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.http.get(path, headers=headers)
        times_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.body
        requests.append(sum(counter.take().values()))
    return {
        "dynamodb_requests": max(requests),
        "server_ms_p50": round(statistics.median(times_ms), 1),
        "server_ms_max": round(max(times_ms), 1),
    }


def main() -> int:
    counter = DynamoCounter()
    results: dict[str, Any] = {"benchmark": "portal_pages", "repeat": REPEAT, "companies": {}}
    with LocalStack() as stack:
        settings = Settings.from_env(stack.env())
        bind_models(settings)
        set_container(Container(settings))
        tokens = {n: seed_company(f"bench{n}", n, stack, settings) for n in SIZES}
        with Client(app) as client:
            for n in SIZES:
                results["companies"][str(n)] = {
                    "dashboard": measure(
                        client, counter, "/v1/dashboard?property_id=p1", tokens[n]
                    ),
                    "unit_page": measure(client, counter, "/v1/units/u0005/overview", tokens[n]),
                }
    small, large = (results["companies"][str(n)] for n in SIZES)
    results["ratio_large_over_small"] = {
        page: {
            "dynamodb_requests": round(
                large[page]["dynamodb_requests"] / small[page]["dynamodb_requests"], 2
            ),
            "server_ms_p50": round(large[page]["server_ms_p50"] / small[page]["server_ms_p50"], 2),
        }
        for page in ("dashboard", "unit_page")
    }
    results["note"] = (
        "Server time is measured against the moto stand-in (serialised, slower than DynamoDB); "
        "the request counts are the portable figure."
    )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    bounded = all(r["dynamodb_requests"] <= 1.0 for r in results["ratio_large_over_small"].values())
    return 0 if bounded else 1


if __name__ == "__main__":
    raise SystemExit(main())
