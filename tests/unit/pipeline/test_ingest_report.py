"""The one log line and the metrics of a message (``Ingest._report``) are what they were
before its keys were trimmed for CPU (issue 19): GIVEN any result, THEN the JSON line holds
the same keys, values and order, and the same metrics are added, as the former
``_report`` (kept here as the reference) writes for it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import observability
from chalicelib.pipeline import ingest as ingest_module
from chalicelib.pipeline.ingest import Ingest, IngestResult, _sentence
from tests.log_lines import app_log_lines


class Metrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, str, float]] = []

    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None:
        self.added.append((name, str(unit), value))


def reference_report(metrics: Metrics, result: IngestResult) -> None:
    """``Ingest._report`` as it was at stop 25."""
    counts = (
        (ingest_module.ACCEPTED_METRIC, result.accepted),
        (ingest_module.HELD_METRIC, result.held),
        (ingest_module.DEAD_LETTERED_METRIC, result.dead_lettered),
        (ingest_module.DUPLICATE_METRIC, int(result.status == "duplicate")),
    )
    for name, value in counts:
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    observability.logger.info(
        "%s",
        # the sentence itself is unchanged but for taking the cycle's text
        _sentence(result, result.cycle_at.isoformat() if result.cycle_at else None),
        outcome=result.status,
        reason=result.reason,
        gateway=result.gateway_id,
        cycle_at=result.cycle_at.isoformat() if result.cycle_at else None,
        accepted=result.accepted,
        held=result.held,
        dead_lettered=result.dead_lettered,
        deferred=result.deferred,
        buckets=result.buckets,
        settled=len(result.settled),
        charged_minor=result.charged_minor,
        currency=result.currency,
        commands=len(result.commands),
    )


@pytest.fixture(scope="module")
def logged() -> Iterator[io.StringIO]:
    with app_log_lines() as buffer:
        yield buffer


def line_of(buffer: io.StringIO, report: Callable[[], None]) -> list[tuple[str, Any]]:
    """The one line ``report`` writes, its keys and values in order, less where and when
    it was written (the buffer emptied first: a reason may hold any character)."""
    buffer.seek(0)
    buffer.truncate()
    report()
    record = json.loads(buffer.getvalue())
    return [(k, v) for k, v in record.items() if k not in ("location", "timestamp")]


results = st.builds(
    IngestResult,
    status=st.sampled_from(["stored", "duplicate", "dead_letter"]),
    reason=st.none() | st.text(max_size=30),
    settled=st.lists(st.sampled_from(["m1", "m2"]), max_size=3),
    commands=st.lists(st.just("c1"), max_size=2),
    buckets=st.integers(0, 2),
    deferred=st.booleans(),
    accepted=st.integers(0, 40),
    held=st.integers(0, 3),
    dead_lettered=st.integers(0, 3),
    gateway_id=st.none() | st.sampled_from(["gw-1", "gw-tpe-2"]),
    cycle_at=st.none() | st.datetimes(timezones=st.just(UTC), min_value=datetime(2020, 1, 1)),
    charged_minor=st.integers(0, 10**6),
    currency=st.none() | st.sampled_from(["TWD", "GBP", "JPY"]),
)


@settings(max_examples=200, deadline=None)
@given(result=results)
def test_the_line_and_the_metrics_are_the_former_ones(
    logged: io.StringIO, result: IngestResult
) -> None:
    observability.logger.set_correlation_id("gw-1/sp/7")
    before, after = Metrics(), Metrics()
    expected = line_of(logged, lambda: reference_report(before, result))
    ingest = Ingest.__new__(Ingest)
    ingest._metrics = after  # type: ignore[assignment]
    assert line_of(logged, lambda: ingest._report(result)) == expected
    assert after.added == before.added
