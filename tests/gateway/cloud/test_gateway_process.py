"""End to end, as processes: simulator (Modbus TCP) -> gateway -> mosquitto -> ingest probe.

- broker stopped for a while mid-run: every cycle arrives exactly once, in order, no gaps;
- gateway SIGKILLed mid-cycle (while offline) and restarted: nothing spooled is lost;
- cloud unreachable and credit used up: the relay opens at the cutoff, not in friendly hours,
  even across a restart while offline.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from process_rig import (
    THING,
    Gateway,
    Ingest,
    Mosquitto,
    ShadowService,
    Simulator,
    gateway_config,
    spool_contents,
    wait_until,
)

ALL_WEEK = [[d, "00:00", "24:00"] for d in range(7)]


@pytest.fixture
def rig(tmp_path):
    broker = Mosquitto(tmp_path)
    broker.start()
    sim = Simulator(tmp_path, "dds238:1-2", time_scale=3600)
    shadows = ShadowService(broker.port).start()
    ingest = Ingest(broker)
    gateway = Gateway(tmp_path, gateway_config(tmp_path, sim, broker))
    yield broker, sim, shadows, ingest, gateway
    gateway.stop()
    ingest.stop()
    shadows.stop()
    sim.stop()
    broker.stop()


def _assert_exactly_once_in_order(ingest: Ingest, produced: int) -> None:
    order = ingest.first_arrivals()
    assert order == list(range(1, produced + 1)), f"gaps or disorder: {order}"
    # A QoS 1 duplicate is the same cycle, byte for byte in meaning.
    by_seq: dict[int, dict] = {}
    for message in ingest.messages():
        assert by_seq.setdefault(message["s"], message) == message


def test_broker_outage_every_cycle_arrives_once_in_order(rig, tmp_path):
    broker, _sim, _shadows, ingest, gateway = rig
    # GIVEN a gateway publishing a cycle every 200 ms
    gateway.start()
    wait_until(lambda: len(ingest.first_arrivals()) >= 5, what="first cycles")
    # WHEN the broker is stopped for 3 s, then returns
    broker.stop()
    time.sleep(3)
    broker.start()
    # THEN the backlog is replayed and the gateway keeps up (a few more cycles after it)
    wait_until(
        lambda: (
            any(m["sp"]["n"] >= 5 for m in ingest.messages())
            and ingest.messages()[-1]["sp"]["n"] == 0
        ),
        timeout_s=20,
        what="backlog replayed",
    )
    gateway.stop()
    produced, pending = spool_contents(tmp_path / "spool.sqlite3")
    wait_until(lambda: len(ingest.first_arrivals()) >= produced - len(pending), what="last cycles")
    # AND what arrived is every cycle produced, once, in order; the rest is still spooled
    _assert_exactly_once_in_order(ingest, produced - len(pending))
    assert pending == list(range(produced - len(pending) + 1, produced + 1))
    # AND the outage really made the gateway spool: some cycles waited
    assert max(m["sp"]["n"] for m in ingest.messages()) >= 5
    # AND every message is real telemetry from the simulator
    assert all(entry["ie"] for m in ingest.messages() for entry in m["m"])


def test_sigkill_while_offline_loses_nothing_accepted_into_the_spool(rig, tmp_path):
    broker, _sim, _shadows, ingest, gateway = rig
    gateway.start()
    wait_until(lambda: len(ingest.first_arrivals()) >= 3, what="first cycles")
    # GIVEN the broker is down and cycles pile up in the spool
    broker.stop()
    spool = tmp_path / "spool.sqlite3"
    wait_until(lambda: len(spool_contents(spool)[1]) >= 10, what="spooled cycles")
    # WHEN the gateway is killed with SIGKILL in the middle of its cycles
    gateway.kill()
    accepted, pending = spool_contents(spool)
    assert len(pending) >= 10
    # AND the broker and the gateway come back
    broker.start()
    gateway.start()
    # THEN every cycle accepted before the kill arrives, once, in order, with no gap
    wait_until(lambda: len(ingest.first_arrivals()) >= accepted + 3, timeout_s=20, what="replay")
    order = ingest.first_arrivals()
    assert order[: accepted + 3] == list(range(1, accepted + 4))
    # AND the restarted gateway continued the sequence instead of restarting it
    assert len({m["sid"] for m in ingest.messages()}) == 1


def _meter_kwh(ingest: Ingest, meter_id: str) -> Decimal:
    last = ingest.messages()[-1]
    return Decimal(next(e["ie"] for e in last["m"] if e["i"] == meter_id))


def test_offline_with_credit_used_up_the_relay_opens_unless_friendly(rig, tmp_path):
    broker, sim, shadows, ingest, gateway = rig
    gateway.start()
    wait_until(lambda: len(ingest.messages()) >= 2, what="telemetry")
    # GIVEN cutoffs just above both meters' readings; flat-b is inside friendly hours all week
    cutoffs = {}
    for meter_id, weekly in (("flat-a", []), ("flat-b", ALL_WEEK)):
        cutoff = cutoffs[meter_id] = _meter_kwh(ingest, meter_id) + Decimal("0.2")
        shadows.cloud_sets_desired(
            THING,
            f"meter-{meter_id}",
            {
                "power": "on",
                "reason": "credit_ok",
                "cmd": f"cmd-{meter_id}",
                "cutoff": {
                    "kwh": str(cutoff),
                    "friendly": {"tz": "Europe/Berlin", "weekly": weekly, "holidays": []},
                },
            },
        )
    for meter_id in ("flat-a", "flat-b"):
        wait_until(
            lambda m=meter_id: (
                (shadows.reported(THING, f"meter-{m}") or {}).get("cmd") == f"cmd-{m}"
            ),
            what=f"{meter_id} applied",
        )
    # WHEN the broker goes away, and the gateway is restarted while the cloud is unreachable
    broker.stop()
    gateway.kill()
    assert sim.meter(1)["relay_on"] is True
    gateway.start()
    # THEN once the meter passes the cutoff, flat-a's relay opens, enforced from the disk state
    wait_until(lambda: sim.meter(1)["relay_on"] is False, timeout_s=20, what="flat-a cut")
    cut_at_kwh = Decimal(str(sim.meter(1)["import_kwh"]))
    # AND flat-b, past its cutoff too, keeps power: it is inside friendly hours
    wait_until(
        lambda: Decimal(str(sim.meter(2)["import_kwh"])) > cutoffs["flat-b"], what="flat-b past"
    )
    time.sleep(1)
    assert sim.meter(2)["relay_on"] is True
    # AND a cut meter stops consuming
    time.sleep(1)
    assert Decimal(str(sim.meter(1)["import_kwh"])) == cut_at_kwh
    # WHEN the cloud is back THEN the shadow says who cut flat-a, and why
    broker.start()
    wait_until(
        lambda: (shadows.reported(THING, "meter-flat-a") or {}).get("source") == "local_cutoff",
        timeout_s=20,
        what="local cut reported",
    )
    reported = shadows.reported(THING, "meter-flat-a")
    assert reported["power"] == "off" and reported["reason"] == "credit_exhausted_offline"
    assert Decimal(reported["kwh"]) >= Decimal(
        shadows.book(THING).docs["meter-flat-a"]["desired"]["cutoff"]["kwh"]
    )
    assert shadows.reported(THING, "meter-flat-b")["power"] == "on"
    # AND telemetry marks the meter as locally cut
    wait_until(
        lambda: any(e.get("lc") == 1 for e in ingest.messages()[-1]["m"] if e["i"] == "flat-a"),
        what="lc flag in telemetry",
    )
