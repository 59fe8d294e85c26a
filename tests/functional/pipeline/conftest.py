"""Pipeline tests: a fresh Container per test, and a reader of the dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings
from local_aws.stack import LocalStack


@pytest.fixture()
def pipeline(settings: Settings, demo: dict[str, object]) -> Iterator[Container]:
    # A fresh Container per test: its catalogue cache starts empty, like a cold container.
    # Hourly settlement so an hour of cycles shows the period trigger.
    svc = Container(replace(settings, settlement_period_h=1))
    with using(svc):
        yield svc


@pytest.fixture()
def dead_letters(standin: LocalStack) -> Any:
    """Drain the queue first so a test sees only its own dead letters."""
    assert standin.resources is not None
    sqs = boto3.client("sqs")
    url = standin.resources.dead_letter_queue_url

    def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _ in range(10):
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                break
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    read()
    return read
