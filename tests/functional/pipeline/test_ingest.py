"""Ingest against the stand-in: store once, bucket, settle by the tariff, refuse bad input."""

from __future__ import annotations

import base64
import random
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain import BillingPeriod, charge_for_increment, kwh
from chalicelib.pipeline.readings import latest_readings, meter_usage
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import (
    FLAT_TWD,
    T0,
    TIERED_TWD,
    TOU_TWD,
    Bus,
    MeterSpec,
    event,
    make_bus,
    minutes,
    raw_event,
)

pytestmark = pytest.mark.functional


def two_meter_bus(pipeline: Container) -> Bus:
    return make_bus(
        pipeline.ledger,
        [MeterSpec("m-a", "u-a", FLAT_TWD), MeterSpec("m-b", "u-b", TIERED_TWD)],
    )


def day_of_cycles(bus: Bus, count: int, first: int = 1) -> list[dict[str, Any]]:
    """`count` one-minute cycles from minute `first`; m-a uses 10 Wh a minute, m-b 25 Wh."""
    return [
        event(
            bus,
            seq,
            T0 + minutes(seq),
            {"m-a": f"{100 + seq * 0.010:.3f}", "m-b": f"{100 + seq * 0.025:.3f}"},
        )
        for seq in range(first, first + count)
    ]


def ledger_of(pipeline: Container, bus: Bus, unit: str) -> list[tuple[str, int]]:
    entries = pipeline.ledger.entries(bus.company_id, bus.accounts[unit], limit=500)
    return sorted((e.entry_id, int(e.amount_minor)) for e in entries)


def snapshot(pipeline: Container, bus: Bus) -> dict[str, Any]:
    usage = pipeline.telemetry.usage_between(
        bus.company_id, bus.gateway_id, T0 - timedelta(days=1), T0 + timedelta(days=1)
    )
    return {
        "ledger": {u: ledger_of(pipeline, bus, u) for u in ("u-a", "u-b")},
        "balances": {
            u: pipeline.ledger.balance_minor(bus.company_id, bus.accounts[u])
            for u in ("u-a", "u-b")
        },
        "usage": [(u.sk, dict(u.energy)) for u in usage],
        "cycles": len(
            list(
                pipeline.telemetry.cycles_between(
                    bus.company_id, bus.gateway_id, T0, T0 + timedelta(days=1)
                )
            )
        ),
    }


def test_happy_path_stores_buckets_and_settles_exactly_by_tariff(pipeline: Container) -> None:
    # GIVEN a bus with a flat and a tiered prepaid meter WHEN 70 minutes of cycles arrive
    bus = two_meter_bus(pipeline)
    results = [handlers.ingest_telemetry(e) for e in day_of_cycles(bus, 70)]
    # THEN every cycle is stored once
    assert {r["status"] for r in results} == {"stored"}
    # AND 15-minute buckets were written as they closed, summing to the register's advance
    usage = list(
        pipeline.telemetry.usage_between(bus.company_id, bus.gateway_id, T0, T0 + minutes(70))
    )
    assert len(usage) == 4  # 01:00..01:45 closed; 02:00-02:10 is still open
    # readings at minutes 1..59 are in closed buckets: 58 intervals of 10 Wh
    assert sum(kwh(u.energy["m-a"]) for u in usage) == kwh("0.580")
    # AND consumption was settled per hour (first reading, then 02:00), not per reading
    flat_entries = [e for e in ledger_of(pipeline, bus, "u-a") if e[0].startswith("cons:")]
    assert len(flat_entries) == 2
    # AND the money matches the tariff exactly: 0.600 kWh from the opening reading at 5 TWD
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-a"])
    assert account.settled_kwh == "100.600"
    assert int(account.balance_minor) == 10_000 - 300
    # AND the tiered meter's charges telescope to the one-shot charge of its settled usage
    tiered = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-b"])
    used = kwh(tiered.settled_kwh) - kwh("100.000")
    from chalicelib.domain import parse_tariff

    expected = charge_for_increment(
        parse_tariff(TIERED_TWD),
        BillingPeriod(T0.date().replace(day=1), T0.date().replace(month=12, day=1)),
        kwh("0"),
        used,
        on_day=T0.date(),
    )
    assert int(tiered.balance_minor) == 10_000 - expected.amount_minor
    # AND the latest reading and a meter's chart series come from the bus's items
    latest = latest_readings(pipeline.telemetry, bus.company_id, bus.gateway_id)
    assert str(latest["m-a"].import_kwh) == "100.700"
    series = meter_usage(
        pipeline.telemetry, bus.company_id, bus.gateway_id, "m-b", T0, T0 + minutes(70)
    )
    assert [kwh(e) for _, e in series] == [kwh("0.325"), kwh("0.375"), kwh("0.375"), kwh("0.375")]
    # AND the stored balance still equals the sum of its entries
    assert pipeline.ledger.derive_balance(bus.company_id, bus.accounts["u-b"]).consistent


