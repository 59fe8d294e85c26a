"""The durable on-disk spool of telemetry cycles (SQLite in WAL mode).

Every cycle goes through the spool, online or not: `append` returns only after the cycle is
committed with synchronous=FULL (the WAL is fsynced), and that commit is the moment a cycle
counts as "taken". A publisher then sends the oldest cycles first and deletes them once the
broker acknowledged them (`ack`). A crash between publish and ack re-sends the cycle: the
receiver dedups by (sid, s). Sequence numbers are allocated in the same transaction that
stores the cycle, so they survive restarts and never repeat within one spool.

Bound and policy (explicit, in this order), applied before a new cycle is stored:
1. While the spool holds more than `max_cycles` cycles or `max_bytes` payload bytes, thin the
   oldest clock hour that still holds more than one cycle down to its last cycle (the last one
   carries the highest cumulative kWh, which is what billing needs). The cycles removed this
   way are counted in `thinned_readings` (one per meter reading they held).
2. Only when every stored hour already holds a single cycle, drop the oldest cycle, counted in
   `dropped_readings`.
Both counters are cumulative for the life of the spool and travel in every telemetry message.
The newest hour is never thinned, so a short outage never loses resolution.

One process owns a spool at a time (the gateway); the counters live in the database so a
reader after a crash sees the same numbers.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from meter_gateway.errors import SpoolCorruptError, SpoolError
from meter_gateway.telemetry import SpoolStats

log = logging.getLogger(__name__)

SPOOL_FORMAT = 1
HOUR_MS = 3_600_000
BUSY_TIMEOUT_MS = 5_000
MAX_PEEK = 1_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS cycles (
    seq INTEGER PRIMARY KEY,
    taken_at_ms INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    size INTEGER NOT NULL,
    payload BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS cycles_by_time ON cycles (taken_at_ms);
"""
_COUNTERS = ("next_seq", "count", "bytes", "thinned_readings", "dropped_readings")


@dataclass(frozen=True)
class SpooledCycle:
    seq: int
    payload: bytes


# Builds the payload for a given sequence number, with the spool's state before this cycle.
PayloadBuilder = Callable[[int, SpoolStats], bytes]


