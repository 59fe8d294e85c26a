"""Ingest's steady path without PynamoDB's models, botocore or urllib3 (issue 19, cold start).

A cold container builds ingest, reads its bus item and newest cycle and stores a cycle:
the items are rows (data/rows.py) encoded and decoded from their declarations
(data/wire/codec.py), the stores load PynamoDB when a write of theirs runs
(data/lazy.py). Checked here in a fresh interpreter from the source tree, quickly; the
built zip runs a whole steady message against the stand-in the same way
(tests/infra/test_packaged_zip.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import chalicelib

FUNCTIONS_DIR = Path(chalicelib.__file__).parents[1]

STEADY_PATH = """
import json, sys
from datetime import UTC, datetime
from chalicelib.lambdas import ingest_telemetry
from chalicelib.wiring.container import Container
from chalicelib.wiring.settings import Settings
from chalicelib.data.bus_item import CYCLE_CODEC, STATE_CODEC, CatalogueParts, pack, raw_bus_read
from chalicelib.data.rows import (
    CompanyRow, GatewayRow, MeterRow, PropertyRow, TenancyRow, UnitRow,
)
from chalicelib.data.telemetry_store import _cycle_item

Container(Settings(table_name="powerlet-cold", region="ap-northeast-1")).ingest
parts = CatalogueParts(
    gateway=GatewayRow({"company_id": "co", "gateway_id": "gw", "thing_name": "t"}),
    premises=PropertyRow({"company_id": "co", "time_zone": "Asia/Taipei"}),
    company=CompanyRow({"company_id": "co", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}),
    meters=[MeterRow({"meter_id": "m1", "unit_id": "u1", "online": True})],
    units={"u1": UnitRow({"unit_id": "u1", "tariff": {"kind": "flat"}})},
    tenancies={"t1": TenancyRow({"tenancy_id": "t1", "unit_id": "u1"})},
)
at = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
state = STATE_CODEC.item(
    {"version": 2, "meters": {}, "flags": [], "context": pack(parts),
     "context_version": 1, "context_built": 1, "context_at_ms": 1, "open_conditions": {"x"}}
)
cycle = _cycle_item("co", "gw", "sp", 7, at, at, [["m1", 0, "1.000", None, 5, "on", None]])
read = raw_bus_read("co", "gw", state, CYCLE_CODEC.decode(cycle))
whole = read.context
print(json.dumps({
    "seq": read.latest_cycle.seq,
    "meter": whole.meters[0].meter_id,
    "company": whole.company.company_id,
    "open": sorted(read.open_conditions),
    "modules": sorted(sys.modules),
}))
"""


def test_the_steady_path_decodes_and_encodes_without_pynamodb_or_botocore() -> None:
    # GIVEN a fresh interpreter  WHEN it builds ingest, decodes a bus item with a packed
    # context and a cycle off the wire, and encodes a cycle, as a steady message does
    done = subprocess.run(
        [sys.executable, "-c", STEADY_PATH],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(FUNCTIONS_DIR)},
        timeout=120,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    # THEN it read what was written
    assert (answer["seq"], answer["meter"], answer["company"]) == (7, "m1", "co")
    assert answer["open"] == ["x"]
    # and imported no PynamoDB model, connection or attribute, no botocore submodule and
    # no urllib3 (botocore's package alone: Powertools imports it for its user agent)
    loaded = answer["modules"]
    assert [m for m in loaded if m.startswith(("botocore.", "urllib3"))] == []
    assert [
        m for m in loaded if m in ("pynamodb.models", "pynamodb.connection", "pynamodb.attributes")
    ] == []
