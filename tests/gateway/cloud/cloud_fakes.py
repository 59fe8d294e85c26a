"""Test doubles for the cloud side: a MeterBus that keeps its meters in memory.

The types come from meter_gateway.bus (the real interface) when it exists, otherwise from
identical local copies, so these tests never depend on the other engineer's progress.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

try:
    from meter_gateway.bus import (
        MeterConfig,
        MeterDiagnostics,
        MeterSample,
        RelayLink,
        RelayResult,
    )
except ImportError:  # pragma: no cover - until bus.py lands

    @dataclass(frozen=True)
    class RelayLink:  # type: ignore[no-redef]
        address: int
        profile: str
        channel: int = 0

    @dataclass(frozen=True)
    class MeterConfig:  # type: ignore[no-redef]
        meter_id: str
        address: int
        profile: str
        relay: RelayLink | None

    @dataclass(frozen=True)
    class MeterSample:  # type: ignore[no-redef]
        meter_id: str
        ok: bool
        values: Mapping[str, Decimal]
        relay_on: bool | None
        read_at_ms: int
        latency_ms: int
        error: str | None

    @dataclass
    class MeterDiagnostics:  # type: ignore[no-redef]
        successes: int
        timeouts: int
        crc_errors: int
        exception_codes: dict[int, int]
        last_latency_ms: int | None
        consecutive_failures: int
        online: bool

    @dataclass(frozen=True)
    class RelayResult:  # type: ignore[no-redef]
        meter_id: str
        requested_on: bool
        actual_on: bool | None
        ok: bool
        attempts: int
        error: str | None


__all__ = [
    "Clock",
    "FakeBus",
    "FakeMeter",
    "FakeTransport",
    "MeterConfig",
    "MeterDiagnostics",
    "MeterSample",
    "RelayLink",
    "RelayResult",
    "ShadowBook",
    "meter_config",
]


def meter_config(meter_id: str, address: int, relay: bool = True) -> MeterConfig:
    link = RelayLink(address=address, profile="dds238") if relay else None
    return MeterConfig(meter_id=meter_id, address=address, profile="dds238", relay=link)


@dataclass
class FakeMeter:
    import_kwh: Decimal = Decimal("100.000")
    relay_on: bool = True
    online: bool = True
    relay_stuck: bool = False  # the relay ignores writes (welded contact, broken coil)
    relay_refuses: bool = False  # the meter answers the write with exception 03 (bad key)
    relay_writes: list[bool] = field(default_factory=list)
    serial: str | None = None  # reported in the next sample only (as a due read would)


class FakeBus:
    """Implements the MeterBus protocol over in-memory meters."""

    def __init__(self, meters: dict[str, FakeMeter]) -> None:
        self.meters = meters
        self._diag: dict[str, MeterDiagnostics] = {}
        self.polls = 0
        self.serials_read_again: list[str] = []
        self.connected = False

    async def connect(self) -> None:
        self.connected = True

    async def close(self) -> None:
        self.connected = False

    def _diag_for(self, meter_id: str) -> MeterDiagnostics:
        return self._diag.setdefault(meter_id, MeterDiagnostics(0, 0, 0, {}, None, 0, True))

    async def poll(self, meters: Sequence[MeterConfig]) -> list[MeterSample]:
        self.polls += 1
        await asyncio.sleep(0)
        samples = []
        for cfg in meters:
            meter = self.meters[cfg.meter_id]
            diag = self._diag_for(cfg.meter_id)
            now_ms = int(time.time() * 1000)
            if not meter.online:
                diag.timeouts += 1
                diag.consecutive_failures += 1
                diag.online = False
                samples.append(MeterSample(cfg.meter_id, False, {}, None, now_ms, 300, "timeout"))
                continue
            diag.successes += 1
            diag.consecutive_failures = 0
            diag.last_latency_ms = 12
            diag.online = True
            values = {
                "import_kwh": meter.import_kwh,
                "export_kwh": Decimal("0.000"),
                "v": Decimal("230.1"),
                "a": Decimal("1.25"),
                "w": Decimal("287.6") if meter.relay_on else Decimal("0"),
                "pf": Decimal("0.98"),
                "hz": Decimal("50.01"),
            }
            relay = meter.relay_on if cfg.relay is not None else None
            sample = MeterSample(cfg.meter_id, True, values, relay, now_ms, 12, None)
            if meter.serial is not None:
                sample = dataclasses.replace(sample, serial=meter.serial)
                meter.serial = None
            samples.append(sample)
        return samples

    async def set_relay(self, meter: MeterConfig, on: bool) -> RelayResult:
        state = self.meters[meter.meter_id]
        state.relay_writes.append(on)
        if not state.online:
            return RelayResult(meter.meter_id, on, None, False, 3, "timeout")
        if state.relay_refuses:
            # as ModbusMeterBus does: not retried, and the read-back tells the state
            ok = state.relay_on == on
            return RelayResult(
                meter.meter_id, on, state.relay_on, ok, 1,
                None if ok else "refused:exception:03", True,
            )  # fmt: skip
        if not state.relay_stuck:
            state.relay_on = on
        ok = state.relay_on == on
        error = None if ok else "read-back mismatch"
        return RelayResult(meter.meter_id, on, state.relay_on, ok, 1 if ok else 3, error)

    def read_serial_again(self, meter_id: str) -> None:
        self.serials_read_again.append(meter_id)

    def diagnostics(self) -> Mapping[str, MeterDiagnostics]:
        return dict(self._diag)


# --- the shadow service, as AWS IoT runs it (enough of it for these tests) ------------------


def _merge(target: dict, patch: dict) -> dict:
    """AWS shadow merge: objects merge recursively, null deletes, anything else replaces."""
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _delta(desired: dict, reported: dict) -> dict:
    out = {}
    for key, value in desired.items():
        if key not in reported:
            out[key] = value
        elif isinstance(value, dict) and isinstance(reported[key], dict):
            sub = _delta(value, reported[key])
            if sub:
                out[key] = sub
        elif reported[key] != value:
            out[key] = value
    return out


class ShadowBook:
    """Named shadows of one thing: update/get with versions and deltas."""

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}
        self.updates: list[tuple[str, dict]] = []  # every accepted update, in order

    def get(self, name: str) -> dict | None:
        doc = self.docs.get(name)
        if doc is None:
            return None
        state = {k: doc[k] for k in ("desired", "reported") if k in doc}
        delta = _delta(doc.get("desired", {}), doc.get("reported", {}))
        if delta:
            state["delta"] = delta
        return {"state": state, "version": doc["version"], "timestamp": int(time.time())}

    def update(self, name: str, state: dict) -> tuple[dict, dict | None]:
        """Returns (accepted answer, delta message or None)."""
        doc = self.docs.setdefault(name, {"version": 0})
        for part in ("desired", "reported"):
            if part in state:
                if state[part] is None:
                    doc.pop(part, None)
                else:
                    doc[part] = _merge(doc.get(part, {}), state[part])
        doc["version"] += 1
        self.updates.append((name, state))
        accepted = {"state": state, "version": doc["version"], "timestamp": int(time.time())}
        delta = _delta(doc.get("desired", {}), doc.get("reported", {}))
        if "desired" in state and delta:
            return accepted, {"state": delta, "version": doc["version"]}
        return accepted, None

    def reported(self, name: str) -> dict | None:
        return self.docs.get(name, {}).get("reported")


class FakeTransport:
    """CloudTransport in memory: a link that can go down, a broker log, a shadow service."""

    def __init__(self) -> None:
        self.connected = True
        self.book = ShadowBook()
        self.published: list[tuple[str, bytes]] = []
        self._handlers: list = []
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def on_delta(self, handler) -> None:
        self._handlers.append(handler)

    def _check(self) -> None:
        from meter_gateway.errors import TransportUnavailableError

        if not self.connected:
            raise TransportUnavailableError("fake link down")

    async def publish(self, topic: str, payload: bytes, timeout_ms: int) -> None:
        self._check()
        await asyncio.sleep(0)
        self.published.append((topic, payload))

    async def get_shadow(self, shadow_name: str, timeout_ms: int) -> dict | None:
        self._check()
        return self.book.get(shadow_name)

    async def update_shadow(self, shadow_name: str, document: dict, timeout_ms: int) -> None:
        self._check()
        _, delta = self.book.update(shadow_name, document["state"])
        if delta is not None:
            self._deliver(shadow_name, delta)

    def _deliver(self, shadow_name: str, delta: dict) -> None:
        for handler in self._handlers:
            handler(shadow_name, delta["state"], delta["version"])

    def cloud_sets_desired(self, shadow_name: str, desired: dict) -> None:
        """What the cloud's account policy does; the delta reaches the device if linked."""
        _, delta = self.book.update(shadow_name, {"desired": desired})
        if delta is not None and self.connected:
            self._deliver(shadow_name, delta)


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
