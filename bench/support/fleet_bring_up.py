"""Bringing the fleet bench's buses to the state a first message leaves, in parallel.

``bring_up_bus`` is the serial path, one bus: its gateway and accounts written, its first
cycle stored by ``TelemetryStore.put_cycle``, its control state planned by the same
``Settler.with_due_mark`` and ``Controller.plan`` ingest runs and saved by
``TelemetryStore.save_state``, and its context packed onto the bus item by
``BusItems.store_context`` (both writes moving the silence deadline as ingest's do).

Most of a bus's set-up is this process's CPU (due marks and cut-off searches price each
meter's tariff ~20 times; ~0.3 s a bus), not the stand-in's: threads would queue on
the GIL, so ``bring_up`` runs the same function in a pool of forked processes, each with
its own container (its own botocore connection to the stand-in). The stand-in (moto's
threaded server, one process) answers them concurrently; its practical concurrency is
what the cores give it (``default_workers``).

``same_as_serial`` is the proof that the pool stores what the serial path stores: a few
buses are copied before their bring-up under another company id; the copies go through
``bring_up_bus`` in this process, the originals through the pool, and every item both
wrote is read back and compared with the company id written out of it.
"""

from __future__ import annotations

import base64
import copy
import json
import multiprocessing
import os
import re
import time
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.support.fleet_model import (
    Bus,
    CountingShadows,
    catalogue_items,
    parts_as_read,
    seeded_state,
)
from chalicelib.data import keys
from chalicelib.data.binding import shared_wire
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.deadlines import shard_of
from chalicelib.data.models import Account, Gateway, PowerletItem
from chalicelib.pipeline.context import assemble, steady_record
from chalicelib.pipeline.ingest import SILENCE_HORIZON
from chalicelib.pipeline.senders import thing_name_for
from chalicelib.pipeline.telemetry import parse_event
from chalicelib.wiring.container import Container
from chalicelib.wiring.settings import Settings

CHUNK = 8  # buses per task: small enough to keep every worker busy to the end
PROGRESS_EVERY = 100


class BringUpMismatchError(SystemExit):
    """The pool stored something the serial path would not have."""


def save_items(items: list[Any], label: str) -> None:
    for start in range(0, len(items), 5000):
        Catalogue.save_all(items[start : start + 5000])
        print(f"   {label}: {min(start + 5000, len(items))}/{len(items)} items", flush=True)


def seed(services: Container, buses: list[Bus]) -> None:
    """Catalogue, accounts and control state of buses whose first message goes through
    ingest's real first-message path (the sample)."""
    items = [item for bus in buses for item in catalogue_items(bus)]
    save_items(items, "sample seeded")
    for bus in buses:
        services.telemetry.save_state(seeded_state(bus), bus.clock - timedelta(seconds=30))


def written_items(bus: Bus, full_catalogue: bool) -> list[Any]:
    """What the bring-up writes of the bus's catalogue: the gateway and the accounts, or
    everything with ``full_catalogue`` (ingest reads the packed copy on the bus item)."""
    return [
        item
        for item in catalogue_items(bus, online=True)
        if full_catalogue or isinstance(item, (Account, Gateway))
    ]


def bring_up_bus(services: Container, bus: Bus, full_catalogue: bool) -> int:
    """The serial path for one bus (module docstring); the catalogue items it wrote. The
    context is assembled from the catalogue items as a read returns them (serialised and
    deserialised by PynamoDB, no request)."""
    items = catalogue_items(bus, online=True)
    written = [i for i in items if full_catalogue or isinstance(i, (Account, Gateway))]
    Catalogue.save_all(written)
    settler, controller, telemetry = services.settler, services.controller, services.telemetry
    parts = parts_as_read([type(i).from_raw_data(i.serialize()) for i in items])
    today = datetime.now(UTC).date()  # the day ingest assembles by
    context = assemble(parts, today)
    # The state as seeded, before the message moves the bus's clock: its cursor is the
    # account's (catalogue_items), as the sample's is. Taken after the message it sat
    # 60 s past the account's, so a bus whose next message crossed a settlement period
    # met a moved cursor (CursorMovedError: state reloaded, nothing settled) and settled
    # one message late.
    state = seeded_state(bus)
    message = parse_event(bus.message(timedelta(seconds=60)))
    now = message.received_at
    telemetry.put_cycle(
        bus.company,
        bus.gateway,
        message.spool_id,
        message.seq,
        message.cycle_at,
        now,
        [r.compact(message.cycle_at) for r in message.rows],
    )
    meters = {}
    read_at = {row.meter_id: row.read_at for row in message.rows}
    for meter_id, meter_ctx in context.meters.items():
        # at the message's reading, as ingest marks it (past a band edge: the bound)
        at = read_at.get(meter_id)
        mstate = settler.with_due_mark(context, meter_ctx, state.meter(meter_id), at)
        meters[meter_id] = controller.plan(context, meter_ctx, mstate, now).state
    silence_by = now + SILENCE_HORIZON  # as a message's bus-item writes move it
    telemetry.save_state(state.with_meters(meters), now, silence_by)
    # with the steady record ingest stores (pipeline/context.py), so a steady message of
    # a bus brought up here builds its context from it as one of the sample's does
    record = steady_record(context, parts, today)
    if not services.buses._items.store_context(
        bus.company, bus.gateway, parts, 0, now, silence_by, record
    ):
        raise SystemExit(f"bus item of {bus.company} changed during set-up")
    return len(written)