class Spool:
    def __init__(self, path: str | Path, *, max_cycles: int, max_bytes: int) -> None:
        if max_cycles < 1 or max_bytes < 1:
            raise SpoolError("spool bounds must be positive")
        self.path = Path(path)
        self.max_cycles = max_cycles
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = self._connect()
        self.spool_id = self._meta("spool_id")

    # --- opening -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(
                self.path,
                isolation_level=None,  # explicit BEGIN/COMMIT only
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,  # callers serialise through self._lock
            )
        except sqlite3.Error as exc:
            raise SpoolError(f"{self.path}: cannot open the spool: {exc}") from exc
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise SpoolError(f"{self.path}: cannot switch to WAL (got {mode})")
            # FULL: the WAL is fsynced at every commit, so a committed cycle survives power loss.
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.executescript(_SCHEMA)
            self._init_meta(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise SpoolCorruptError(f"{self.path}: not a usable spool database: {exc}") from exc
        except BaseException:
            db.close()
            raise
        return db

    def _init_meta(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if not rows:
                initial = {"format": str(SPOOL_FORMAT), "spool_id": secrets.token_hex(8)}
                initial |= {name: "0" for name in _COUNTERS}
                initial["next_seq"] = "1"
                db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", initial.items())
            elif rows.get("format") != str(SPOOL_FORMAT):
                raise SpoolCorruptError(f"{self.path}: spool format {rows.get('format')!r} unknown")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @classmethod
    def open_or_recover(cls, path: str | Path, *, max_cycles: int, max_bytes: int) -> Spool:
        """Open the spool; a corrupt file is moved aside (kept for forensics) and a new one made.

        The new spool gets a new spool id, so the cloud sees that sequence numbers restarted.
        """
        try:
            return cls(path, max_cycles=max_cycles, max_bytes=max_bytes)
        except SpoolCorruptError:
            target = Path(path)
            aside = target.with_name(f"{target.name}.corrupt-{int(time.time())}")
            log.exception(
                "spool %s is corrupt; moving it to %s and starting a new one", target, aside
            )
            for suffix in ("", "-wal", "-shm"):
                src = Path(f"{target}{suffix}")
                if src.exists():
                    src.rename(Path(f"{aside}{suffix}"))
            return cls(path, max_cycles=max_cycles, max_bytes=max_bytes)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- helpers -----------------------------------------------------------------------

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise SpoolCorruptError(f"{self.path}: meta key {key} missing")
        return str(row[0])

    def _counter(self, key: str) -> int:
        return int(self._meta(key))

    def _add(self, key: str, delta: int) -> None:
        self._db.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT) WHERE key = ?",
            (delta, key),
        )

    def _stats(self) -> SpoolStats:
        return SpoolStats(
            pending_cycles=self._counter("count"),
            thinned_readings=self._counter("thinned_readings"),
            dropped_readings=self._counter("dropped_readings"),
        )

    def _delete_where(self, where: str, params: tuple[int, ...], counter: str | None) -> int:
        count, size, readings = self._db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(readings), 0) "  # noqa: S608
            f"FROM cycles WHERE {where}",
            params,
        ).fetchone()
        if count:
            self._db.execute(f"DELETE FROM cycles WHERE {where}", params)  # noqa: S608
            self._add("count", -count)
            self._add("bytes", -size)
            if counter is not None:
                self._add(counter, readings)
        return int(count)

    def _thin_oldest_hour(self) -> bool:
        newest = self._db.execute("SELECT MAX(taken_at_ms) FROM cycles").fetchone()[0]
        if newest is None:
            return False
        row = self._db.execute(
            "SELECT taken_at_ms / ? AS hour, MAX(seq) FROM cycles WHERE taken_at_ms / ? < ? "
            "GROUP BY hour HAVING COUNT(*) > 1 ORDER BY hour LIMIT 1",
            (HOUR_MS, HOUR_MS, newest // HOUR_MS),
        ).fetchone()
        if row is None:
            return False
        hour, keep_seq = row
        removed = self._delete_where(
            "taken_at_ms / ? = ? AND seq <> ?", (HOUR_MS, hour, keep_seq), "thinned_readings"
        )
        log.warning("spool full: thinned hour %s to one cycle (%d cycles removed)", hour, removed)
        return removed > 0

    def _drop_oldest(self) -> bool:
        oldest = self._db.execute("SELECT MIN(seq) FROM cycles").fetchone()[0]
        if oldest is None:
            return False
        self._delete_where("seq = ?", (oldest,), "dropped_readings")
        log.error("spool full even at hourly resolution: dropped cycle seq %d", oldest)
        return True

    def _make_room(self, size: int) -> None:
        while (
            self._counter("count") + 1 > self.max_cycles
            or self._counter("bytes") + size > self.max_bytes
        ):
            if not (self._thin_oldest_hour() or self._drop_oldest()):
                raise SpoolError(f"a {size} byte cycle cannot fit in a {self.max_bytes} byte spool")

    # --- the API -----------------------------------------------------------------------

    def append(self, taken_at_ms: int, readings: int, build: PayloadBuilder) -> int:
        """Store one cycle durably and return its sequence number (the acknowledgement)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    seq = self._counter("next_seq")
                    payload = build(seq, self._stats())
                    self._make_room(len(payload))
                    self._db.execute(
                        "INSERT INTO cycles (seq, taken_at_ms, readings, size, payload) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (seq, taken_at_ms, readings, len(payload), payload),
                    )
                    self._add("next_seq", 1)
                    self._add("count", 1)
                    self._add("bytes", len(payload))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise SpoolError(f"{self.path}: cannot store a cycle: {exc}") from exc
        return seq

    def peek(self, limit: int) -> list[SpooledCycle]:
        """The oldest cycles not yet acknowledged by the broker, oldest first."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT seq, payload FROM cycles ORDER BY seq LIMIT ?",
                    (max(1, min(limit, MAX_PEEK)),),
                ).fetchall()
            except sqlite3.Error as exc:
                raise SpoolError(f"{self.path}: cannot read cycles: {exc}") from exc
        return [SpooledCycle(seq=int(seq), payload=bytes(payload)) for seq, payload in rows]

    def ack(self, up_to_seq: int) -> int:
        """Forget every cycle with seq <= up_to_seq (the broker has them)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    removed = self._delete_where("seq <= ?", (up_to_seq,), None)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise SpoolError(f"{self.path}: cannot acknowledge cycles: {exc}") from exc
        return removed

    def stats(self) -> SpoolStats:
        with self._lock:
            return self._stats()

    def pending_bytes(self) -> int:
        with self._lock:
            return self._counter("bytes")
