"""Least privilege is measured at botocore's entry point; ingest's steady path bypasses
botocore (the lean client, chalicelib/data/wire), so both recorders hook the client too:
a call through it is seen with its IAM action and table, as a botocore call would be."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from chalicelib.data.wire import ConnectionFailedError, Credentials, DynamoWire
from tests.infra.aws_calls import iam_requests, recorded_actions
from tests.infra.iam_usage import UsageRecorder


def _unreachable_wire() -> DynamoWire:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return DynamoWire(
        "powerlet-local",
        "ap-northeast-1",
        f"http://127.0.0.1:{port}",
        Credentials("a", "b"),
        max_attempts=1,
    )


def _query(wire: DynamoWire) -> None:
    with pytest.raises(ConnectionFailedError):  # recorded before it is sent
        wire.query({"TableName": "powerlet-local", "KeyConditionExpression": "x"})


def test_recorded_actions_see_the_wire_client() -> None:
    with recorded_actions() as actions:
        _query(_unreachable_wire())
    assert actions == {"dynamodb:Query"}


def test_the_usage_recorder_sees_the_wire_client(tmp_path: Path) -> None:
    recorder = UsageRecorder(tmp_path, lambda: None)
    seen: list[tuple[Any, ...]] = []
    recorder.note = lambda *args: seen.append(args[:4])  # type: ignore[method-assign]
    original = DynamoWire.call
    recorder.install()
    try:
        _query(_unreachable_wire())
    finally:
        recorder.uninstall()

    assert DynamoWire.call is original
    assert [s[:3] for s in seen] == [("dynamodb", "ap-northeast-1", "Query")]
    service, region, operation, params = seen[0]
    assert iam_requests(service, operation, params, region) == [
        (
            "dynamodb:Query",
            "arn:aws:dynamodb:ap-northeast-1:123456789012:table/powerlet-local",
        )
    ]