# --- the pool ---

_WORKER: dict[str, Container] = {}


def _start_worker(env: dict[str, str]) -> None:
    # A forked child must not share the parent's HTTP connections: a container of its
    # own binds the models to a new connection (data/binding.py).
    _WORKER["services"] = Container(Settings.from_env(env), clients={"iot-data": CountingShadows()})


def _bring_up_chunk(task: tuple[list[Bus], bool]) -> tuple[list[Bus], int, float]:
    buses, full_catalogue = task
    c0 = time.process_time()
    written = sum(bring_up_bus(_WORKER["services"], bus, full_catalogue) for bus in buses)
    return buses, written, time.process_time() - c0


def _chunks(buses: Sequence[Bus], size: int) -> Iterator[list[Bus]]:
    for start in range(0, len(buses), size):
        yield list(buses[start : start + size])


def bring_up(
    services: Container,
    env: dict[str, str],
    buses: list[Bus],
    full_catalogue: bool,
    workers: int,
    compare: int,
) -> dict[str, Any]:
    """Every bus of ``buses`` brought up by ``workers`` forked processes (each bus's
    messages go on from where the worker left it: the buses here are updated), and
    ``compare`` of them checked against the serial path (``same_as_serial``)."""
    started = time.monotonic()
    twins = _twins(buses, compare)
    written = cpu_s = 0.0
    done = 0
    if workers <= 1:
        for bus in buses:
            written += bring_up_bus(services, bus, full_catalogue)
            done += 1
            _progress(done, len(buses), started)
    else:
        context = multiprocessing.get_context("fork")
        # The stand-in keeps connections alive (as AWS does), and a forked child inherits
        # the lean client's open socket with the process-wide wire: parent and children
        # would read each other's answers. Closed here, each process opens its own.
        shared_wire().close()
        with context.Pool(workers, initializer=_start_worker, initargs=(env,)) as pool:
            tasks = ((chunk, full_catalogue) for chunk in _chunks(buses, CHUNK))
            for chunk, chunk_written, chunk_cpu in pool.imap(_bring_up_chunk, tasks):
                for bus in chunk:  # the worker's copy went on: its clock, seq, registers
                    buses[done].__dict__.update(bus.__dict__)
                    done += 1
                    if done % PROGRESS_EVERY == 0 or done == len(buses):
                        _progress(done, len(buses), started)
                written += chunk_written
                cpu_s += chunk_cpu
    wall_s = time.monotonic() - started
    check = same_as_serial(services, twins, full_catalogue)
    return {
        "buses": len(buses),
        "items_written": int(written),
        "full_catalogue": full_catalogue,
        "workers": workers,
        "wall_s": round(wall_s, 1),
        "worker_cpu_s": round(cpu_s, 1) if workers > 1 else None,
        "same_as_serial": check,
    }


def _progress(done: int, total: int, started: float) -> None:
    if done % PROGRESS_EVERY and done != total:
        return
    elapsed = time.monotonic() - started
    left = elapsed / done * (total - done)
    print(f"   brought up {done}/{total} buses, {elapsed:.0f} s, ~{left:.0f} s to go", flush=True)


# --- the check ---


