"""Each event and scheduled function's own Lambda entry (``chalicelib/lambdas``) does what
the app's middleware does around it, and there is one for every such function."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import lambdas, observability
from deploy.inventory import app_functions, entry_handler


def test_an_entry_publishes_what_each_invocation_measured_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a scheduled function's entry whose work measures something
    def sweep() -> dict[str, Any]:
        observability.metrics.add_metric(name="ProbeCount", unit=MetricUnit.Count, value=2)
        return {"checked": 1}

    handler = lambdas.on_schedule(sweep)
    capsys.readouterr()
    # WHEN Lambda invokes it twice
    answers = [handler({"detail-type": "Scheduled Event"}, None) for _ in range(2)]
    # THEN each invocation printed its own embedded-metric line, and nothing is left over
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    assert [line["ProbeCount"] for line in lines] == [[2.0], [2.0]]
    assert answers == [{"checked": 1}, {"checked": 1}]
    assert not observability.metrics.metric_set


def test_a_failed_invocation_still_publishes_and_raises() -> None:
    # GIVEN an event function's entry whose work measures, then fails
    def ingest(event: dict[str, Any]) -> None:
        observability.metrics.add_metric(name="ProbeCount", unit=MetricUnit.Count, value=1)
        raise ValueError(event["why"])

    handler = lambdas.on_event(ingest, trace_aws_calls=False)
    # WHEN it runs  THEN Lambda sees the error, and the metric was flushed anyway
    with pytest.raises(ValueError, match="bad message"):
        handler({"why": "bad message"}, None)
    assert not observability.metrics.metric_set


@pytest.mark.parametrize(
    "spec",
    [s for s in app_functions() if s.kind in {"event", "schedule"}],
    ids=lambda s: s.name,
)
def test_every_event_and_scheduled_function_has_a_callable_entry(spec: Any) -> None:
    # GIVEN the Handler the template gives the function
    handler = entry_handler(spec)
    assert handler is not None
    module_name, attribute = handler.rsplit(".", 1)
    # WHEN its module is imported  THEN it holds a Lambda handler (event, context)
    assert callable(getattr(importlib.import_module(module_name), attribute))