def test_duplicates_replays_and_shuffles_change_nothing(pipeline: Container) -> None:
    # GIVEN a clean run of 30 cycles across an hour and two bucket boundaries
    clean = two_meter_bus(pipeline)
    for e in day_of_cycles(clean, 30, first=45):
        handlers.ingest_telemetry(e)
    expected = snapshot(pipeline, clean)
    # WHEN another bus gets the same cycles duplicated, replayed three times, then shuffled
    noisy = two_meter_bus(pipeline)
    cycles = day_of_cycles(noisy, 30, first=45)
    statuses = [handlers.ingest_telemetry(e)["status"] for e in cycles]
    for e in cycles[:10]:
        statuses.append(handlers.ingest_telemetry(e)["status"])  # QoS 1 duplicates
    for _ in range(3):
        replay = list(cycles)
        random.Random(7).shuffle(replay)
        statuses.extend(handlers.ingest_telemetry(e)["status"] for e in replay)
    # THEN only the first copy of each message was stored
    assert statuses.count("stored") == 30
    # AND ledger, balances, usage and cycles are identical to the clean run (ids aside)
    got = snapshot(pipeline, noisy)

    def anonymous(snap: dict[str, Any]) -> dict[str, Any]:
        return {**snap, "ledger": {u: [a for _, a in e] for u, e in snap["ledger"].items()}}

    assert anonymous(got) == anonymous(expected)


def test_out_of_order_arrival_gives_the_same_money_and_buckets(pipeline: Container) -> None:
    # GIVEN 30 cycles delivered in order on one bus and fully shuffled on another
    ordered, shuffled = two_meter_bus(pipeline), two_meter_bus(pipeline)
    for e in day_of_cycles(ordered, 30, first=45):
        handlers.ingest_telemetry(e)
    cycles = day_of_cycles(shuffled, 30, first=45)
    random.Random(3).shuffle(cycles)
    for e in cycles:
        handlers.ingest_telemetry(e)
    # WHEN a final in-order cycle closes the last hour on both
    late = T0 + minutes(125)
    for bus in (ordered, shuffled):
        handlers.ingest_telemetry(event(bus, 500, late, {"m-a": "101.250", "m-b": "103.125"}))
    # THEN balances are identical (cumulative registers make order irrelevant to money)
    for unit in ("u-a", "u-b"):
        a = pipeline.ledger.balance_minor(ordered.company_id, ordered.accounts[unit])
        b = pipeline.ledger.balance_minor(shuffled.company_id, shuffled.accounts[unit])
        assert a == b

    # AND every closed bucket sums to the same total
    def total(bus: Bus) -> Any:
        usage = pipeline.telemetry.usage_between(bus.company_id, bus.gateway_id, T0, late)
        return sum(kwh(u.energy.get("m-a", "0")) for u in usage)

    assert total(ordered) == total(shuffled)


def tou_register(minute: int) -> str:
    """Heavy use (50 Wh a minute) until 12:00 in Taipei (T0 + 180 min), then 5 Wh a minute."""
    wh = 100_000 + 50 * min(minute, 180) + 5 * max(minute - 180, 0)
    return f"{wh / 1000:.3f}"


def test_a_tou_settlement_waits_for_a_cycle_overtaken_by_the_next(pipeline: Container) -> None:
    # GIVEN two time-of-use buses fed the same cycles every 10 minutes across the
    # 12:00 peak boundary (minute 180, also an hour's settlement boundary); on one,
    # the cycle of minute 180 arrives after the one of minute 190, which makes
    # settlement due
    in_order = list(range(100, 261, 10))
    overtaken = [m for m in in_order if m != 180]
    overtaken.insert(overtaken.index(190) + 1, 180)
    ordered, late = (make_bus(pipeline.ledger, [MeterSpec("m-t", "u-t", TOU_TWD)]) for _ in "ab")
    for bus, order in ((ordered, in_order), (late, overtaken)):
        for m in order:
            seq = (m - 100) // 10 + 1
            handlers.ingest_telemetry(event(bus, seq, T0 + minutes(m), {"m-t": tou_register(m)}))
    # THEN both accounts are charged exactly the same: the late bus did not split the
    # merged 170-190 interval over the bands by time while 180 was on its way
    balances = [
        pipeline.ledger.get_account(bus.company_id, bus.accounts["u-t"]) for bus in (ordered, late)
    ]
    assert balances[0].settled_kwh == balances[1].settled_kwh == tou_register(240)
    assert int(balances[0].balance_minor) == int(balances[1].balance_minor)
    assert int(balances[0].balance_minor) < 10_000


