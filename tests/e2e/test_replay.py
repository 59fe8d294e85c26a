"""Telemetry replayed three times, shuffled, with malformed messages mixed in, changes
nothing: ledger and stored readings stay those of the clean run; the malformed messages are
dead-lettered with their reasons."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.data.models import GatewayUsage

from .conftest import SETTLEMENT_PERIOD_S, Running
from .mqtt_clients import device, observer
from .portfolio import COMPANY, thing_of, unit
from .probes import Probe, wait_for

GATEWAY = "gw-replay"
CLEAN_CYCLES = 2 * SETTLEMENT_PERIOD_S  # at 1 s polling: at least one settlement inside
SETTLE_S = 30.0


def test_replayed_shuffled_and_malformed_telemetry_changes_nothing(running: Running) -> None:
    probe, system = running.probe, running.system
    topic = f"powerlet/gw/{thing_of(GATEWAY)}/telemetry"
    # GIVEN a clean run of gw-replay, its telemetry captured off the broker
    captured: list[bytes] = []
    lock = threading.Lock()
    client = observer(system, "e2e-replayer")
    client.on_message = lambda _c, _u, msg: _keep(captured, lock, msg.payload)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    client.subscribe(topic, qos=1)
    assert subscribed.wait(10), "no SUBACK"
    try:
        wait_for("clean cycles", lambda: len(captured) >= CLEAN_CYCLES, 4 * CLEAN_CYCLES)
        system.stop_gateway(GATEWAY)
        clean = [json.loads(p) for p in list(captured)]
        keys = {(m["sid"], m["s"]) for m in clean}
        wait_for(
            "the clean run stored",
            lambda: keys <= {(str(c.spool_id), int(c.seq)) for c in probe.cycles(GATEWAY)},
            SETTLE_S,
        )
        before = _stable_records(probe)
        assert any(e[1] == "consumption_charge" for e in before["ledger"]), "nothing settled"
        probe.dead_letters()  # start from an empty queue

        # WHEN it is replayed three times, shuffled, with malformed messages mixed in, over
        # the gateway's own certificate (as the Greengrass nucleus's second connection: the
        # policy and ingest take only the gateway's clients, and <thing>#2 is one)
        malformed = _malformed(clean[0])
        replay = [p for p in captured for _ in range(3)] + malformed[:-1]
        random.Random(4).shuffle(replay)
        replay.append(malformed[-1])  # last: once it is dead-lettered, the rest was routed
        replayer = device(system, thing_of(GATEWAY), f"{thing_of(GATEWAY)}#2")
        try:
            for payload in replay:
                replayer.publish(topic, payload, qos=1).wait_for_publish(5)
        finally:
            replayer.loop_stop()
            replayer.disconnect()

        # THEN the malformed ones are in the dead-letter queue, each with a reason
        wanted = {base64.b64encode(p).decode() for p in malformed}
        seen: dict[str, str] = {}

        def all_dead_lettered() -> bool:
            for letter in probe.dead_letters():
                raw = (letter.get("event") or {}).get("raw")
                if raw in wanted:
                    seen[raw] = str(letter.get("reason") or "")
            return set(seen) == wanted

        wait_for("the malformed messages dead-lettered", all_dead_lettered, SETTLE_S)
        assert all(seen.values()), f"a dead letter without a reason: {seen}"
        # ... and the ledger and the stored readings are those of the clean run
        assert _stable_records(probe) == before
    finally:
        client.loop_stop()
        client.disconnect()


def _keep(captured: list[bytes], lock: threading.Lock, payload: bytes | bytearray) -> None:
    with lock:
        captured.append(bytes(payload))


def _malformed(sample: dict[str, Any]) -> list[bytes]:
    nonce = uuid.uuid4().hex
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    no_meters = {k: v for k, v in sample.items() if k != "m"} | {"sid": nonce, "t": now_ms}
    other_thing = sample | {"g": "powerlet-someone-else", "sid": nonce, "s": 1, "t": now_ms}
    bad_reading = sample | {"sid": nonce, "s": 2, "t": now_ms}
    bad_reading["m"] = [dict(sample["m"][0], ie="lots")]
    return [
        f"not json {nonce}".encode(),
        json.dumps(no_meters).encode(),
        json.dumps(other_thing).encode(),
        json.dumps(bad_reading).encode(),
        f"{{truncated {nonce}".encode(),
    ]


def _records(probe: Probe) -> dict[str, Any]:
    ledger = []
    accounts = []
    for unit_id in ("u-r1", "u-r2"):
        spec = unit(unit_id)
        ledger += [
            (e.entry_id, str(e.entry_kind), int(e.amount_minor)) for e in probe.entries(spec)
        ]
        account = probe.account(spec)
        accounts.append((int(account.balance_minor), str(account.settled_kwh)))
    cycles = [
        (str(c.sk), int(c.seq), int(c.cycle_at_ms), json.dumps(c.rows))
        for c in probe.cycles(GATEWAY)
    ]
    far_past, far_future = datetime(2000, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
    usage = [
        (str(u.sk), json.dumps(u.energy, sort_keys=True))
        for u in probe.telemetry.usage_between(COMPANY, GATEWAY, far_past, far_future)
        if isinstance(u, GatewayUsage)
    ]
    return {"ledger": sorted(ledger), "accounts": accounts, "cycles": cycles, "usage": usage}


def _stable_records(probe: Probe) -> dict[str, Any]:
    """The records once two reads a second apart agree (a message may still be finishing)."""
    last: dict[str, Any] = {}

    def settled() -> dict[str, Any] | None:
        nonlocal last
        now = _records(probe)
        agreed = now if now == last else None
        last = now
        if agreed is None:
            time.sleep(1.0)
        return agreed

    return wait_for("records to settle", settled, SETTLE_S)