def _twins(buses: list[Bus], count: int) -> list[tuple[Bus, Bus]]:
    """(bus, its copy under another company id) for ``count`` buses spread over the list,
    copied before either is brought up."""
    if count <= 0 or not buses:
        return []
    stride = max(1, len(buses) // count)
    pairs = []
    for bus in buses[::stride][:count]:
        twin = copy.deepcopy(bus)
        twin.company = f"{bus.company}-serial"
        twin.thing = thing_name_for(twin.company, twin.gateway)
        pairs.append((bus, twin))
    return pairs


def same_as_serial(
    services: Container, twins: list[tuple[Bus, Bus]], full_catalogue: bool
) -> dict[str, Any]:
    """Bring each twin up through the serial path in this process, then compare every
    item the two wrote (state and bus item, cycles, gateway, accounts), with the twin's
    company id written back to the original's. Raises on any difference."""
    compared = 0
    for bus, twin in twins:
        bring_up_bus(services, twin, full_catalogue)
        ours, theirs = _stored(bus, full_catalogue), _stored(twin, full_catalogue)
        theirs_as_ours = json.loads(
            _as_text(theirs).replace(twin.thing, bus.thing).replace(twin.company, bus.company)
        )
        ours = json.loads(_as_text(ours))
        if ours != theirs_as_ours:
            differing = {
                key: sorted(
                    name
                    for name in set(ours.get(key) or {}) | set(theirs_as_ours.get(key) or {})
                    if (ours.get(key) or {}).get(name) != (theirs_as_ours.get(key) or {}).get(name)
                )
                for key in sorted(set(ours) | set(theirs_as_ours))
                if ours.get(key) != theirs_as_ours.get(key)
            }
            raise BringUpMismatchError(
                f"bring-up of {bus.company} in the pool differs from the serial path: {differing}"
            )
        compared += len(ours)
    return {
        "buses_compared": len(twins),
        "items_compared": compared,
        "identical": True,
        "how": (
            "each compared bus was copied before bring-up under another company id; the copy "
            "went through the serial path (bring_up_bus in the bench's own process), the bus "
            "through the worker pool; every item both wrote (state and bus item, first cycle, "
            "gateway, accounts) read back and compared as stored, company id written out"
        ),
    }


def _stored(bus: Bus, full_catalogue: bool) -> dict[str, Any]:
    """Every item the bring-up of ``bus`` wrote, as stored (DynamoDB JSON), by key."""
    pk = keys.gateway_data_pk(bus.company, bus.gateway)
    # the bus's data partition: its state and bus item, its cycle
    found = {
        f"{type(item).__name__} {item.sk}": item.serialize()
        for item in PowerletItem.query(pk, consistent_read=True)
    }
    for item in found.values():
        # the due index's shard is a hash of the company id: checked, then written out
        duepk = item.get("duepk", {}).get("S")
        if duepk:
            head, _, shard = duepk.rpartition("#")
            if int(shard) != shard_of(bus.company, bus.gateway, None):
                raise BringUpMismatchError(f"{bus.company}: silence deadline on shard {shard}")
            item["duepk"] = {"S": f"{head}#(shard of the company)"}
    for item in written_items(bus, full_catalogue):
        stored = type(item).get(item.pk, item.sk, consistent_read=True)
        found[f"{type(item).__name__} {item.sk}"] = stored.serialize()
    return found


def _cold_opened(text: str) -> str:
    """A packed context with its separately compressed part (``cold``) opened too."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict) and isinstance(value.get("cold"), str):
        cold = zlib.decompress(base64.b64decode(value["cold"])).decode()
        return json.dumps({**value, "cold": cold}, sort_keys=True)
    return text


def _as_text(items: dict[str, Any]) -> str:
    """Items as JSON text, compressed attributes opened (the company id is inside)."""

    def opened(value: Any) -> Any:
        if isinstance(value, bytes):
            try:
                return {"zlib": _cold_opened(zlib.decompress(value).decode())}
            except zlib.error:
                return {"b64": base64.b64encode(value).decode()}
        raise TypeError(f"cannot compare {type(value).__name__}")

    # A relay command's id ends in a random token (pipeline/control.py new_command_id):
    # the serial path differs from itself there.
    return _COMMAND_TOKEN.sub(r"\1-(token)", json.dumps(items, sort_keys=True, default=opened))


_COMMAND_TOKEN = re.compile(r"(c[0-9]{13})-[0-9a-f]{6}")


def default_workers() -> int:
    """One more process than cores (measured on 2 cores, 48 buses a setting, the machine
    shared and loaded: 1.43 buses/s with 1 worker, 1.58 with 2, 1.82 with 3, 1.95 with
    4): a worker waits on the stand-in for part of each bus, and the stand-in needs a
    core's share too. At most 4."""
    return max(1, min(4, (os.cpu_count() or 1) + 1))
