"""The gateway's main loop: poll the bus, spool the cycle, publish in order, sync shadows.

Three tasks share one event loop:
- poll: every `poll_interval_ms`, read the whole bus, let the relay controller enforce the
  offline cutoff, encode one telemetry message and commit it to the spool;
- publish: send the oldest spooled cycles (a small window in flight), delete them on PUBACK;
- shadows: refresh desired states, switch relays, deliver reports.
Where a reading enters: `_poll_once`; where a relay is switched: `shadows.RelayController`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from meter_gateway.config import GatewayConfig
from meter_gateway.enforcement import RelayStateStore
from meter_gateway.errors import SpoolError, TransportError
from meter_gateway.shadows import RelayController
from meter_gateway.spool import Spool
from meter_gateway.telemetry import CycleInput, SpoolStats, encode_cycle
from meter_gateway.transport.base import CloudTransport

if TYPE_CHECKING:
    from meter_gateway.bus import MeterBus, MeterConfig, MeterSample

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0
PUBLISH_RETRY_S = 1.0
SHADOW_TICK_S = 1.0


class GatewayService:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        thing_name: str,
        bus: MeterBus,
        meters: Sequence[MeterConfig],
        transport: CloudTransport,
        spool: Spool,
        store: RelayStateStore,
        clock: Callable[[], float] = time.time,
        profile_versions: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.thing_name = thing_name
        self.topic = config.topics.telemetry.replace("{thing}", thing_name)
        self.bus = bus
        self.meters = list(meters)
        self.transport = transport
        self.spool = spool
        self.clock = clock
        self.bus_lock = asyncio.Lock()
        self.controller = RelayController(
            meters=self.meters,
            bus=bus,
            transport=transport,
            store=store,
            bus_lock=self.bus_lock,
            shadow_timeout_ms=config.cloud.shadow_timeout_ms,
            offline_after_ms=config.cloud.offline_after_ms,
            clock=clock,
        )
        self._spooled = asyncio.Event()
        # meter id -> error of its last failed read; one log line per change, not per cycle
        self._silent: dict[str, str] = {}
        self.cycles = 0
        self.published = 0
        # Which map each meter is read with, in every message (`pv`), for the cloud.
        self.profile_versions = dict(profile_versions or {})

    # --- poll ----------------------------------------------------------------------------

    def _log_answer_changes(self, samples: Sequence[MeterSample]) -> None:
        for sample in samples:
            was = self._silent.get(sample.meter_id)
            if sample.ok and was is not None:
                del self._silent[sample.meter_id]
                log.info("meter %s answers again", sample.meter_id)
            elif not sample.ok and sample.error != was and sample.error != "offline":
                self._silent[sample.meter_id] = sample.error or "unknown"
                log.warning("meter %s does not answer: %s", sample.meter_id, sample.error)

    async def _poll_once(self) -> int:
        started_ms = int(self.clock() * 1000)
        async with self.bus_lock:
            samples = await self.bus.poll(self.meters)
            self._log_answer_changes(samples)
            self.controller.observe_link()
            await self.controller.after_cycle(samples)
        cycle = CycleInput(
            thing_name=self.thing_name,
            spool_id=self.spool.spool_id,
            cycle_started_ms=started_ms,
            cycle_duration_ms=int(self.clock() * 1000) - started_ms,
            samples=samples,
            diagnostics=dict(self.bus.diagnostics()),
            spool=SpoolStats(0, 0, 0),
            locally_cut=self.controller.locally_cut(),
            profile_versions=self.profile_versions,
        )

        left_out: set[str] = set()

        def build(seq: int, stats: SpoolStats) -> bytes:
            encoded = encode_cycle(dataclasses.replace(cycle, spool=stats), seq)
            left_out.update(encoded.serials_left_out)
            return encoded.payload

        seq = await asyncio.to_thread(self.spool.append, started_ms, len(samples), build)
        for meter_id in left_out:  # a serial that did not fit is read again next cycle
            self.bus.read_serial_again(meter_id)
        self.cycles += 1
        self._spooled.set()
        return seq

    async def poll_loop(self) -> None:
        interval_s = self.config.poll_interval_ms / 1000
        next_at = time.monotonic()
        while True:
            try:
                await self._poll_once()
            except SpoolError:
                # The disk is the only place a cycle may wait; without it, say so loudly and go on
                # polling so the relays stay enforced.
                log.exception("cycle lost: the spool refused it")
            next_at += interval_s
            delay = next_at - time.monotonic()
            if delay < 0:
                log.warning("poll cycle overran its interval by %.0f ms", -delay * 1000)
                next_at = time.monotonic()
                delay = 0
            await asyncio.sleep(delay)

    # --- publish -------------------------------------------------------------------------

    async def _wait_spooled(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._spooled.wait(), timeout_s)
        self._spooled.clear()

    async def publish_once(self) -> int:
        """Send one window of the oldest cycles; ack the prefix that got a PUBACK."""
        batch = await asyncio.to_thread(self.spool.peek, self.config.spool.publish_window)
        if not batch:
            return 0
        timeout_ms = self.config.cloud.publish_timeout_ms
        # Tasks start in creation order, so the publishes hit the wire in sequence order.
        tasks = [
            asyncio.ensure_future(self.transport.publish(self.topic, c.payload, timeout_ms))
            for c in batch
        ]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        acked = 0
        for cycle, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, TransportError):
                    raise result
                log.info("publish of seq %d failed: %s", cycle.seq, result)
                break
            acked = cycle.seq
        if acked:
            await asyncio.to_thread(self.spool.ack, acked)
            self.published += sum(1 for c in batch if c.seq <= acked)
        if acked != batch[-1].seq:
            raise TransportError("part of the window was not acknowledged")
        return len(batch)

    async def publish_loop(self) -> None:
        while True:
            if not self.transport.connected:
                await self._wait_spooled(IDLE_WAIT_S)
                continue
            try:
                sent = await self.publish_once()
            except TransportError:
                await asyncio.sleep(PUBLISH_RETRY_S)
                continue
            except SpoolError:
                log.exception("spool unreadable; retrying")
                await asyncio.sleep(PUBLISH_RETRY_S)
                continue
            if sent == 0:
                await self._wait_spooled(IDLE_WAIT_S)

    # --- shadows -------------------------------------------------------------------------

    async def shadow_loop(self) -> None:
        while True:
            try:
                await self.controller.sync_once()
            except TransportError as exc:
                log.warning("shadow sync: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.controller.wake.wait(), SHADOW_TICK_S)
            self.controller.wake.clear()

    # --- all of it -----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await self.bus.connect()
        await self.transport.start()
        tasks = [
            asyncio.create_task(self.poll_loop(), name="poll"),
            asyncio.create_task(self.publish_loop(), name="publish"),
            asyncio.create_task(self.shadow_loop(), name="shadows"),
        ]
        stopper = asyncio.create_task(stop.wait(), name="stop")
        try:
            done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper:
                    task.result()  # a loop that ended on its own is a bug: surface it
        finally:
            for task in [*tasks, stopper]:
                task.cancel()
            await asyncio.gather(*tasks, stopper, return_exceptions=True)
            await self.transport.stop()
            await self.bus.close()
            self.spool.close()
