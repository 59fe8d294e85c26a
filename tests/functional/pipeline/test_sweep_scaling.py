"""The sweeps' work per run grows with what changed, not with the fleet (issue 19).

Both sweeps read the due index (``data/deadlines.py``) and nothing else unless a
deadline fell due, so a fleet of a hundred times more idle gateways costs them not one
request more. The old full walk, measured in the same stand-in, grows with every one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.support.dynamo_meter import DynamoMeter
from bench.support.sweep_fleet import legacy_offline_walk, seed_changed, seed_idle
from chalicelib.wiring.container import Container

CHANGED = 3
DAY_1 = datetime(2031, 3, 3, 12, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=3)  # another day's partitions: day 1's leftovers are not due


def dynamo_requests(run: Callable[[], object]) -> Counter[str]:
    meter = DynamoMeter()
    meter.install()
    meter.counting = True
    try:
        run()
    finally:
        meter.uninstall()
    return Counter(meter.requests)


def sweeps(pipeline: Container, now: datetime) -> Callable[[], object]:
    def run() -> object:
        return pipeline.presence.sweep(now=now), pipeline.confirmations.sweep(now=now)

    return run


def test_sweep_requests_grow_with_changed_gateways_not_with_idle_ones(
    pipeline: Container,
) -> None:
    # GIVEN 10 idle gateways, and CHANGED of each change: a gateway connected that never
    # sent telemetry, a meter ingest found silent, a relay command nobody confirmed
    seed_idle(pipeline, 0, 10, DAY_1, with_data=False)
    seed_changed(pipeline, "small", DAY_1, CHANGED)
    walked_small = dynamo_requests(lambda: legacy_offline_walk(pipeline))
    # WHEN both sweeps run once their deadlines passed
    small = dynamo_requests(sweeps(pipeline, DAY_1 + timedelta(minutes=11)))
    # AND the fleet grows to 1,000 idle gateways, with the same changes on another day
    seed_idle(pipeline, 10, 990, DAY_2, with_data=False)
    seed_changed(pipeline, "large", DAY_2, CHANGED)
    walked_large = dynamo_requests(lambda: legacy_offline_walk(pipeline))
    large = dynamo_requests(sweeps(pipeline, DAY_2 + timedelta(minutes=11)))
    # THEN the sweeps made the same requests, one by one
    assert large == small
    # AND they did work for the changes (each change read and ended; alerts written)
    assert small["UpdateItem"] >= 3 * CHANGED and small["Query"] >= 24
    # AND the old full walk grew by (at least) two requests per idle gateway added: its
    # latest cycles and its control state
    assert sum(walked_large.values()) - sum(walked_small.values()) >= 2 * 990
