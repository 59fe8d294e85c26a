"""docs/examples/reseller_client.py runs as a reseller would run it: over HTTP, against
the API served by ``local_run.api_gateway`` (the server ``make run`` starts) on the
functional tier's AWS stand-in. Twice: the second run repeats every create with the
same Idempotency-Key and gets the first answers back, creating nothing twice."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import requests

from chalicelib.data import builders
from chalicelib.data.reseller_store import ApiKeyStore
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from meter_gateway.config import parse_config

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "docs" / "examples" / "reseller_client.py"
ARTIFACTS = REPO / "tests" / "artifacts"
READY_TIMEOUT_S = 90
CO = "harbour-lettings"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reseller_client", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_api(standin: LocalStack, services: Container) -> Iterator[str]:
    """The API over HTTP, in its own process, on the stand-in the tier runs on."""
    port = free_port()
    roots = [str(REPO / d) for d in ("functions", "greengrass_component", "infra")] + [str(REPO)]
    env = {**os.environ, **standin.env(), "PYTHONPATH": os.pathsep.join(roots)}
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "reseller-client-api.log").open("wb")
    command = [sys.executable, "-m", "local_run.api_gateway", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=REPO / "functions", env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert server.poll() is None, "the API server exited; see reseller-client-api.log"
            try:
                if requests.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the API server did not answer in time"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def api_key(services: Container) -> str:
    builders.reseller("rs-example", "Example Resale").save()
    return ApiKeyStore().issue("rs-example", datetime.now(UTC), label="example").secret


def test_the_example_onboards_a_building_and_can_run_again(live_api: str, api_key: str) -> None:
    example = load_example()
    client = example.ResellerClient(live_api, api_key)
    # WHEN the example program runs against the live API
    done = example.onboard_building(client, CO)
    # THEN the company, its TCP gateway and both prepaid units exist, as the API says
    assert done["gateway"]["thing_name"] == f"pl-{CO}_gw-1"
    config = done["deployment"]["configuration"]
    assert config["bus"] == {"transport": "tcp", "host": "192.168.10.20", "tcp_port": 502}
    assert [(m["meter_id"], m["relay"]["profile"]) for m in config["meters"]] == [
        ("hh-1a", "dds238"),
        ("hh-1b", "relay_module"),
    ]
    assert parse_config(config).bus.transport == "tcp"  # what the gateway component reads
    assert client.company(CO)["brand"]["display_name"] == "Harbour Lettings"
    usage = client.usage(CO, datetime.now(UTC).strftime("%Y-%m"))
    assert usage["active_meters"] == 2
    # AND a second run (a retry after any failure) creates nothing twice
    again = example.onboard_building(client, CO)
    assert again["deployment"] == done["deployment"]
    assert [c["company_id"] for c in client.companies()].count(CO) == 1
    assert client.usage(CO, datetime.now(UTC).strftime("%Y-%m"))["active_meters"] == 2


def test_the_example_reports_a_refusal_with_its_fields(live_api: str, api_key: str) -> None:
    example = load_example()
    client = example.ResellerClient(live_api, api_key)
    sdm_prepaid = {
        "meter_id": "hh-9",
        "profile": "sdm120",
        "bus_address": 9,
        "unit": {
            "unit_id": "flat-9",
            "name": "Flat 9",
            "unit_type": "flat",
            "billing_mode": "prepaid",
            "tariff": example.TARIFF,
        },
    }
    with pytest.raises(example.ApiProblem) as refused:
        client.register_meters(CO, "gw-1", [sdm_prepaid], key="refused-1")
    problem = refused.value
    assert problem.status == 400 and problem.type == "urn:powerlet:problem:invalid-request"
    assert [e["field"] for e in problem.errors] == ["meters[0]"]
    assert "no relay" in str(problem)
    # a key the API does not know is refused by API Gateway's authorizer, not a problem doc
    with pytest.raises(example.ApiProblem) as forbidden:
        example.ResellerClient(live_api, "plr_000000000000_nope").company(CO)
    assert forbidden.value.status == 403


def test_the_example_prints_its_usage_without_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_example().main([]) == 2
    assert "reseller_client.py" in capsys.readouterr().err
