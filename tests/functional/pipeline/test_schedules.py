"""Presence, the offline sweep, reconciliation, alerts that fire once, postpaid bills."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.data import keys
from chalicelib.data.models import Account, Bill, Gateway
from chalicelib.domain import BillingPeriod, Reading, kwh, parse_tariff, postpaid_bill
from chalicelib.pipeline.presence import GATEWAY_SILENT_AFTER
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, OPENING_KWH, T0, TOU_TWD, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional


def topics(pipeline: Container, bus: Bus) -> list[str]:
    return sorted(n.topic for n in pipeline.notifier.outbox(bus.company_id, limit=100))


def presence(bus: Bus, kind: str, at: datetime, client_id: str | None = None) -> dict[str, Any]:
    return {
        "clientId": client_id or bus.thing_name,
        "timestamp": int(at.timestamp() * 1000),
        "eventType": kind,
        "sessionIdentifier": "s-1",
        "principalIdentifier": "p",
        "received_at_ms": int(at.timestamp() * 1000),
    }


def test_presence_tracks_the_newest_event_and_alerts_on_disconnect(pipeline: Container) -> None:
    # GIVEN a gateway
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    # WHEN it connects, disconnects, and a stale "connected" arrives late
    assert handlers.gateway_presence(presence(bus, "connected", T0))["status"] == "online"
    assert (
        handlers.gateway_presence(presence(bus, "disconnected", T0 + minutes(5)))["status"]
        == "offline"
    )
    assert (
        handlers.gateway_presence(presence(bus, "connected", T0 + minutes(1)))["status"] == "stale"
    )
    # THEN the gateway is offline as of the newest event, and staff were alerted once
    gateway = Gateway.get(keys.company_pk(bus.company_id), keys.gateway_sk(bus.gateway_id))
    assert gateway.online is False and gateway.last_seen_at == T0 + minutes(5)
    assert topics(pipeline, bus) == ["gateway_offline"]


def test_clients_that_are_not_gateways_are_counted_not_dead_lettered(
    pipeline: Container, dead_letters: Any
) -> None:
    # GIVEN a gateway, and MQTT clients that are plainly not gateways (a monitoring tool,
    # mosquitto_sub's generated id, the local emulation's tools)
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    others = ["ops-monitor", "auto-3F2504E0-4F89-11D3-9A0C-0305E82C3301", "e2e-replayer"]
    # WHEN each connects and disconnects
    answers = [
        handlers.gateway_presence(presence(bus, kind, T0, client_id))["status"]
        for client_id in others
        for kind in ("connected", "disconnected")
    ]
    # THEN none is looked up as a gateway, none is dead-lettered, no one is alerted
    assert answers == ["not_a_gateway"] * 6
    assert dead_letters() == []
    assert topics(pipeline, bus) == []


def test_an_unknown_client_that_claims_a_thing_name_is_dead_lettered(
    pipeline: Container, dead_letters: Any
) -> None:
    # GIVEN a client id shaped like a product thing name that is no registered gateway
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    ghost = f"{bus.thing_name}-ghost"
    # WHEN it connects THEN a person should look: a dead letter naming it
    assert handlers.gateway_presence(presence(bus, "connected", T0, ghost))["status"] == (
        "dead_letter"
    )
    assert [letter["reason"] for letter in dead_letters()] == [f"unknown client {ghost}"]


def test_a_numbered_connection_is_the_gateways(pipeline: Container, dead_letters: Any) -> None:
    # GIVEN a gateway whose nucleus opened a second connection
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    second = f"{bus.thing_name}#2"
    # WHEN that connection connects THEN the gateway is online
    assert handlers.gateway_presence(presence(bus, "connected", T0, second))["status"] == "online"
    # WHEN it closes THEN the gateway is not taken for gone (its first connection says so)
    closed = presence(bus, "disconnected", T0 + minutes(1), second)
    assert handlers.gateway_presence(closed)["status"] == "extra_connection"
    gateway = Gateway.get(keys.company_pk(bus.company_id), keys.gateway_sk(bus.gateway_id))
    assert gateway.online is True and topics(pipeline, bus) == []
    assert dead_letters() == []


def test_offline_sweep_alerts_once_for_a_silent_gateway_and_a_silent_meter(
    pipeline: Container,
) -> None:
    # GIVEN two gateways that connect at T0: A sends telemetry, B never does
    a = make_bus(
        pipeline.ledger,
        [MeterSpec("m-a", "u-a", FLAT_TWD), MeterSpec("m-b", "u-b", FLAT_TWD, tenant=False)],
    )
    b = make_bus(pipeline.ledger, [MeterSpec("m-c", "u-c", FLAT_TWD)])
    for bus in (a, b):
        assert handlers.gateway_presence(presence(bus, "connected", T0))["status"] == "online"
    # AND on A, meter m-b answers once, then times out three cycles in a row (the
    # gateway counts them: the fifth number of its dg)
    handlers.ingest_telemetry(event(a, 1, T0 + minutes(1), {"m-a": "100.010", "m-b": "50.000"}))
    for seq in (2, 3, 4):
        failed = {"i": "m-b", "dt": 100, "er": "timeout", "dg": [seq - 1, 0, 0, None, seq - 1]}
        handlers.ingest_telemetry(
            event(
                a, seq, T0 + minutes(seq), {"m-a": f"{100 + seq / 100:.3f}"}, extra_meters=[failed]
            )
        )
    # WHEN the sweep runs past the connections' deadline, twice
    first = pipeline.presence.sweep(now=T0 + minutes(11))
    second = pipeline.presence.sweep(now=T0 + minutes(12))
    # THEN B (connected, never a message) and A's silent meter are reported, once each;
    # A, which spoke, is not
    assert topics(pipeline, a) == ["meter_offline"]
    assert topics(pipeline, b) == ["gateway_offline"]
    assert first["gateways_silent"] >= 1 and first["meters_silent"] >= 1
    # AND the second run finds nothing of theirs: each deadline ended when it was handled
    assert (second["gateways_silent"], second["meters_silent"]) == (0, 0)
    # WHEN the writer that sees A's telemetry moves its deadline (ingest's seam) as the
    # last message is received, and A then falls silent while still connected
    last_received = T0 + minutes(4) + timedelta(seconds=1)
    assert pipeline.catalogue.expect_telemetry_by(
        a.company_id, a.gateway_id, last_received + GATEWAY_SILENT_AFTER
    )
    pipeline.presence.sweep(now=T0 + minutes(15))
    pipeline.presence.sweep(now=T0 + minutes(16))
    # THEN A is reported offline, once
    assert topics(pipeline, a) == ["gateway_offline", "meter_offline"]


def test_reverse_energy_and_held_readings_alert_once(pipeline: Container) -> None:
    # GIVEN a prepaid meter
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    # WHEN three cycles show export (negative power) and then the readings go backwards
    for seq in (1, 2, 3):
        handlers.ingest_telemetry(
            event(bus, seq, T0 + minutes(seq), {"m-a": "100.100"}, watts={"m-a": -300})
        )
    for seq, value in ((4, "50.000"), (5, "50.010"), (6, "50.020"), (7, "50.030")):
        handlers.ingest_telemetry(event(bus, seq, T0 + minutes(seq), {"m-a": value}))
    # THEN one reverse-energy alert and one alert for the run of held readings (at the
    # third, not the fourth), and no negative charge
    assert topics(pipeline, bus) == ["readings_held", "reverse_energy"]
    charges = [
        int(e.amount_minor) for e in pipeline.ledger.entries(bus.company_id, bus.accounts["u-a"])
    ]
    assert all(c != 0 for c in charges) and sum(c for c in charges if c > 0) == 10_000


def test_reconciliation_detects_a_tampered_balance(pipeline: Container) -> None:
    # GIVEN two accounts, one of which has its stored balance tampered with
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD), MeterSpec("m-b", "u-b", FLAT_TWD)]
    )
    Account(keys.account_pk(bus.company_id, bus.accounts["u-b"]), keys.ACCOUNT_SK).update(
        actions=[Account.balance_minor.add(1)]
    )
    # WHEN the reconciliation schedule runs
    result = handlers.reconcile()
    # THEN exactly the tampered account of this company is reported, and staff alerted
    mine = [m for m in result["mismatches"] if m["company_id"] == bus.company_id]
    assert [(m["account_id"], m["stored_minor"] - m["derived_minor"]) for m in mine] == [
        (bus.accounts["u-b"], 1)
    ]
    assert result["checked"] >= 2
    assert topics(pipeline, bus) == ["balance_mismatch"]


def test_postpaid_bill_at_period_end_is_issued_once_and_charged(pipeline: Container) -> None:
    # GIVEN a postpaid unit read through November
    bus = make_bus(
        pipeline.ledger, [MeterSpec("m-p", "u-p", FLAT_TWD, mode="postpaid", credit_minor=0)]
    )
    end = datetime(2026, 11, 30, 15, 50, tzinfo=UTC)  # 23:50 in Taipei
    # (2 kWh in the last six hours: a minute would be more than the meter can pass, held)
    handlers.ingest_telemetry(event(bus, 1, end - timedelta(hours=6), {"m-p": "110.000"}))
    handlers.ingest_telemetry(event(bus, 2, end, {"m-p": "112.000"}))
    # WHEN the property's billing job runs in December (past the day of grace), twice
    job = {
        "company_id": bus.company_id,
        "property_id": bus.property_id,
        "now": "2026-12-02T02:00:00+00:00",
    }
    first, second = handlers.bill_property(job), handlers.bill_property(job)
    # THEN one bill of 12.000 kWh x 5 TWD, charged once to the ledger
    assert first["billed"] == ["u-p"] and second["billed"] == []
    bill = Bill.get(
        keys.account_pk(bus.company_id, bus.accounts["u-p"]), keys.bill_sk("2026-11-01")
    )
    assert int(bill.total_minor) == 6000
    assert pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-p"]) == -6000


def test_a_time_of_use_bill_prices_every_reading_of_the_month(pipeline: Container) -> None:
    # GIVEN a postpaid time-of-use unit (off until 12:00 Taipei, peak after) read hourly
    # on the last evening and night of November, heavy before midnight, light after noon
    tou = make_bus(
        pipeline.ledger, [MeterSpec("m-t", "u-t", TOU_TWD, mode="postpaid", credit_minor=0)]
    )
    start = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Taipei
    readings = [("100.000", 0)]
    for hour in range(1, 15):  # until 23:00 in Taipei
        used = 2_000 if hour <= 3 else 200  # Wh in the hour: heavy until 12:00
        readings.append((f"{(int(readings[-1][0].replace('.', '')) + used) / 1000:.3f}", hour))
    for seq, (value, hour) in enumerate(readings, start=1):
        handlers.ingest_telemetry(event(tou, seq, start + timedelta(hours=hour), {"m-t": value}))
    # WHEN November is billed on December 2nd
    handlers.bill_property(
        {
            "company_id": tou.company_id,
            "property_id": tou.property_id,
            "now": "2026-12-02T02:00:00+00:00",
        }
    )
    # THEN the bill equals the domain's bill over every stored reading (interval by
    # interval, not bucket by bucket): 3 hours at the off price, the rest at peak
    bill = Bill.get(
        keys.account_pk(tou.company_id, tou.accounts["u-t"]), keys.bill_sk("2026-11-01")
    )
    bands = {line["refs"]["band"]: line for line in bill.lines if line["code"] == "energy"}
    tenancy_start = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 2026-11-01 in Taipei
    truth = [Reading(tenancy_start, kwh(OPENING_KWH))] + [
        Reading(start + timedelta(hours=h, milliseconds=100), kwh(v)) for v, h in readings
    ]
    expected = postpaid_bill(
        parse_tariff(TOU_TWD),
        BillingPeriod(date(2026, 11, 1), date(2026, 12, 1)),
        truth,
        tz="Asia/Taipei",
    )
    assert int(bill.total_minor) == sum(line.amount_minor for line in expected.lines)
    want = {
        line.refs["band"]: str(line.quantity) for line in expected.lines if line.code == "energy"
    }
    assert {band: line["quantity"] for band, line in bands.items()} == want
    # (the peak band holds the 11 light hours, the off band the heavy ones)
    assert kwh(bands["off"]["quantity"]) > kwh(bands["peak"]["quantity"])
