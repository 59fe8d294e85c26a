"""Named shadows and the relays: where a relay is switched.

One named shadow per meter (`meter-<meterId>`) on the gateway's thing. The cloud writes
`state.desired`; this module applies it through `MeterBus.set_relay` (which writes, reads back
and retries a bounded number of times), then reports the actual state and any failure in
`state.reported`. It also opens a relay by itself when the cloud is unreachable and the meter
passes the offline cutoff outside friendly hours (see enforcement.py).

Everything that must survive a restart (the last desired state, the command applied, a local
cut, a report not yet delivered) is in the RelayStateStore on disk, saved before acting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from meter_gateway.enforcement import (
    DesiredDoc,
    RelayStateStore,
    judge,
    parse_desired,
)
from meter_gateway.errors import ShadowDocumentError, TransportError
from meter_gateway.telemetry import format_energy_kwh
from meter_gateway.transport.base import CloudTransport

if TYPE_CHECKING:
    from meter_gateway.bus import MeterBus, MeterConfig, MeterSample, RelayResult

log = logging.getLogger(__name__)

SHADOW_PREFIX = "meter-"
MAX_ERROR_CHARS = 200
REASON_LOCAL_CUTOFF = "credit_exhausted_offline"


def shadow_name(meter_id: str) -> str:
    return f"{SHADOW_PREFIX}{meter_id}"


def merge_delta(desired: dict[str, Any] | None, delta: dict[str, Any]) -> dict[str, Any]:
    """Apply a shadow delta to a desired document (null deletes, like the shadow service)."""
    merged = dict(desired or {})
    for key, value in delta.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class RelayController:
    def __init__(
        self,
        *,
        meters: Sequence[MeterConfig],
        bus: MeterBus,
        transport: CloudTransport,
        store: RelayStateStore,
        bus_lock: asyncio.Lock,
        shadow_timeout_ms: int,
        offline_after_ms: int,
        reassert_interval_ms: int = 60_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.meters = {m.meter_id: m for m in meters if m.relay is not None}
        self.bus = bus
        self.transport = transport
        self.store = store
        self.bus_lock = bus_lock
        self.shadow_timeout_ms = shadow_timeout_ms
        self.offline_after_ms = offline_after_ms
        self.reassert_interval_ms = reassert_interval_ms
        self.clock = clock
        self.wake = asyncio.Event()
        self._dirty: set[str] = set()
        self._refresh: set[str] = set(self.meters)
        self._offline_since: float | None = clock()  # unknown at start counts as offline
        self._was_connected = False
        self._last_import: dict[str, Decimal] = {}
        self._last_reassert: dict[str, float] = {}
        # meter id -> the command whose relay write the device refused. Drift repair does
        # not send it again on a timer (the device would refuse it again); a new command
        # from the cloud, or a restart with a corrected profile, tries again.
        self._refused: dict[str, str] = {}
        transport.on_delta(self._on_delta)

    # --- cloud side: desired state in ------------------------------------------------------

    def _meter_of(self, name: str) -> str | None:
        if not name.startswith(SHADOW_PREFIX):
            return None
        meter_id = name[len(SHADOW_PREFIX) :]
        return meter_id if meter_id in self.meters else None

    def _on_delta(self, name: str, state: dict[str, Any], version: int | None) -> None:
        meter_id = self._meter_of(name)
        if meter_id is None:
            return
        record = self.store.get(meter_id)
        if version is not None and record.version is not None and version <= record.version:
            return
        # The delta omits deleted keys and unchanged ones: take it now (the link may drop any
        # moment) and confirm with a full get.
        merged = merge_delta(record.desired, state)
        self._refresh.add(meter_id)
        try:
            parse_desired(merged)
        except ShadowDocumentError:
            self.wake.set()
            return
        self._accept_desired(meter_id, merged, version)
        self.wake.set()

    def _accept_desired(self, meter_id: str, desired: dict[str, Any], version: int | None) -> None:
        record = self.store.get(meter_id)
        if version is not None:
            record.version = version
        if desired == record.desired:
            return
        record.desired = desired
        self.store.save()
        self._dirty.add(meter_id)
        log.info("meter %s: new desired state %s", meter_id, desired)

    async def refresh(self) -> None:
        """Read the full shadow of every meter that needs it (start, reconnect, after deltas)."""
        for meter_id in sorted(self._refresh):
            if not self.transport.connected:
                return
            try:
                doc = await self.transport.get_shadow(shadow_name(meter_id), self.shadow_timeout_ms)
            except TransportError as exc:
                log.warning("meter %s: shadow get failed: %s", meter_id, exc)
                return
            self._refresh.discard(meter_id)
            desired = ((doc or {}).get("state") or {}).get("desired")
            if desired is None:
                continue
            version = (doc or {}).get("version")
            try:
                parse_desired(desired)
            except ShadowDocumentError as exc:
                self._report(
                    meter_id, power=None, cmd=None, source="cloud", reason=None, error=str(exc)
                )
                continue
            self._accept_desired(meter_id, desired, version if isinstance(version, int) else None)

    # --- the link ---------------------------------------------------------------------------

    def observe_link(self) -> bool:
        """Track link changes; True when the link just came back (refresh everything)."""
        now = self.clock()
        connected = self.transport.connected
        came_back = connected and not self._was_connected
        self._was_connected = connected
        if connected:
            self._offline_since = None
        elif self._offline_since is None:
            self._offline_since = now
        if came_back:
            self._refresh.update(self.meters)
        return came_back

    def cloud_unreachable(self) -> bool:
        if self._offline_since is None:
            return False
        return (self.clock() - self._offline_since) * 1000 >= self.offline_after_ms

    # --- relay side -------------------------------------------------------------------------

    def _desired(self, meter_id: str) -> DesiredDoc | None:
        raw = self.store.get(meter_id).desired
        if raw is None:
            return None
        try:
            return parse_desired(raw)
        except ShadowDocumentError:
            return None

    def expected_on(self, meter_id: str) -> bool | None:
        desired = self._desired(meter_id)
        if desired is None:
            return None
        if self.store.get(meter_id).local_cut_cmd == desired.cmd:
            return False
        return desired.power == "on"

    def locally_cut(self) -> frozenset[str]:
        return frozenset(
            meter_id
            for meter_id in self.meters
            if (d := self._desired(meter_id)) is not None
            and self.store.get(meter_id).local_cut_cmd == d.cmd
        )

    def _report(
        self,
        meter_id: str,
        *,
        power: bool | None,
        cmd: str | None,
        source: str,
        reason: str | None,
        error: str | None,
    ) -> None:
        report: dict[str, Any] = {
            "power": "unknown" if power is None else ("on" if power else "off"),
            "cmd": cmd,
            "source": source,
            "reason": reason,
            "error": None if error is None else error[:MAX_ERROR_CHARS],
            "at": int(self.clock()),
        }
        last = self._last_import.get(meter_id)
        if last is not None and (kwh := format_energy_kwh(last)) is not None:
            report["kwh"] = kwh
        record = self.store.get(meter_id)
        record.pending_report = report
        self.store.save()
        self.wake.set()

    async def _set_relay(self, meter_id: str, on: bool) -> RelayResult:
        result = await self.bus.set_relay(self.meters[meter_id], on)
        desired = self._desired(meter_id)
        if getattr(result, "refused", False) and not result.ok and desired is not None:
            self._refused[meter_id] = desired.cmd
        elif result.ok:
            self._refused.pop(meter_id, None)
        return result

    async def apply_desired(self) -> None:
        """Apply every new desired state; holds the bus between poll cycles."""
        for meter_id in sorted(self._dirty):
            self._dirty.discard(meter_id)
            desired = self._desired(meter_id)
            record = self.store.get(meter_id)
            if desired is None:
                continue
            lifted = record.local_cut_cmd is not None and (
                record.local_cut_cmd != desired.cmd
                or _cutoff_kwh(desired) != record.local_cut_cutoff_kwh
            )
            if desired.cmd == record.applied_cmd and not lifted:
                continue
            if lifted:
                # The cloud decided again after the cut (a new command, or a new cutoff
                # after a top-up): its decision replaces the gateway's own.
                record.local_cut_cmd = None
                record.local_cut_cutoff_kwh = None
            target = self.expected_on(meter_id)
            assert target is not None
            async with self.bus_lock:
                result = await self._set_relay(meter_id, target)
            record.applied_cmd = desired.cmd
            log.info(
                "meter %s: cmd %s power %s -> ok=%s actual=%s error=%s",
                meter_id,
                desired.cmd,
                desired.power,
                result.ok,
                result.actual_on,
                result.error,
            )
            self._report(
                meter_id,
                power=result.actual_on,
                cmd=desired.cmd,
                source="cloud",
                reason=desired.reason,
                error=None if result.ok else (result.error or "relay not confirmed"),
            )

    async def after_cycle(self, samples: Sequence[MeterSample]) -> None:
        """Local enforcement and drift repair, with the bus lock held by the caller."""
        now = self.clock()
        offline = self.cloud_unreachable()
        at_utc = dt.datetime.fromtimestamp(now, tz=dt.UTC)
        for sample in samples:
            meter_id = sample.meter_id
            if meter_id not in self.meters or not sample.ok:
                continue
            import_kwh = sample.values.get("import_kwh")
            if import_kwh is not None:
                self._last_import[meter_id] = import_kwh
            desired = self._desired(meter_id)
            record = self.store.get(meter_id)
            if offline and desired is not None and record.local_cut_cmd != desired.cmd:
                decision = judge(desired, import_kwh, at_utc)
                if decision.cut:
                    record.local_cut_cmd = desired.cmd
                    record.local_cut_cutoff_kwh = _cutoff_kwh(desired)
                    self.store.save()  # the cut holds across a restart even if the write fails
                    result = await self._set_relay(meter_id, False)
                    log.warning(
                        "meter %s: cloud unreachable and %s kWh >= cutoff: relay opened (ok=%s)",
                        meter_id,
                        import_kwh,
                        result.ok,
                    )
                    self._report(
                        meter_id,
                        power=result.actual_on,
                        cmd=desired.cmd,
                        source="local_cutoff",
                        reason=REASON_LOCAL_CUTOFF,
                        error=None if result.ok else (result.error or "relay not confirmed"),
                    )
                    continue
            await self._reassert(meter_id, sample, now)

    async def _reassert(self, meter_id: str, sample: MeterSample, now: float) -> None:
        # A meter that lost power comes back with its relay in its default state.
        expected = self.expected_on(meter_id)
        if expected is None or sample.relay_on is None or sample.relay_on == expected:
            return
        desired = self._desired(meter_id)
        record = self.store.get(meter_id)
        applied = desired is not None and desired.cmd in (record.applied_cmd, record.local_cut_cmd)
        if meter_id in self._dirty or not applied:
            return  # a new command is on its way: apply_desired owns this write
        if desired is not None and self._refused.get(meter_id) == desired.cmd:
            return  # refused once for this command: the same write gets the same answer
        if (now - self._last_reassert.get(meter_id, 0.0)) * 1000 < self.reassert_interval_ms:
            return
        self._last_reassert[meter_id] = now
        result = await self._set_relay(meter_id, expected)
        log.warning(
            "meter %s: relay found %s, expected %s: rewritten", meter_id, sample.relay_on, expected
        )
        self._report(
            meter_id,
            power=result.actual_on,
            cmd=desired.cmd if desired else None,
            source="local_cutoff" if record.local_cut_cmd else "cloud",
            reason=REASON_LOCAL_CUTOFF
            if record.local_cut_cmd
            else (desired.reason if desired else None),
            error=None if result.ok else (result.error or "relay not confirmed"),
        )

    async def flush_reports(self) -> None:
        """Deliver owed reports (latest per meter) while the link is up."""
        for meter_id in sorted(self.meters):
            record = self.store.get(meter_id)
            report = record.pending_report
            if report is None:
                continue
            if not self.transport.connected:
                return
            try:
                await self.transport.update_shadow(
                    shadow_name(meter_id), {"state": {"reported": report}}, self.shadow_timeout_ms
                )
            except TransportError as exc:
                log.warning("meter %s: shadow report failed: %s", meter_id, exc)
                return
            if record.pending_report is report:
                record.pending_report = None
                self.store.save()

    async def sync_once(self) -> None:
        """One round of the shadow loop: link bookkeeping, reads, relay writes, reports."""
        self.observe_link()
        await self.refresh()
        await self.apply_desired()
        await self.flush_reports()


def _cutoff_kwh(desired: DesiredDoc) -> str | None:
    return None if desired.cutoff is None else desired.cutoff.kwh