def test_a_tou_gap_that_never_fills_is_priced_after_an_hour(pipeline: Container) -> None:
    # GIVEN a time-of-use bus whose cycle at minute 170 never arrives (a spool that thinned)
    bus = make_bus(pipeline.ledger, [MeterSpec("m-t", "u-t", TOU_TWD)])
    for m in (150, 190, 200):
        seq = (m - 100) // 10 + 1
        handlers.ingest_telemetry(event(bus, seq, T0 + minutes(m), {"m-t": tou_register(m)}))
    held = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-t"])
    # THEN settlement stops before the gap while the missing cycle could still come
    assert held.settled_kwh == tou_register(150)
    # WHEN more than an hour has passed since the cycle after the gap
    handlers.ingest_telemetry(event(bus, 12, T0 + minutes(300), {"m-t": tou_register(300)}))
    # THEN the gap is taken as final and everything is settled
    done = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-t"])
    assert done.settled_kwh == tou_register(300)
    assert pipeline.ledger.derive_balance(bus.company_id, bus.accounts["u-t"]).consistent


def test_malformed_and_oversized_messages_go_to_the_dead_letter_queue(
    pipeline: Container, dead_letters: Any
) -> None:
    # GIVEN a bus and a mix of bad messages around a good one
    bus = two_meter_bus(pipeline)
    bad = [
        raw_event(b"not json at all", bus.thing_name, T0),
        {"raw": "!!!not-base64!!!", "thing_name": bus.thing_name, "client_id": bus.thing_name},
        raw_event(b'{"v": 1, "g": "x"}', bus.thing_name, T0),
        raw_event(b"{" + b" " * (70 * 1024) + b"}", bus.thing_name, T0),
        event(bus, 3, T0, {"m-a": "100.5"}),  # kWh needs exactly 3 decimals
        "not even an object",
    ]
    good = event(bus, 1, T0, {"m-a": "100.000", "m-b": "100.000"})
    # WHEN they are ingested
    outcomes = [handlers.ingest_telemetry(e) for e in [*bad[:3], good, *bad[3:]]]
    # THEN the good one is stored and every bad one is dead-lettered with its reason
    assert [o["status"] for o in outcomes].count("stored") == 1
    letters = dead_letters()
    reasons = [letter["reason"] for letter in letters]
    assert len(letters) == len(bad)
    assert any("not JSON" in r for r in reasons)
    assert any("not base64" in r for r in reasons)
    assert any("schema telemetry.v1" in r and "required" in r for r in reasons)
    assert any("larger than" in r for r in reasons)
    assert any("m/0/ie" in r for r in reasons)
    assert all(letter["source"] == "ingest_telemetry" for letter in letters)


def test_meters_of_another_gateway_are_refused_and_untouched(
    pipeline: Container, dead_letters: Any
) -> None:
    # GIVEN two buses; the second one's meter is m-b of another company
    mine, other = two_meter_bus(pipeline), two_meter_bus(pipeline)
    before = pipeline.ledger.balance_minor(other.company_id, other.accounts["u-a"])
    # WHEN my gateway's message claims a meter id that is not on my bus, and the topic
    # says another thing than the payload
    claim = event(
        mine, 1, T0, {"m-a": "100.000"}, extra_meters=[{"i": "m-zz", "dt": 1, "ie": "9.000"}]
    )
    spoof = event(mine, 2, T0, {"m-a": "100.000"}, thing=other.thing_name)
    results = [handlers.ingest_telemetry(claim), handlers.ingest_telemetry(spoof)]
    # THEN the foreign meter is refused with a reason, my own meter is still stored
    assert results[0]["status"] == "stored"
    assert results[1]["status"] == "dead_letter"
    reasons = [letter["reason"] for letter in dead_letters()]
    assert any("m-zz" in r and mine.gateway_id in r for r in reasons)
    assert any("is not the topic's" in r for r in reasons)
    # AND nothing of the other bus changed
    assert pipeline.ledger.balance_minor(other.company_id, other.accounts["u-a"]) == before
    assert not pipeline.telemetry.latest_cycles(other.company_id, other.gateway_id)


