"""The durable spool: order, bounds, thinning to hourly, counters, and kill -9 of a writer."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_gateway.errors import SpoolError
from meter_gateway.spool import HOUR_MS, Spool

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
T0_MS = 1_764_288_000_000 - (1_764_288_000_000 % HOUR_MS)


def _payload(seq: int, _stats, size: int = 100) -> bytes:
    return json.dumps({"s": seq, "pad": "x" * size}).encode()


def _seqs(spool: Spool) -> list[int]:
    return [c.seq for c in spool.peek(1_000)]


def test_cycles_replay_in_order_and_ack_forgets_them(tmp_path):
    # GIVEN a spool with five cycles
    spool = Spool(tmp_path / "s.db", max_cycles=100, max_bytes=1_000_000)
    for i in range(5):
        spool.append(T0_MS + i * 10_000, 3, _payload)
    # WHEN the first two are acknowledged
    spool.ack(2)
    # THEN the rest come back oldest first, payloads intact
    pending = spool.peek(10)
    assert [c.seq for c in pending] == [3, 4, 5]
    assert json.loads(pending[0].payload)["s"] == 3
    assert spool.stats().pending_cycles == 3


def test_sequence_numbers_survive_reopening(tmp_path):
    # GIVEN a spool that stored three cycles, all acknowledged, then closed
    path = tmp_path / "s.db"
    spool = Spool(path, max_cycles=100, max_bytes=1_000_000)
    for i in range(3):
        spool.append(T0_MS + i, 1, _payload)
    spool.ack(3)
    spool_id = spool.spool_id
    spool.close()
    # WHEN it is reopened and a cycle appended
    again = Spool(path, max_cycles=100, max_bytes=1_000_000)
    # THEN the sequence continues and the spool id is the same
    assert again.append(T0_MS + 5, 1, _payload) == 4
    assert again.spool_id == spool_id


def test_payload_builder_sees_the_counters_before_its_cycle(tmp_path):
    # GIVEN a spool holding two unacknowledged cycles
    spool = Spool(tmp_path / "s.db", max_cycles=100, max_bytes=1_000_000)
    seen = []
    for i in range(3):
        spool.append(T0_MS + i, 1, lambda seq, stats: seen.append(stats) or _payload(seq, stats))
    # THEN the third cycle's message reports two pending cycles
    assert seen[2].pending_cycles == 2


def test_full_spool_thins_old_hours_to_one_cycle_before_dropping(tmp_path):
    # GIVEN a spool bounded at 30 cycles, filled with three hours of 10 cycles (2 meters each)
    spool = Spool(tmp_path / "s.db", max_cycles=30, max_bytes=10_000_000)
    for hour in range(3):
        for i in range(10):
            spool.append(T0_MS + hour * HOUR_MS + i * 60_000, 2, _payload)
    # WHEN one more cycle arrives in hour 3
    spool.append(T0_MS + 3 * HOUR_MS, 2, _payload)
    # THEN only the oldest hour was thinned, to its last cycle (seq 10), and nothing dropped
    assert _seqs(spool) == [10, *range(11, 32)]
    stats = spool.stats()
    assert stats.thinned_readings == 9 * 2
    assert stats.dropped_readings == 0
    assert stats.pending_cycles == 22


def test_when_every_hour_is_already_thin_the_oldest_cycle_is_dropped_and_counted(tmp_path):
    # GIVEN a spool of 3 cycles, each alone in its hour
    spool = Spool(tmp_path / "s.db", max_cycles=3, max_bytes=10_000_000)
    for hour in range(3):
        spool.append(T0_MS + hour * HOUR_MS, 4, _payload)
    # WHEN a fourth arrives
    spool.append(T0_MS + 3 * HOUR_MS, 4, _payload)
    # THEN the oldest is dropped and its 4 readings counted
    assert _seqs(spool) == [2, 3, 4]
    assert spool.stats().dropped_readings == 4
    assert spool.stats().thinned_readings == 0


def test_the_newest_hour_is_never_thinned(tmp_path):
    # GIVEN a spool whose cycles all fall within the current hour
    spool = Spool(tmp_path / "s.db", max_cycles=5, max_bytes=10_000_000)
    for i in range(6):
        spool.append(T0_MS + i * 1_000, 1, _payload)
    # THEN the oldest was dropped (counted), the rest keep full resolution
    assert _seqs(spool) == [2, 3, 4, 5, 6]
    assert spool.stats().dropped_readings == 1


def test_byte_bound_is_enforced(tmp_path):
    # GIVEN a spool bounded at 1 000 payload bytes and ~200 byte cycles, one per hour
    spool = Spool(tmp_path / "s.db", max_cycles=1_000, max_bytes=1_000)
    for hour in range(20):
        spool.append(T0_MS + hour * HOUR_MS, 1, _payload)
    # THEN the stored bytes never exceed the bound
    assert spool.pending_bytes() <= 1_000
    assert spool.stats().dropped_readings == 20 - spool.stats().pending_cycles


def test_a_cycle_larger_than_the_whole_spool_is_refused(tmp_path):
    spool = Spool(tmp_path / "s.db", max_cycles=10, max_bytes=1_000)
    with pytest.raises(SpoolError):
        spool.append(T0_MS, 1, lambda seq, stats: b"x" * 2_000)
    # AND the refused cycle did not burn a sequence number
    assert spool.append(T0_MS, 1, _payload) == 1


@settings(max_examples=25, deadline=None)
@given(
    gaps_ms=st.lists(st.integers(0, 2 * HOUR_MS), min_size=1, max_size=60),
    max_cycles=st.integers(2, 20),
)
def test_bounds_hold_and_every_reading_is_accounted_for(tmp_path_factory, gaps_ms, max_cycles):
    # GIVEN any arrival pattern and bound
    spool = Spool(tmp_path_factory.mktemp("p") / "s.db", max_cycles=max_cycles, max_bytes=10**7)
    t = T0_MS
    for gap in gaps_ms:
        t += gap
        spool.append(t, 3, _payload)
    stats = spool.stats()
    seqs = _seqs(spool)
    # THEN the bound holds, order holds, the newest cycle is kept
    assert stats.pending_cycles == len(seqs) <= max_cycles
    assert seqs == sorted(seqs) and seqs[-1] == len(gaps_ms)
    # AND every reading is either pending, thinned or dropped: none vanishes uncounted
    assert 3 * len(seqs) + stats.thinned_readings + stats.dropped_readings == 3 * len(gaps_ms)


def test_kill_9_of_a_writer_mid_write_loses_nothing_acknowledged(tmp_path):
    # GIVEN a process appending cycles as fast as it can, printing each acknowledged seq
    path = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": str(REPO / "greengrass_component")}
    writer = subprocess.Popen(
        [sys.executable, str(HERE / "spool_writer.py"), str(path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    acked = []
    try:
        assert writer.stdout is not None
        while len(acked) < 300:
            line = writer.stdout.readline()
            assert line, "writer died early"
            acked.append(int(line))
    finally:
        # WHEN it is killed with SIGKILL in the middle of its next writes
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    rest = writer.stdout.read() if writer.stdout else ""
    acked += [int(x) for x in rest.split()]
    # THEN reopening the spool finds every acknowledged cycle, intact and in order
    spool = Spool(path, max_cycles=1_000_000, max_bytes=1024**3)
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT seq, payload FROM cycles ORDER BY seq").fetchall()
    seqs = [seq for seq, _ in stored]
    assert seqs[: len(acked)] == acked == list(range(1, len(acked) + 1))
    assert all(json.loads(payload)["s"] == seq for seq, payload in stored)
    # AND the next sequence number follows the last stored one (none reused)
    assert spool.append(T0_MS, 1, _payload) == seqs[-1] + 1
