"""Every AWS client the pipeline uses can be injected (no network in this test)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.wiring.container import Container
from chalicelib.wiring.settings import Settings


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((name, kwargs))
            return {}

        return call


def test_injected_clients_are_the_ones_used() -> None:
    # GIVEN services with every pipeline client injected
    clients = {name: Recorder() for name in ("iot-data", "sqs", "ses", "sns")}
    services = Container(
        Settings(table_name="powerlet-unit", dead_letter_queue_url="http://q"),
        clients=dict(clients),
    )
    # WHEN the pipeline's adapters act
    services.shadows.write_desired(
        "thing-1", "m1", {"power": "off", "reason": "manual_off", "cmd": "c1"}
    )
    services.dead_letters.send("bad", "ingest_telemetry", {"x": 1})
    # THEN the injected clients received the calls, with the AWS call shapes
    ((name, kwargs),) = clients["iot-data"].calls
    assert name == "update_thing_shadow" and kwargs["shadowName"] == "meter-m1"
    ((name, kwargs),) = clients["sqs"].calls
    assert name == "send_message" and kwargs["QueueUrl"] == "http://q"
    assert services.notifier._ses is clients["ses"] and services.notifier._sns is clients["sns"]


class WireRecorder:
    """Stands in for the lean DynamoDB client (data/wire): records, answers empty."""

    table = "powerlet-injected"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def query(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("Query", payload))
        return {"Items": []}

    def put_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("PutItem", payload))
        return {}


def test_the_injected_wire_client_carries_the_steady_path() -> None:
    # GIVEN services with their lean DynamoDB client injected
    wire = WireRecorder()
    services = Container(Settings(table_name="powerlet-unit"), wire=wire)  # type: ignore[arg-type]
    # WHEN ingest's steady-path reads and writes run
    read = services.buses._items.read("co-1", "gw-1")
    stored = services.telemetry.put_cycle(
        "co-1", "gw-1", "spool", 1, datetime(2026, 12, 6, tzinfo=UTC), datetime.now(UTC), []
    )
    # THEN they went through it, to its table
    assert read.latest_cycle is None and stored
    assert [(op, p["TableName"]) for op, p in wire.calls] == [
        ("Query", "powerlet-injected"),
        ("PutItem", "powerlet-injected"),
    ]
