"""A cold container's usual first message, a steady one (no settlement due, no power
decision to make), imports neither pydantic nor any pricing or tariff module: they are
imported where a settlement, a due mark or a power decision prices (issue 19's cold start;
docs/deploy.md, "Cold start"). Run from the zip we ship, as Lambda runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from chalicelib.data.binding import new_connection
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.wiring.settings import Settings
from deploy.lambda_task import run_in_task
from local_aws.stack import LocalStack
from tests.functional.pipeline import rig

# The zip's task directory, its handlers and the stand-in: the packaged-zip tier's own.
from tests.infra.test_packaged_zip import handlers, standin, task_dir  # noqa: F401
from tests.unit.architecture.test_ingest_cold_imports import PRICING

# pydantic with what it brings (the tariff models are its only users on ingest's path).
PYDANTIC = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")


def test_a_cold_containers_steady_message_imports_no_pydantic_and_no_pricing(
    task_dir: Path,  # noqa: F811
    handlers: dict[str, str],  # noqa: F811
    standin: tuple[LocalStack, Settings],  # noqa: F811
) -> None:
    stack, settings = standin
    # GIVEN a bus of a flat-rate and a time-of-use prepaid meter whose first message (it
    # settles every meter and decides their power) one container ingested
    bus = rig.make_bus(
        LedgerStore(new_connection(settings)),
        [
            rig.MeterSpec("m1", "u1", rig.FLAT_TWD, credit_minor=500_000),
            rig.MeterSpec("m2", "u2", rig.TOU_TWD, credit_minor=500_000),
        ],
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    ingest = handlers["IngestTelemetry"]
    opening: dict[str, str | None] = {"m1": rig.OPENING_KWH, "m2": rig.OPENING_KWH}
    first = run_in_task(
        task_dir, stack.env(), [{"handler": ingest, "event": rig.event(bus, 1, start, opening)}]
    )
    assert sorted(first["answers"][0]["settled"]) == ["m1", "m2"]
    # WHEN a fresh container ingests the bus's next message, a minute later
    later: dict[str, str | None] = {"m1": "100.010", "m2": "100.010"}
    steady = rig.event(bus, 2, start + timedelta(minutes=1), later)
    ran = run_in_task(task_dir, stack.env(), [{"handler": ingest, "event": steady}])
    # THEN it stored both readings and settled nothing (a steady message)
    answer = ran["answers"][0]
    assert (answer["status"], answer["accepted"], answer["settled"]) == ("stored", 2, [])
    # and it imported no pydantic and no tariff model, pricing or bill module
    loaded = ran["modules"]
    assert [m for m in loaded if m.split(".")[0] in PYDANTIC] == []
    assert [m for m in loaded if m in PRICING] == []
