"""``python -m deploy redrive`` against moto's SQS: each shape of dead letter goes back to
its function with the event it was meant to carry; what cannot be re-driven stays."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deploy.redrive import Redriver, queue_name

pytestmark = pytest.mark.usefixtures("in_process_aws")

REGION = "eu-central-1"
STAGE = "prod"
TELEMETRY = b'{"v":1,"g":"pl-c1-gw1","s":7}'


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        yield sqs, sqs.create_queue(QueueName=queue_name(STAGE))["QueueUrl"]


def _send(sqs: Any, url: str, body: Any) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))


def _letters(sqs: Any, url: str) -> None:
    ingest_event = {"raw": "eyJ9", "thing_name": "pl-c1-gw1", "client_id": "pl-c1-gw1"}
    _send(
        sqs,
        url,
        {"reason": "no gateway registered", "source": "ingest_telemetry", "event": ingest_event},
    )
    _send(sqs, url, {
        "ruleName": "powerlet_prod_ingest_telemetry",
        "topic": "powerlet/gw/pl-c1-gw1/telemetry",
        "clientId": "pl-c1-gw1",
        "base64OriginalPayload": base64.b64encode(TELEMETRY).decode(),
        "failures": [{"failedAction": "LambdaAction", "errorMessage": "throttled"}],
    })  # fmt: skip
    _send(sqs, url, {
        "requestContext": {
            "functionArn": "arn:aws:lambda:eu-central-1:123456789012:function:powerlet-prod-bill_property:$LATEST",
            "condition": "RetriesExhausted",
        },
        "requestPayload": {"company_id": "c1", "property_id": "p1"},
    })  # fmt: skip
    _send(sqs, url, "not json at all")


def _remaining(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def test_each_shape_goes_back_to_its_function_and_the_unknown_stays(
    queue: tuple[Any, str],
) -> None:
    sqs, url = queue
    _letters(sqs, url)
    calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append((function, event))
        return {"FunctionError": None}

    # WHEN re-driven
    report = Redriver(sqs, url, invoke, STAGE).run(limit=100)
    # THEN ingest gets its own refusal back as it was, and the rule's failure rebuilt
    by_function: dict[str, list[dict[str, Any]]] = {}
    for function, event in calls:
        by_function.setdefault(function, []).append(event)
    ingest = by_function["powerlet-prod-ingest_telemetry"]
    assert {"raw": "eyJ9", "thing_name": "pl-c1-gw1", "client_id": "pl-c1-gw1"} in ingest
    rebuilt = next(e for e in ingest if e["raw"] != "eyJ9")
    assert base64.b64decode(rebuilt["raw"]) == TELEMETRY
    assert (rebuilt["thing_name"], rebuilt["client_id"]) == ("pl-c1-gw1", "pl-c1-gw1")
    assert rebuilt["received_at_ms"] > 1_700_000_000_000  # when SQS took the letter
    # AND the async failure goes back to the function that failed, with its payload
    assert by_function["powerlet-prod-bill_property"] == [{"company_id": "c1", "property_id": "p1"}]
    # AND the three are deleted; the letter of no known shape stays, visible
    assert len(report.redriven) == 3
    assert [why for _, why in report.kept] == ["not a known dead-letter shape"]
    assert _remaining(sqs, url) == 1
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])) == 1


def test_a_failing_invocation_keeps_the_letter(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    _send(sqs, url, {"reason": "x", "source": "ingest_telemetry", "event": {"raw": "e30="}})

    def failing(function: str, event: dict[str, Any]) -> dict[str, Any]:
        return {"FunctionError": "Unhandled", "Payload": "boom"}

    report = Redriver(sqs, url, failing, STAGE).run(limit=10)
    assert report.redriven == []
    assert "failed: boom" in report.kept[0][1]
    assert _remaining(sqs, url) == 1


def test_a_dry_run_changes_nothing(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    _letters(sqs, url)

    def never(function: str, event: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("a dry run invoked a function")

    report = Redriver(sqs, url, never, STAGE).run(limit=100, dry_run=True)
    assert report.redriven == []
    assert sum("would re-drive" in why for _, why in report.kept) == 3
    assert _remaining(sqs, url) == 4


def test_the_limit_is_bounded(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    with pytest.raises(ValueError, match="limit"):
        Redriver(sqs, url, lambda f, e: {}, STAGE).run(limit=0)
