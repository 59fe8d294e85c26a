"""Messages per month in the reseller's usage report: every stored telemetry
message counts once, whatever duplicates, replays and late arrivals ingest sees.

Ingest counts when a 15-minute bucket is (re)written: the bucket item records
its stored cycles, the PutItem hands back the previous figure, and the month
moves by the difference. A bucket still open is counted when it closes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.data import builders
from chalicelib.data.models import Company
from chalicelib.data.usage_store import UsageCounters
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings
from tests.functional.pipeline.rig import FLAT_TWD, T0, MeterSpec, event, make_bus, minutes

from .conftest import ResellerApi, new_reseller

pytestmark = pytest.mark.functional


@pytest.fixture()
def pipeline(settings: Settings, demo: dict[str, object]) -> Iterator[Container]:
    svc = Container(settings)
    with using(svc):
        yield svc


def _cycle(bus: Any, seq: int) -> dict[str, Any]:
    """Cycle ``seq`` at minute 3 x seq: five cycles per 15-minute bucket."""
    return event(bus, seq, T0 + minutes(3 * seq), {"m-a": f"{100 + seq * 0.030:.3f}"})


def test_stored_messages_count_once_despite_duplicates_and_late_arrivals(
    pipeline: Container,
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    month = T0.strftime("%Y-%m")
    # GIVEN 12 cycles over three buckets (01:00, 01:15, 01:30), seq 3 held back to arrive late
    cycles = {seq: _cycle(bus, seq) for seq in range(1, 13)}
    statuses = [handlers.ingest_telemetry(cycles[s])["status"] for s in cycles if s != 3]
    statuses.append(handlers.ingest_telemetry(cycles[3])["status"])  # late, out of order
    # AND QoS 1 duplicates and a shuffled replay of the first six
    for seq in (2, 7, 12):
        statuses.append(handlers.ingest_telemetry(cycles[seq])["status"])
    replay = [cycles[s] for s in range(1, 7)]
    random.Random(3).shuffle(replay)
    statuses += [handlers.ingest_telemetry(e)["status"] for e in replay]
    assert statuses.count("stored") == 12 and statuses.count("duplicate") == 9
    # WHEN the next bucket's first message (01:45) closes the last of the three
    handlers.ingest_telemetry(_cycle(bus, 15))
    # THEN the month says 12: every stored message once, the open bucket not yet
    counters = UsageCounters()
    assert counters.report(bus.company_id, month).messages == 12
    # AND the message of the open bucket counts once a later one (02:00) closes it
    handlers.ingest_telemetry(_cycle(bus, 20))
    handlers.ingest_telemetry(_cycle(bus, 15))  # a duplicate of it changes nothing
    assert counters.report(bus.company_id, month).messages == 13
    # AND nothing leaked into the months around it
    assert counters.report(bus.company_id, "2026-10").messages == 0


def test_the_reseller_usage_route_reports_the_messages(pipeline: Container, client: Any) -> None:
    # GIVEN a reseller's company whose gateway sent 8 messages (and duplicates)
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    reseller = ResellerApi(client, new_reseller("rs-usage"))
    company = pipeline.catalogue.get_company(bus.company_id)
    builders.company(
        bus.company_id,
        str(company.name),
        company.created_at or datetime.now(UTC),
        reseller_id="rs-usage",
    ).save()
    assert isinstance(pipeline.catalogue.get_company(bus.company_id), Company)
    for seq in [*range(1, 9), 3, 7]:
        handlers.ingest_telemetry(_cycle(bus, seq))
    handlers.ingest_telemetry(_cycle(bus, 10))  # 01:30 closes the 01:15 bucket
    # WHEN the reseller asks for the month
    answer = reseller.call(
        "GET", f"/v1/reseller/companies/{bus.company_id}/usage/{T0.strftime('%Y-%m')}"
    )
    # THEN it says 8
    assert answer.status_code == 200, answer.body
    assert answer.json_body["messages"] == 8
