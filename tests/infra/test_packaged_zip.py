"""The zip we ship, run the way Lambda runs it: unzipped into a task directory and imported
by a fresh interpreter with no site-packages and no source tree on its path, each handler
called by the name the template gives it. A file the code opens that the build left out
(the telemetry schema once was), a module only the source tree has, or byte-code the
runtime cannot use fails here, not on the first message in AWS."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.data.binding import bind_models, new_connection
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.data.models import PowerletItem
from chalicelib.wiring.settings import Settings
from deploy.lambda_task import run_in_task
from deploy.packaging import PackagedStack
from local_aws.stack import LocalStack
from tests.functional.pipeline import rig
from tests.unit.architecture.test_ingest_cold_imports import PRICING

# pydantic with what it brings (the tariff models are its only users on ingest's path).
PYDANTIC = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")


@pytest.fixture(scope="module")
def task_dir(packaged: PackagedStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = Path(tmp_path_factory.mktemp("var-task"))
    with zipfile.ZipFile(packaged.zip_path) as archive:
        archive.extractall(root)
    return root


@pytest.fixture(scope="module")
def handlers(packaged: PackagedStack) -> dict[str, str]:
    """Function logical id -> the handler string Lambda will import."""
    return {
        logical_id: resource["Properties"]["Handler"]
        for logical_id, resource in packaged.template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@pytest.fixture(scope="module")
def standin() -> Iterator[tuple[LocalStack, Settings]]:
    saved_env = dict(os.environ)
    saved_table = (PowerletItem.Meta.table_name, getattr(PowerletItem.Meta, "region", None))
    stack = LocalStack(stage="artifact")
    stack.start()
    try:
        settings = Settings.from_env(stack.env())
        bind_models(settings)
        yield stack, settings
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved_env)
        PowerletItem.Meta.table_name = saved_table[0]
        bind_models(Settings(table_name=saved_table[0], region=saved_table[1] or "ap-northeast-1"))


def api_event(path: str) -> dict[str, Any]:
    """API Gateway's REST proxy event for an anonymous GET, as the deployed stage sends it."""
    return {
        "resource": "/{proxy+}" if path != "/" else "/",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "example.execute-api.ap-northeast-1.amazonaws.com"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "path": f"/api{path}",
            "stage": "api",
            "identity": {"sourceIp": "203.0.113.9"},
            "requestId": "r-1",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_the_zip_ingests_renders_and_sweeps_in_a_fresh_interpreter(
    task_dir: Path, handlers: dict[str, str], standin: tuple[LocalStack, Settings]
) -> None:
    stack, settings = standin
    # GIVEN a prepaid meter on a bus in the stand-in (seeded from the test process)
    bus = rig.make_bus(
        LedgerStore(new_connection(settings)),
        [rig.MeterSpec("m1", "u1", rig.FLAT_TWD, credit_minor=1_000)],
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    first = rig.event(bus, 1, start, {"m1": rig.OPENING_KWH})
    second = rig.event(bus, 2, start + timedelta(minutes=30), {"m1": "100.500"})
    scheduled = {  # EventBridge's scheduled event, every field Chalice reads
        "version": "0",
        "id": "e-1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.region,
        "resources": ["arn:aws:events:ap-northeast-1:123456789012:rule/offline-sweep"],
        "detail": {},
    }
    calls = [
        {"handler": handlers["IngestTelemetry"], "event": first},
        {"handler": handlers["IngestTelemetry"], "event": second},
        {"handler": handlers["APIHandler"], "event": api_event("/signin")},
        {"handler": handlers["OfflineSweep"], "event": scheduled},
    ]
    # WHEN the unzipped package's handlers run them, with only the stand-in's environment
    ran = run_in_task(task_dir, stack.env(), calls)
    # THEN ingest stored both cycles (the second charged the 0.5 kWh: the schema was found)
    from chalicelib.data.telemetry_store import TelemetryStore

    cycles = list(
        TelemetryStore().cycles_between(
            bus.company_id, bus.gateway_id, start - timedelta(minutes=1), datetime.now(UTC)
        )
    )
    assert len(cycles) == 2
    # and the sign-in page rendered from the zip's branding and catalogues
    page = ran["answers"][2]
    assert page["statusCode"] == 200, page
    assert "<form" in page["body"]
    # and nothing was imported from outside the package and the standard library
    assert ran["outside"] == []
    # and every module of ours came from the byte-code the build compiled
    assert ran["uncompiled"] == []


# What the API's path imports and ingest's must not (issue 19: the cold start).
NOT_ON_THE_INGEST_PATH = (
    "app",
    "chalice",
    "jinja2",
    "babel",
    "jsonschema",
    "boto3",
    "aws_xray_sdk",
)
NOT_ON_THE_INGEST_PATH_OF_OURS = ("chalicelib.api", "chalicelib.web", "chalicelib.application")
# The bill, true-up, move-out and estimation calculators: the domain package loads each
# name on first use, and ingest uses none of them (docs/deploy.md, "Cold start"). On a
# steady message neither are pydantic, the tariff models, PynamoDB's models nor botocore's
# clients (``test_a_cold_containers_steady_message_...``); a settling message prices.
NOT_ON_THE_INGEST_PATH_OF_THE_DOMAIN = (
    "chalicelib.domain.billing",
    "chalicelib.domain.true_up",
    "chalicelib.domain.settlement",
    "chalicelib.domain.estimation",
)


def test_a_cold_ingest_container_imports_the_ingest_path_only(
    task_dir: Path, handlers: dict[str, str], standin: tuple[LocalStack, Settings]
) -> None:
    stack, settings = standin
    # GIVEN a bus in the stand-in, and a fresh container of the unzipped package running
    # the handler the template gives ingest (as a cold Lambda container would)
    bus = rig.make_bus(
        LedgerStore(new_connection(settings)),
        [rig.MeterSpec("m1", "u1", rig.FLAT_TWD, credit_minor=500_000)],
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    calls = [
        {"handler": handlers["IngestTelemetry"], "event": rig.event(bus, n, at, reading)}
        for n, at, reading in (
            (1, start, {"m1": rig.OPENING_KWH}),
            (2, start + timedelta(minutes=1), {"m1": "100.010"}),
        )
    ]
    # WHEN it ingests two messages
    ran = run_in_task(task_dir, stack.env(), calls)
    # THEN both were stored
    assert [answer["status"] for answer in ran["answers"]] == ["stored", "stored"]
    # and nothing of the API's path was imported: no Chalice app, no page, no template
    loaded = ran["modules"]
    assert [m for m in loaded if m.split(".")[0] in NOT_ON_THE_INGEST_PATH] == []
    assert [m for m in loaded if m.startswith(NOT_ON_THE_INGEST_PATH_OF_OURS)] == []
    # and no bill calculator of the domain
    assert [m for m in loaded if m in NOT_ON_THE_INGEST_PATH_OF_THE_DOMAIN] == []


def test_a_cold_containers_steady_message_makes_no_botocore_client_and_imports_no_pydantic(
    task_dir: Path,
    handlers: dict[str, str],
    standin: tuple[LocalStack, Settings],
    tmp_path: Path,
) -> None:
    stack, settings = standin
    # GIVEN a bus whose first message (it settles every meter and sends relay commands:
    # PynamoDB's requests, the IoT data plane's) was ingested by one container
    bus = rig.make_bus(
        LedgerStore(new_connection(settings)),
        [
            rig.MeterSpec("m1", "u1", rig.FLAT_TWD, credit_minor=500_000),
            rig.MeterSpec("m2", "u2", rig.TOU_TWD, credit_minor=500_000),
        ],
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    ingest = handlers["IngestTelemetry"]
    opening = {"m1": rig.OPENING_KWH, "m2": rig.OPENING_KWH}
    first = run_in_task(
        task_dir, stack.env(), [{"handler": ingest, "event": rig.event(bus, 1, start, opening)}]
    )
    assert sorted(first["answers"][0]["settled"]) == ["m1", "m2"]
    # and a fresh container of the package without botocore's data (service models,
    # endpoints): any botocore client it made would fail to load them
    no_models = tmp_path / "task"
    shutil.copytree(task_dir, no_models, copy_function=os.link)  # links: fast, no bytes
    shutil.rmtree(no_models / "botocore" / "data")
    steady = rig.event(bus, 2, start + timedelta(minutes=1), {"m1": "100.010", "m2": "100.010"})
    # WHEN it ingests the bus's next message, a steady one (issue 19: a cold container's
    # usual first message), through the lean client (data/wire/)
    ran = run_in_task(no_models, stack.env(), [{"handler": ingest, "event": steady}])
    # THEN it was stored without a botocore client (no service model was needed), and
    # settled nothing: a steady message
    answer = ran["answers"][0]
    assert (answer["status"], answer["accepted"], answer["settled"]) == ("stored", 2, [])
    # and without PynamoDB's models, botocore or urllib3 imported at all: the context
    # and the cycles are rows (data/rows.py), the stores load PynamoDB when a write of
    # theirs runs (data/lazy.py). Only botocore's package itself is there: Powertools
    # imports it to register its user agent (aws_lambda_powertools/shared/user_agent.py).
    loaded = ran["modules"]
    assert "pynamodb.models" not in loaded
    assert [m for m in loaded if m.startswith(("botocore.", "urllib3"))] == []
    assert [m for m in loaded if m == "urllib3" or m.startswith("pynamodb.connection")] == []
    # and no pydantic and no tariff model, pricing or bill module: they are imported where
    # a settlement, a due mark or a power decision prices (docs/deploy.md, "Cold start")
    assert [m for m in loaded if m.split(".")[0] in PYDANTIC] == []
    assert [m for m in loaded if m in PRICING] == []


def test_every_file_the_code_opens_is_in_the_zip(packaged: PackagedStack) -> None:
    # GIVEN the deployment zip  WHEN listed
    with zipfile.ZipFile(packaged.zip_path) as archive:
        names = set(archive.namelist())
    # THEN the telemetry contract is where pipeline/telemetry.py looks for it
    assert "chalicelib/schemas/telemetry.v1.json" in names
    # and every module of ours has its byte-code beside it
    sources = {n for n in names if n.startswith("chalicelib/") and n.endswith(".py")}
    missing = sorted(
        source
        for source in sources
        if f"{source.rsplit('/', 1)[0]}/__pycache__/{Path(source).stem}.cpython-311.pyc"
        not in names
    )
    assert missing == []