def test_a_cycle_published_by_another_gateways_client_changes_nothing(
    pipeline: Container, dead_letters: Any
) -> None:
    # GIVEN gateways A and B, and A's first cycles stored (A's settlement cursor is set)
    a, b = two_meter_bus(pipeline), two_meter_bus(pipeline)
    for cycle in day_of_cycles(a, 3):
        assert handlers.ingest_telemetry(cycle)["status"] == "stored"
    before = snapshot(pipeline, a)
    # WHEN a cycle that would close buckets and settle an hour of A's meters arrives on
    # A's topic, naming A in its payload, but published by B's MQTT client
    forged = event(a, 90, T0 + minutes(90), {"m-a": "150.000", "m-b": "150.000"})
    outcome = handlers.ingest_telemetry(forged | {"client_id": b.thing_name})
    # THEN it is dead-lettered with a reason naming the client and the gateway it claimed
    assert outcome["status"] == "dead_letter"
    [letter] = dead_letters()
    assert repr(b.thing_name) in letter["reason"] and repr(a.thing_name) in letter["reason"]
    assert letter["event"]["client_id"] == b.thing_name
    # AND nothing changed: no cycle stored, no bucket, no money
    assert snapshot(pipeline, a) == before
    # (the same cycle from A itself would have changed all three)
    assert handlers.ingest_telemetry(forged)["status"] == "stored"
    assert snapshot(pipeline, a)["cycles"] == before["cycles"] + 1


def test_the_nucleus_numbered_connection_is_the_gateway(pipeline: Container) -> None:
    # GIVEN a gateway whose Greengrass nucleus published over its second connection
    bus = two_meter_bus(pipeline)
    cycle = event(bus, 1, T0, {"m-a": "100.000", "m-b": "100.000"})
    # WHEN ingested THEN it is the gateway's cycle
    outcome = handlers.ingest_telemetry(cycle | {"client_id": f"{bus.thing_name}#2"})
    assert outcome["status"] == "stored"
    assert snapshot(pipeline, bus)["cycles"] == 1


def test_a_cycle_without_a_client_id_is_refused(pipeline: Container, dead_letters: Any) -> None:
    # GIVEN a cycle whose event carries no MQTT client id (clientid() undefined or n/a)
    bus = two_meter_bus(pipeline)
    cycle = event(bus, 1, T0, {"m-a": "100.000", "m-b": "100.000"})
    undefined = {k: v for k, v in cycle.items() if k != "client_id"}
    # WHEN ingested THEN both are refused with the reason, and nothing is stored
    outcomes = [handlers.ingest_telemetry(e) for e in (undefined, cycle | {"client_id": "n/a"})]
    assert [o["status"] for o in outcomes] == ["dead_letter", "dead_letter"]
    letters = dead_letters()
    assert len(letters) == 2 and all("no MQTT client id" in x["reason"] for x in letters)
    assert snapshot(pipeline, bus)["cycles"] == 0


def test_base64_payload_event_shape_matches_the_rule(pipeline: Container) -> None:
    # GIVEN the rule's event shape WHEN decoded THEN the payload round-trips
    bus = two_meter_bus(pipeline)
    e = event(bus, 1, T0, {"m-a": "100.000"})
    assert base64.b64decode(e["raw"]).startswith(b"{")
    assert handlers.ingest_telemetry(e)["status"] == "stored"


def test_a_bucket_after_a_silent_bucket_starts_from_the_reading_before_the_gap(
    pipeline: Container,
) -> None:
    # GIVEN a bus that reads every minute for 20 minutes, falls silent for half an hour
    # (no cycle in the 01:30 bucket) and reads again from minute 50 to 80
    bus = two_meter_bus(pipeline)
    cycles = day_of_cycles(bus, 20) + day_of_cycles(bus, 31, first=50)
    # WHEN every cycle arrives in order
    assert {handlers.ingest_telemetry(e)["status"] for e in cycles} == {"stored"}
    # THEN the closed buckets (01:00, 01:15, 01:45, 02:00) hold every interval that ended
    # in them, the gap's 30 minutes included: readings 1..74 advance 73 x 10 Wh
    usage = list(
        pipeline.telemetry.usage_between(bus.company_id, bus.gateway_id, T0, T0 + minutes(75))
    )
    assert len(usage) == 4
    assert sum(kwh(u.energy["m-a"]) for u in usage) == kwh("0.730")
    # AND the gap's energy is in the bucket where the interval ended (its first reading)
    after_gap = next(u for u in usage if u.bucket_start == T0 + minutes(45))
    assert kwh(after_gap.energy["m-a"]) == kwh("0.390")  # 20 -> 50, then 9 more minutes
