"""Metrics reach CloudWatch: whatever an invocation measured is flushed as it ends,
for routes, IoT rule targets and schedules alike (the app's middleware)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit
from chalice.test import Client

import app as app_module
from chalicelib import observability


def test_a_metric_added_by_a_handler_is_published_once_when_it_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a schedule whose work measures something
    def sweep() -> dict[str, Any]:
        observability.metrics.add_metric(name="ProbeCount", unit=MetricUnit.Count, value=3)
        return {"checked": 1}

    monkeypatch.setattr(app_module.handlers, "offline_sweep", sweep)
    capsys.readouterr()
    # WHEN the app runs it as Lambda would
    with Client(app_module.app) as client:
        tick = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        client.lambda_.invoke("offline_sweep", tick)
        client.lambda_.invoke("offline_sweep", tick)
    # THEN each invocation printed its own embedded-metric line, and nothing is left over
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    assert [line["ProbeCount"] for line in lines] == [[3.0], [3.0]]
    assert not observability.metrics.metric_set
